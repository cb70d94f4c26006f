#include "datasets/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(char *out, const unsigned char *d, unsigned n) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

db_status db_file_digest(const char *path, db_digest *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    EVP_MD_CTX *md5 = EVP_MD_CTX_new(), *sha = EVP_MD_CTX_new();
    db_status s = DB_OK;
    if (!md5 || !sha || !EVP_DigestInit_ex(md5, EVP_md5(), NULL) || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL))
        s = db_fail(DB_ERR_INTERNAL, "OpenSSL: cannot start a digest");
    unsigned char *buf = malloc(1 << 16);
    if (!buf && s == DB_OK) s = db_fail(DB_ERR_NOMEM, "out of memory");
    size_t got;
    while (s == DB_OK && (got = fread(buf, 1, 1 << 16, f)) > 0) {
        if (!EVP_DigestUpdate(md5, buf, got) || !EVP_DigestUpdate(sha, buf, got))
            s = db_fail(DB_ERR_INTERNAL, "OpenSSL: digest update failed");
        out->bytes += (int64_t)got;
    }
    if (s == DB_OK && ferror(f)) s = db_fail(DB_ERR_IO, "%s: read error: %s", path, strerror(errno));
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (s == DB_OK && EVP_DigestFinal_ex(md5, d, &n)) hex(out->md5, d, n);
    else if (s == DB_OK) s = db_fail(DB_ERR_INTERNAL, "OpenSSL: MD5 failed");
    if (s == DB_OK && EVP_DigestFinal_ex(sha, d, &n)) hex(out->sha256, d, n);
    else if (s == DB_OK) s = db_fail(DB_ERR_INTERNAL, "OpenSSL: SHA-256 failed");
    free(buf);
    EVP_MD_CTX_free(md5);
    EVP_MD_CTX_free(sha);
    fclose(f);
    return s;
}
