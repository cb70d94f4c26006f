#include "tests/check.h"
const db_test db_tests_train[] = {{NULL, NULL}};
