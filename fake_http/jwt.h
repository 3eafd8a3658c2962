/* jwt.h: Twilio access tokens: HS256 JSON Web Tokens as the helper libraries' AccessToken
 * mints them (header cty "twilio-fpa;v=1"; payload jti, iss = API key SID, sub = account SID,
 * iat, exp, optional nbf, grants {identity, data_sync {service_sid}}), signed with the API
 * key's secret. */
#ifndef SF_JWT_H
#define SF_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_jwt_claims {
    char iss[64];           /* API key SID */
    char sub[64];           /* account SID */
    char identity[257];
    char service_sid[64];   /* grants.data_sync.service_sid, "" when absent */
    int64_t iat, exp, nbf;  /* seconds since the epoch; nbf 0 when absent */
} sf_jwt_claims;

typedef enum sf_jwt_result {
    SF_JWT_OK = 0,
    SF_JWT_MALFORMED,       /* not three base64url parts, bad JSON, wrong alg, missing claims */
    SF_JWT_UNKNOWN_KEY,     /* iss names no key the lookup knows */
    SF_JWT_BAD_SIGNATURE,
    SF_JWT_EXPIRED,         /* now >= exp */
    SF_JWT_NOT_YET_VALID    /* now < nbf */
} sf_jwt_result;

/* Finds the secret of API key `key_sid` (and the account it belongs to). */
typedef bool (*sf_jwt_lookup_fn)(void *user, const char *key_sid, char *secret,
                                 size_t secret_cap, char *account_sid, size_t account_cap);

/* Verifies `token` at `now_s` (seconds): signature with the looked-up secret, sub equal to the
 * key's account, exp/nbf. Fills *out when the token could be decoded (also for EXPIRED). */
sf_jwt_result sf_jwt_verify(const char *token, sf_jwt_lookup_fn lookup, void *user,
                            int64_t now_s, sf_jwt_claims *out);

/* Mints a token like the helper libraries do. Returns the length written (NUL excluded), or 0
 * when `cap` is too small. */
size_t sf_jwt_mint(const char *key_sid, const char *secret, const char *account_sid,
                   const char *identity, const char *service_sid, int64_t iat, int64_t exp,
                   char *out, size_t cap);

#endif
