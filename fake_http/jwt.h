/* SPDX-License-Identifier: MIT */
/* jwt.h: Twilio access tokens: HS256 JSON Web Tokens as the helper libraries' AccessToken
 * mints them (header cty "twilio-fpa;v=1"; payload jti, iss = API key SID, sub = account SID,
 * iat, exp, optional nbf, grants {identity, data_sync {service_sid}}), signed with the API
 * key's secret. */
#ifndef SF_JWT_H
#define SF_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_JWT_MAX_TOKEN 8192 /* a token of this many characters or more is MALFORMED */

typedef struct sf_jwt_claims {
    char iss[64]; /* API key SID */
    char sub[64]; /* account SID */
    char identity[257];
    char service_sid[64];  /* grants.data_sync.service_sid, "" when absent */
    int64_t iat, exp, nbf; /* seconds since the epoch; nbf 0 when absent */
} sf_jwt_claims;

typedef enum sf_jwt_result {
    SF_JWT_OK = 0,
    SF_JWT_MALFORMED,   /* not three base64url parts, bad JSON, wrong alg, missing claims */
    SF_JWT_UNKNOWN_KEY, /* iss names no key the lookup knows, or a key of an account
                           other than sub (checked before the signature) */
    SF_JWT_BAD_SIGNATURE,
    SF_JWT_EXPIRED,      /* now >= exp */
    SF_JWT_NOT_YET_VALID /* now < nbf */
} sf_jwt_result;

/* Finds the secret of API key `key_sid` (and the account it belongs to). */
typedef bool (*sf_jwt_lookup_fn)(void *user, const char *key_sid, char *secret, size_t secret_cap,
                                 char *account_sid, size_t account_cap);

/* Verifies `token` at `now_s` (seconds): signature with the looked-up secret, sub equal to the
 * key's account, exp/nbf. Fills *out when the token could be decoded (also for EXPIRED),
 * else zeroes it. Strict: three unpadded canonical base64url parts, header and payload strict
 * JSON objects, header alg "HS256" (typ "JWT" when present), iss, sub and exp required (iat,
 * nbf and the grants optional; numbers are integers), a 32-byte signature. Checks in order:
 * MALFORMED, UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED, NOT_YET_VALID. */
sf_jwt_result sf_jwt_verify(const char *token, sf_jwt_lookup_fn lookup, void *user, int64_t now_s,
                            sf_jwt_claims *out);

/* Mints a token like the helper libraries do (byte for byte what twilio-node 6.3.1's
 * AccessToken + SyncGrant writes for the same inputs, without nbf). identity NULL leaves out
 * grants.identity, service_sid NULL leaves data_sync empty. Returns the length written (NUL
 * excluded), or 0 when `cap` is too small (or an argument is NULL, or out of memory). */
size_t sf_jwt_mint(const char *key_sid, const char *secret, const char *account_sid,
                   const char *identity, const char *service_sid, int64_t iat, int64_t exp,
                   char *out, size_t cap);

#endif
