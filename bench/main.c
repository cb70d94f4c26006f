#include <stdio.h>
int main(void) { puts("dropbench"); return 0; }
