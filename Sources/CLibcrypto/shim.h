// OpenSSL 3 marks the MD5_* functions deprecated in favour of EVP, whose contexts live on the
// heap; RadiusProtocol's MD5 wants its state on the stack (see MD5.swift there).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
