/* SPDX-License-Identifier: MIT */
/* test_jwt.c: Twilio access tokens (fake_http/jwt.h): mint -> verify, a token minted by the
 * official helper library (twilio-node 6.3.1's AccessToken + SyncGrant), signatures, keys and
 * accounts, exp/nbf, and malformed tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

#define ACCOUNT "AC00000000000000000000000000000001"
#define OTHER_ACCOUNT "AC00000000000000000000000000000009"
#define KEY "SK00000000000000000000000000000002"
#define OTHER_KEY "SK00000000000000000000000000000008" /* belongs to OTHER_ACCOUNT */
#define SECRET "fixed-test-secret-0123456789abcdef"
#define SERVICE "IS00000000000000000000000000000003"

/* Minted once with node (twilio@6.3.1, clock at iat 1795811099):
 *   new AccessToken(ACCOUNT, KEY, SECRET, {identity: 'alice', ttl: 3600})
 *   .addGrant(new SyncGrant({serviceSid: SERVICE})).toJwt() */
static const char OFFICIAL[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0."
    "eyJqdGkiOiJTSzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyLTE3OTU4MTEwOTkiLCJncmFudHMiOnsi"
    "aWRlbnRpdHkiOiJhbGljZSIsImRhdGFfc3luYyI6eyJzZXJ2aWNlX3NpZCI6IklTMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDMifX0sImlhdCI6MTc5NTgxMTA5OSwiZXhwIjoxNzk1ODE0Njk5LCJpc3MiOiJTSzAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAyIiwic3ViIjoiQUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMSJ9."
    "uwa9sHg5tioiW6dccyuJZXUXc48YhjKXV4aPCsfNmmA";
#define OFFICIAL_IAT 1795811099
#define OFFICIAL_EXP 1795814699
/* its payload, decoded */
static const char OFFICIAL_PAYLOAD[] =
    "{\"jti\":\"SK00000000000000000000000000000002-1795811099\",\"grants\":{\"identity\":"
    "\"alice\",\"data_sync\":{\"service_sid\":\"IS00000000000000000000000000000003\"}},"
    "\"iat\":1795811099,\"exp\":1795814699,\"iss\":\"SK00000000000000000000000000000002\","
    "\"sub\":\"AC00000000000000000000000000000001\"}";
static const char HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"cty\":\"twilio-fpa;v=1\"}";

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static unsigned lookups;

static bool lookup(void *user, const char *key_sid, char *secret, size_t secret_cap,
                   char *account_sid, size_t account_cap)
{
    (void)user;
    lookups++;
    const char *account;
    if (strcmp(key_sid, KEY) == 0)
        account = ACCOUNT;
    else if (strcmp(key_sid, OTHER_KEY) == 0)
        account = OTHER_ACCOUNT;
    else
        return false;
    snprintf(secret, secret_cap, "%s", SECRET);
    snprintf(account_sid, account_cap, "%s", account);
    return true;
}

static void b64url(const uint8_t *in, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

/* A token over the given header and payload JSON, signed with `secret`. malloc'd. */
static char *sign(const char *header, const char *payload, const char *secret)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *t = malloc(hl * 2 + pl * 2 + 64);
    assert_non_null(t);
    b64url((const uint8_t *)header, hl, t);
    strcat(t, ".");
    b64url((const uint8_t *)payload, pl, t + strlen(t));
    struct hmac_sha256_ctx ctx;
    uint8_t mac[SHA256_DIGEST_SIZE];
    hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
    hmac_sha256_update(&ctx, strlen(t), (const uint8_t *)t);
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    strcat(t, ".");
    b64url(mac, sizeof mac, t + strlen(t));
    return t;
}

static sf_jwt_result verify(const char *token, int64_t now, sf_jwt_claims *c)
{
    return sf_jwt_verify(token, lookup, NULL, now, c);
}

/* Verifies a token signed with SECRET over HEADER and `payload`. */
static sf_jwt_result verify_payload(const char *payload, int64_t now, sf_jwt_claims *c)
{
    char *t = sign(HEADER, payload, SECRET);
    sf_jwt_result r = verify(t, now, c);
    free(t);
    return r;
}

static sf_jwt_result verify_header(const char *header)
{
    char *t = sign(header, OFFICIAL_PAYLOAD, SECRET);
    sf_jwt_claims c;
    sf_jwt_result r = verify(t, OFFICIAL_IAT, &c);
    free(t);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_official_token(void **state)
{
    (void)state;
    sf_jwt_claims c;
    assert_int_equal(verify(OFFICIAL, OFFICIAL_IAT + 10, &c), SF_JWT_OK);
    assert_string_equal(c.iss, KEY);
    assert_string_equal(c.sub, ACCOUNT);
    assert_string_equal(c.identity, "alice");
    assert_string_equal(c.service_sid, SERVICE);
    assert_int_equal(c.iat, OFFICIAL_IAT);
    assert_int_equal(c.exp, OFFICIAL_EXP);
    assert_int_equal(c.nbf, 0);
    assert_int_equal(verify(OFFICIAL, OFFICIAL_IAT, &c), SF_JWT_OK);
    assert_int_equal(verify(OFFICIAL, OFFICIAL_EXP - 1, &c), SF_JWT_OK);
    /* our signer agrees with the helper's on the same text */
    char *t = sign(HEADER, OFFICIAL_PAYLOAD, SECRET);
    assert_string_equal(t, OFFICIAL);
    free(t);
}

static void test_mint_matches_official(void **state)
{
    (void)state;
    char out[1024];
    size_t n = sf_jwt_mint(KEY, SECRET, ACCOUNT, "alice", SERVICE, OFFICIAL_IAT, OFFICIAL_EXP, out,
                           sizeof out);
    assert_int_equal(n, strlen(OFFICIAL));
    assert_string_equal(out, OFFICIAL);
    /* exactly enough room (the NUL included), then one byte less */
    char *exact = malloc(n + 1);
    assert_non_null(exact);
    assert_int_equal(sf_jwt_mint(KEY, SECRET, ACCOUNT, "alice", SERVICE, OFFICIAL_IAT, OFFICIAL_EXP,
                                 exact, n + 1),
                     n);
    assert_string_equal(exact, OFFICIAL);
    assert_int_equal(
        sf_jwt_mint(KEY, SECRET, ACCOUNT, "alice", SERVICE, OFFICIAL_IAT, OFFICIAL_EXP, exact, n),
        0);
    free(exact);
    char tiny[16];
    assert_int_equal(sf_jwt_mint(KEY, SECRET, ACCOUNT, "alice", SERVICE, 1, 2, tiny, sizeof tiny),
                     0);
    assert_int_equal(sf_jwt_mint(KEY, SECRET, ACCOUNT, "alice", SERVICE, 1, 2, tiny, 0), 0);
    assert_int_equal(sf_jwt_mint(NULL, SECRET, ACCOUNT, "alice", SERVICE, 1, 2, out, sizeof out),
                     0);
}

static void test_mint_verify(void **state)
{
    (void)state;
    char out[2048];
    const char *identities[] = {"bob", "", "quote\" back\\slash\nnew\x01 caf\xc3\xa9",
                                "\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof identities / sizeof identities[0]; i++) {
        assert_true(sf_jwt_mint(KEY, SECRET, ACCOUNT, identities[i], SERVICE, 1000, 4600, out,
                                sizeof out) > 0);
        sf_jwt_claims c;
        assert_int_equal(verify(out, 2000, &c), SF_JWT_OK);
        assert_string_equal(c.identity, identities[i]);
        assert_string_equal(c.service_sid, SERVICE);
        assert_string_equal(c.iss, KEY);
        assert_string_equal(c.sub, ACCOUNT);
        assert_int_equal(c.iat, 1000);
        assert_int_equal(c.exp, 4600);
    }
    /* no identity, no service */
    assert_true(sf_jwt_mint(KEY, SECRET, ACCOUNT, NULL, NULL, 1000, 4600, out, sizeof out) > 0);
    sf_jwt_claims c;
    assert_int_equal(verify(out, 2000, &c), SF_JWT_OK);
    assert_string_equal(c.identity, "");
    assert_string_equal(c.service_sid, "");
    /* out may be NULL */
    assert_int_equal(sf_jwt_verify(out, lookup, NULL, 2000, NULL), SF_JWT_OK);
}

static void test_tampered(void **state)
{
    (void)state;
    sf_jwt_claims c;
    /* the official payload with one byte of the identity changed, the signature kept */
    char payload[sizeof OFFICIAL_PAYLOAD];
    memcpy(payload, OFFICIAL_PAYLOAD, sizeof payload);
    char *alice = strstr(payload, "alice");
    assert_non_null(alice);
    alice[4] = 'a'; /* "alica" */
    char *forged = sign(HEADER, payload, "not the secret");
    const char *official_sig = strrchr(OFFICIAL, '.');
    strcpy(strrchr(forged, '.'), official_sig);
    assert_int_equal(verify(forged, OFFICIAL_IAT, &c), SF_JWT_BAD_SIGNATURE);
    assert_string_equal(c.identity, "alica"); /* filled: it could be decoded */
    free(forged);
    /* one signature character changed (the first: the last has padding bits) */
    char sig[sizeof OFFICIAL];
    strcpy(sig, OFFICIAL);
    char *s = strrchr(sig, '.') + 1;
    s[0] = s[0] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(sig, OFFICIAL_IAT, &c), SF_JWT_BAD_SIGNATURE);
    /* signatures of the wrong length: 3 bytes, 33 bytes */
    strcpy(sig, OFFICIAL);
    strcpy(strrchr(sig, '.') + 1, "AAAA");
    assert_int_equal(verify(sig, OFFICIAL_IAT, &c), SF_JWT_BAD_SIGNATURE);
    char longer[sizeof OFFICIAL + 1];
    snprintf(longer, sizeof longer, "%sA", OFFICIAL); /* 44 characters: 33 bytes */
    assert_int_equal(verify(longer, OFFICIAL_IAT, &c), SF_JWT_BAD_SIGNATURE);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    char *t = sign(HEADER, OFFICIAL_PAYLOAD, SECRET "x");
    sf_jwt_claims c;
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_BAD_SIGNATURE);
    free(t);
    char out[1024];
    assert_true(sf_jwt_mint(KEY, "another secret", ACCOUNT, "a", SERVICE, 1, 100, out, sizeof out) >
                0);
    assert_int_equal(verify(out, 50, &c), SF_JWT_BAD_SIGNATURE);
    assert_string_equal(c.identity, "a");
}

static void test_unknown_key_and_account(void **state)
{
    (void)state;
    char out[1024];
    sf_jwt_claims c;
    assert_true(sf_jwt_mint("SK0000000000000000000000000000000f", SECRET, ACCOUNT, "a", SERVICE, 1,
                            100, out, sizeof out) > 0);
    assert_int_equal(verify(out, 50, &c), SF_JWT_UNKNOWN_KEY);
    assert_string_equal(c.iss, "SK0000000000000000000000000000000f");
    /* sub names another account than the key's: UNKNOWN_KEY (that account has no such key),
     * even with a valid signature */
    assert_true(sf_jwt_mint(KEY, SECRET, OTHER_ACCOUNT, "a", SERVICE, 1, 100, out, sizeof out) > 0);
    assert_int_equal(verify(out, 50, &c), SF_JWT_UNKNOWN_KEY);
    assert_true(sf_jwt_mint(OTHER_KEY, SECRET, ACCOUNT, "a", SERVICE, 1, 100, out, sizeof out) > 0);
    assert_int_equal(verify(out, 50, &c), SF_JWT_UNKNOWN_KEY);
    assert_true(
        sf_jwt_mint(OTHER_KEY, SECRET, OTHER_ACCOUNT, "a", SERVICE, 1, 100, out, sizeof out) > 0);
    assert_int_equal(verify(out, 50, &c), SF_JWT_OK);
}

static void test_exp_nbf(void **state)
{
    (void)state;
    sf_jwt_claims c;
    assert_int_equal(verify(OFFICIAL, OFFICIAL_EXP, &c), SF_JWT_EXPIRED);
    assert_string_equal(c.identity, "alice"); /* filled also when expired */
    assert_int_equal(c.exp, OFFICIAL_EXP);
    assert_int_equal(verify(OFFICIAL, OFFICIAL_EXP + 100000, &c), SF_JWT_EXPIRED);
    /* nbf */
    const char *p = "{\"iss\":\"" KEY "\",\"sub\":\"" ACCOUNT "\",\"iat\":100,\"nbf\":200,"
                    "\"exp\":300}";
    assert_int_equal(verify_payload(p, 199, &c), SF_JWT_NOT_YET_VALID);
    assert_int_equal(c.nbf, 200);
    assert_int_equal(verify_payload(p, 200, &c), SF_JWT_OK);
    assert_int_equal(verify_payload(p, 299, &c), SF_JWT_OK);
    assert_int_equal(verify_payload(p, 300, &c), SF_JWT_EXPIRED);
    assert_int_equal(verify_payload(p, 50, &c), SF_JWT_NOT_YET_VALID);
    /* a token before its iat is fine (clock skew): only nbf limits it */
    assert_int_equal(verify(OFFICIAL, OFFICIAL_IAT - 1000, &c), SF_JWT_OK);
    /* minimal claims: iss, sub, exp */
    assert_int_equal(
        verify_payload("{\"iss\":\"" KEY "\",\"sub\":\"" ACCOUNT "\",\"exp\":9}", 8, &c),
        SF_JWT_OK);
    assert_int_equal(c.iat, 0);
    assert_string_equal(c.identity, "");
}

static void test_bad_header(void **state)
{
    (void)state;
    assert_int_equal(verify_header("{\"alg\":\"HS256\"}"), SF_JWT_OK);
    assert_int_equal(verify_header("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"x\"}"), SF_JWT_OK);
    assert_int_equal(verify_header("{\"alg\":\"none\",\"typ\":\"JWT\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS512\",\"typ\":\"JWT\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"hs256\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS256 \"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"typ\":\"JWT\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS256\",\"typ\":\"JWE\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS256\",\"typ\":1}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":[\"HS256\"]}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS256\",\"alg\":\"none\"}"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("{\"alg\":\"HS256\""), SF_JWT_MALFORMED);
    assert_int_equal(verify_header("[\"HS256\"]"), SF_JWT_MALFORMED);
    assert_int_equal(verify_header(""), SF_JWT_MALFORMED);
    /* alg none with an empty signature: three parts, the last empty */
    char t[1024];
    b64url((const uint8_t *)"{\"alg\":\"none\"}", 14, t);
    strcat(t, ".");
    b64url((const uint8_t *)OFFICIAL_PAYLOAD, strlen(OFFICIAL_PAYLOAD), t + strlen(t));
    strcat(t, ".");
    sf_jwt_claims c;
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
}

#define ISS "\"iss\":\"" KEY "\""
#define SUB "\"sub\":\"" ACCOUNT "\""

static void test_bad_claims(void **state)
{
    (void)state;
    sf_jwt_claims c;
    const char *bad[] = {
        "{" SUB ",\"exp\":9}",             /* no iss */
        "{" ISS ",\"exp\":9}",             /* no sub */
        "{" ISS "," SUB "}",               /* no exp */
        "{" ISS "," SUB ",\"exp\":\"9\"}", /* exp a string */
        "{" ISS "," SUB ",\"exp\":9.5}",   /* not an integer */
        "{" ISS "," SUB ",\"exp\":9e3}",
        "{" ISS "," SUB ",\"exp\":99999999999999999999}", /* overflow */
        "{" ISS "," SUB ",\"exp\":9,\"iat\":null}",
        "{" ISS "," SUB ",\"exp\":9,\"nbf\":true}",
        "{" ISS "," SUB ",\"exp\":9,\"exp\":10}", /* duplicate */
        "{" ISS "," ISS "," SUB ",\"exp\":9}",
        "{\"iss\":5," SUB ",\"exp\":9}",
        "{\"iss\":\"\"," SUB ",\"exp\":9}", /* empty */
        "{" ISS ",\"sub\":\"\",\"exp\":9}",
        "{" ISS "," SUB ",\"exp\":9,\"grants\":[]}",
        "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"identity\":1}}",
        "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"data_sync\":\"IS\"}}",
        "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"data_sync\":{\"service_sid\":[]}}}",
        "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"identity\":\"a\\u0000b\"}}",
        "{" ISS "," SUB ",\"exp\":9,}", /* not strict JSON */
        "{" ISS "," SUB ",\"exp\":09}",
        "[" ISS "]",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lookups = 0;
        if (verify_payload(bad[i], 1, &c) != SF_JWT_MALFORMED)
            fail_msg("accepted payload %s", bad[i]);
        assert_int_equal(lookups, 0);
        assert_string_equal(c.iss, ""); /* zeroed */
    }
}

/* Oversize fields: an identity of 256 bytes is fine, 257 is not; a sub of 63 is, 64 not. */
static void test_oversize_claims(void **state)
{
    (void)state;
    sf_jwt_claims c;
    char p[1024], id[300];
    memset(id, 'i', sizeof id);
    id[256] = '\0';
    snprintf(p, sizeof p, "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"identity\":\"%s\"}}", id);
    assert_int_equal(verify_payload(p, 1, &c), SF_JWT_OK);
    assert_int_equal(strlen(c.identity), 256);
    id[256] = 'i';
    id[257] = '\0';
    snprintf(p, sizeof p, "{" ISS "," SUB ",\"exp\":9,\"grants\":{\"identity\":\"%s\"}}", id);
    assert_int_equal(verify_payload(p, 1, &c), SF_JWT_MALFORMED);
    memset(id, 's', 64);
    id[64] = '\0';
    snprintf(p, sizeof p, "{" ISS ",\"sub\":\"%s\",\"exp\":9}", id);
    assert_int_equal(verify_payload(p, 1, &c), SF_JWT_MALFORMED);
    id[63] = '\0';
    snprintf(p, sizeof p, "{" ISS ",\"sub\":\"%s\",\"exp\":9}", id);
    assert_int_equal(verify_payload(p, 1, &c), SF_JWT_UNKNOWN_KEY); /* decoded, not our account */
    assert_string_equal(c.sub, id);
}

/* Negative and extreme integers are integers; one past INT64_MAX is not. */
static void test_extreme_exp_claims(void **state)
{
    (void)state;
    sf_jwt_claims c;
    assert_int_equal(verify_payload("{" ISS "," SUB ",\"exp\":-9223372036854775808}", 1, &c),
                     SF_JWT_EXPIRED);
    assert_int_equal(c.exp, INT64_MIN);
    assert_int_equal(verify_payload("{" ISS "," SUB ",\"exp\":9223372036854775807}", 1, &c),
                     SF_JWT_OK);
    assert_int_equal(verify_payload("{" ISS "," SUB ",\"exp\":9223372036854775808}", 1, &c),
                     SF_JWT_MALFORMED);
}
#undef ISS
#undef SUB

static void test_bad_shape(void **state)
{
    (void)state;
    sf_jwt_claims c;
    char t[2048];
    const char *dot1 = strchr(OFFICIAL, '.'), *dot2 = strrchr(OFFICIAL, '.');
    /* 2 parts */
    snprintf(t, sizeof t, "%.*s", (int)(dot2 - OFFICIAL), OFFICIAL);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* 4 parts */
    snprintf(t, sizeof t, "%s.%s", OFFICIAL, dot2 + 1);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    snprintf(t, sizeof t, "%s.", OFFICIAL);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* empty parts */
    assert_int_equal(verify("..", 0, &c), SF_JWT_MALFORMED);
    assert_int_equal(verify("", 0, &c), SF_JWT_MALFORMED);
    assert_int_equal(verify(".", 0, &c), SF_JWT_MALFORMED);
    snprintf(t, sizeof t, "%.*s.", (int)(dot2 - OFFICIAL), OFFICIAL);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    snprintf(t, sizeof t, ".%s", dot1 + 1);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* padding: the header (68 chars) with "=" is not base64url-without-padding */
    snprintf(t, sizeof t, "%.*s=%s", (int)(dot2 - OFFICIAL), OFFICIAL, dot2);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    snprintf(t, sizeof t, "%s=", OFFICIAL); /* signature is 43 chars: "=" would pad it */
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* arguments */
    assert_int_equal(verify(NULL, 0, &c), SF_JWT_MALFORMED);
    assert_int_equal(sf_jwt_verify(OFFICIAL, NULL, NULL, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* header and payload bytes that are not JSON */
    snprintf(t, sizeof t, "AAAA%s", dot1);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
}

/* Not base64url without padding: the base64 alphabet, spaces, a character outside, a length
 * of 1 mod 4, a set padding bit. */
static void test_bad_base64url(void **state)
{
    (void)state;
    sf_jwt_claims c;
    char t[2048];
    /* base64 (not url) alphabet, spaces, a character outside */
    const char *swaps[] = {"+", "/", " ", "*", "\x80"};
    for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++) {
        strcpy(t, OFFICIAL);
        t[10] = swaps[i][0];
        assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    }
    /* a length of 1 mod 4 */
    snprintf(t, sizeof t, "%sAA", OFFICIAL);
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    /* non-canonical: the last signature char with a padding bit set ('A'... 'a' = 26) */
    strcpy(t, OFFICIAL);
    char *last = t + strlen(t) - 1;
    assert_int_equal(*last, 'A');
    *last = 'B';
    assert_int_equal(verify(t, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
}

/* Tokens of the size limit or more are refused, even ones minted with a huge identity. */
static void test_huge_tokens(void **state)
{
    (void)state;
    sf_jwt_claims c;
    const char *dot2 = strrchr(OFFICIAL, '.');
    /* huge tokens */
    size_t n = SF_JWT_MAX_TOKEN + 100;
    char *huge = malloc(n + 1);
    assert_non_null(huge);
    memset(huge, 'A', n);
    huge[n] = '\0';
    memcpy(huge, OFFICIAL, dot2 + 1 - OFFICIAL);
    assert_int_equal(verify(huge, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    huge[SF_JWT_MAX_TOKEN] = '\0'; /* exactly the limit: still refused */
    assert_int_equal(verify(huge, OFFICIAL_IAT, &c), SF_JWT_MALFORMED);
    free(huge);
    /* a huge identity the token limit cuts off before the JSON */
    char *big = malloc(SF_JWT_MAX_TOKEN);
    assert_non_null(big);
    memset(big, 'x', SF_JWT_MAX_TOKEN - 1);
    big[SF_JWT_MAX_TOKEN - 1] = '\0';
    char *out = malloc(4 * SF_JWT_MAX_TOKEN);
    assert_non_null(out);
    assert_true(sf_jwt_mint(KEY, SECRET, ACCOUNT, big, SERVICE, 1, 100, out, 4 * SF_JWT_MAX_TOKEN) >
                SF_JWT_MAX_TOKEN);
    assert_int_equal(verify(out, 50, &c), SF_JWT_MALFORMED);
    free(out);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_token),
        cmocka_unit_test(test_mint_matches_official),
        cmocka_unit_test(test_mint_verify),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_unknown_key_and_account),
        cmocka_unit_test(test_exp_nbf),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_claims),
        cmocka_unit_test(test_oversize_claims),
        cmocka_unit_test(test_extreme_exp_claims),
        cmocka_unit_test(test_bad_shape),
        cmocka_unit_test(test_bad_base64url),
        cmocka_unit_test(test_huge_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
