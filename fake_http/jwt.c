/* SPDX-License-Identifier: MIT */
/* jwt.c: Twilio access tokens (jwt.h): HS256 JWTs, HMAC-SHA256 from nettle.
 *
 * base64url is done here rather than with nettle's base64url_* so that decoding is strict:
 * the URL-safe alphabet only, no '=' padding, no length of 1 mod 4, and the unused low bits
 * of the last character zero (one text per byte string, so a token cannot be altered without
 * changing its signature input). */
#include "jwt.h"

#include "codec.h"
#include "json_field.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_MAX_TOKENS 256 /* jsmn budget for the header and the payload */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decodes s[0..len) into out (capacity >= len * 3 / 4 + 1); false when not canonical
 * unpadded base64url. */
static bool b64url_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    if (len == 0 || len % 4 == 1)
        return false;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = sf_http_base64_digit(s[i], true);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-zero padding bits */
        return false;
    *out_len = o;
    return true;
}

/* Encodes into out (room for b64url_len(len) + 1); returns the length written. */
static size_t b64url_len(size_t len) { return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0); }

static size_t b64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = B64URL[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = B64URL[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    return o;
}

static void hs256(const char *secret, const char *msg, size_t msg_len,
                  uint8_t mac[SHA256_DIGEST_SIZE])
{
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
    hmac_sha256_update(&ctx, msg_len, (const uint8_t *)msg);
    hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, mac);
}

static bool check_header(const char *json, size_t len)
{
    sf_jf_doc doc;
    if (!sf_jf_parse_object(&doc, json, len, JWT_MAX_TOKENS))
        return false;
    char value[16];
    int alg = sf_jf_member(&doc, 0, "alg");
    int typ = sf_jf_member(&doc, 0, "typ");
    bool ok = alg >= 0 && sf_jf_string(&doc, alg, value, sizeof value) &&
              strcmp(value, "HS256") == 0 && typ != SF_JF_DUPLICATE &&
              (typ == SF_JF_ABSENT ||
               (sf_jf_string(&doc, typ, value, sizeof value) && strcmp(value, "JWT") == 0));
    sf_jf_free(&doc);
    return ok;
}

/* Member `key` of `obj` as a string; `required` or absent (out stays ""). */
static bool claim_string(const sf_jf_doc *doc, int obj, const char *key, bool required, char *out,
                         size_t cap)
{
    int v = sf_jf_member(doc, obj, key);
    if (v == SF_JF_ABSENT)
        return !required;
    return v >= 0 && sf_jf_string(doc, v, out, cap);
}

static bool claim_int(const sf_jf_doc *doc, const char *key, bool required, int64_t *out)
{
    int v = sf_jf_member(doc, 0, key);
    if (v == SF_JF_ABSENT)
        return !required;
    return v >= 0 && sf_jf_int(doc, v, out);
}

static bool read_claims(const char *json, size_t len, sf_jwt_claims *c)
{
    sf_jf_doc doc;
    if (!sf_jf_parse_object(&doc, json, len, JWT_MAX_TOKENS))
        return false;
    bool ok = claim_string(&doc, 0, "iss", true, c->iss, sizeof c->iss) &&
              claim_string(&doc, 0, "sub", true, c->sub, sizeof c->sub) &&
              claim_int(&doc, "exp", true, &c->exp) && claim_int(&doc, "iat", false, &c->iat) &&
              claim_int(&doc, "nbf", false, &c->nbf) && c->iss[0] && c->sub[0];
    int grants = ok ? sf_jf_member(&doc, 0, "grants") : SF_JF_ABSENT;
    if (grants == SF_JF_DUPLICATE || (grants >= 0 && sf_jf_kind_of(&doc, grants) != SF_JF_OBJECT))
        ok = false;
    if (ok && grants >= 0) {
        ok = claim_string(&doc, grants, "identity", false, c->identity, sizeof c->identity);
        int sync = ok ? sf_jf_member(&doc, grants, "data_sync") : SF_JF_ABSENT;
        if (sync == SF_JF_DUPLICATE || (sync >= 0 && sf_jf_kind_of(&doc, sync) != SF_JF_OBJECT))
            ok = false;
        if (ok && sync >= 0)
            ok = claim_string(&doc, sync, "service_sid", false, c->service_sid,
                              sizeof c->service_sid);
    }
    sf_jf_free(&doc);
    return ok;
}

static bool equal_const_time(const uint8_t *a, const uint8_t *b, size_t n)
{
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

/* A correctly signed token's verdict at now_s: expired, not yet valid, or valid. */
static sf_jwt_result in_time(const sf_jwt_claims *claims, int64_t now_s)
{
    if (now_s >= claims->exp)
        return SF_JWT_EXPIRED;
    if (claims->nbf != 0 && now_s < claims->nbf)
        return SF_JWT_NOT_YET_VALID;
    return SF_JWT_OK;
}

/* A well-formed token's verdict: its key (by `iss`, of account `sub`), its signature over
 * the first signed_len bytes, then its times. */
static sf_jwt_result judge(const char *token, size_t signed_len, const uint8_t *sig, size_t sig_len,
                           const sf_jwt_claims *claims, sf_jwt_lookup_fn lookup, void *user,
                           int64_t now_s)
{
    char secret[512], account[64];
    secret[0] = account[0] = '\0';
    if (!lookup(user, claims->iss, secret, sizeof secret, account, sizeof account))
        return SF_JWT_UNKNOWN_KEY;
    secret[sizeof secret - 1] = account[sizeof account - 1] = '\0';
    sf_jwt_result res = SF_JWT_UNKNOWN_KEY; /* a key of another account: `sub` knows none */
    if (strcmp(account, claims->sub) == 0) {
        uint8_t mac[SHA256_DIGEST_SIZE];
        hs256(secret, token, signed_len, mac);
        bool signed_ok = sig_len == SHA256_DIGEST_SIZE && equal_const_time(mac, sig, sig_len);
        res = signed_ok ? in_time(claims, now_s) : SF_JWT_BAD_SIGNATURE;
    }
    memset(secret, 0, sizeof secret);
    return res;
}

sf_jwt_result sf_jwt_verify(const char *token, sf_jwt_lookup_fn lookup, void *user, int64_t now_s,
                            sf_jwt_claims *out)
{
    sf_jwt_claims claims;
    memset(&claims, 0, sizeof claims);
    if (out)
        *out = claims;
    if (!token || !lookup)
        return SF_JWT_MALFORMED;
    size_t len = strnlen(token, SF_JWT_MAX_TOKEN);
    if (len >= SF_JWT_MAX_TOKEN)
        return SF_JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return SF_JWT_MALFORMED; /* not exactly three parts */
    size_t hb_len = (size_t)(dot1 - token), pb_len = (size_t)(dot2 - dot1 - 1);
    size_t sb_len = len - (size_t)(dot2 + 1 - token);

    /* one buffer for the three decoded parts, each NUL-terminated */
    uint8_t *buf = malloc(len + 3);
    if (!buf)
        return SF_JWT_MALFORMED;
    uint8_t *hdr = buf, *pay, *sig;
    size_t hdr_len, pay_len, sig_len;
    sf_jwt_result res = SF_JWT_MALFORMED;
    if (!b64url_decode(token, hb_len, hdr, &hdr_len))
        goto done;
    hdr[hdr_len] = '\0';
    pay = hdr + hdr_len + 1;
    if (!b64url_decode(dot1 + 1, pb_len, pay, &pay_len))
        goto done;
    pay[pay_len] = '\0';
    sig = pay + pay_len + 1;
    if (!b64url_decode(dot2 + 1, sb_len, sig, &sig_len))
        goto done;
    if (!check_header((const char *)hdr, hdr_len) ||
        !read_claims((const char *)pay, pay_len, &claims))
        goto done;
    if (out)
        *out = claims;
    res = judge(token, (size_t)(dot2 - token), sig, sig_len, &claims, lookup, user, now_s);
done:
    free(buf);
    return res;
}

/* Appends s JSON-escaped as JSON.stringify does; returns the length it needs. */
static size_t json_escape(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *short_form = NULL;
        switch (c) {
        case '"':
            short_form = "\\\"";
            break;
        case '\\':
            short_form = "\\\\";
            break;
        case '\b':
            short_form = "\\b";
            break;
        case '\f':
            short_form = "\\f";
            break;
        case '\n':
            short_form = "\\n";
            break;
        case '\r':
            short_form = "\\r";
            break;
        case '\t':
            short_form = "\\t";
            break;
        default:
            break;
        }
        if (short_form) {
            if (out)
                memcpy(out + o, short_form, 2);
            o += 2;
        } else if (c < 0x20) {
            if (out) {
                memcpy(out + o, "\\u00", 4);
                out[o + 4] = hex[c >> 4];
                out[o + 5] = hex[c & 15];
            }
            o += 6;
        } else {
            if (out)
                out[o] = (char)c;
            o++;
        }
    }
    return o;
}

/* Writes the payload JSON into out (NULL: measure only); returns its length. */
static size_t payload_json(const char *key_sid, const char *account_sid, const char *identity,
                           const char *service_sid, int64_t iat, int64_t exp, char *out)
{
    char num[3][24];
    snprintf(num[0], sizeof num[0], "%lld", (long long)iat);
    snprintf(num[1], sizeof num[1], "%lld", (long long)exp);
    const char *parts[] = {"{\"jti\":\"",
                           NULL /* key */,
                           "-",
                           num[0],
                           "\",\"grants\":{",
                           identity ? "\"identity\":\"" : "",
                           NULL /* identity */,
                           identity ? "\"," : "",
                           "\"data_sync\":{",
                           service_sid ? "\"service_sid\":\"" : "",
                           NULL /* service */,
                           service_sid ? "\"" : "",
                           "}},\"iat\":",
                           num[0],
                           ",\"exp\":",
                           num[1],
                           ",\"iss\":\"",
                           NULL /* key */,
                           "\",\"sub\":\"",
                           NULL /* account */,
                           "\"}"};
    const char *escaped[] = {key_sid, identity, service_sid, key_sid, account_sid};
    size_t o = 0, e = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i]) {
            size_t n = strlen(parts[i]);
            if (out)
                memcpy(out + o, parts[i], n);
            o += n;
        } else {
            const char *s = escaped[e++];
            if (s)
                o += json_escape(s, out ? out + o : NULL);
        }
    }
    return o;
}

size_t sf_jwt_mint(const char *key_sid, const char *secret, const char *account_sid,
                   const char *identity, const char *service_sid, int64_t iat, int64_t exp,
                   char *out, size_t cap)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"cty\":\"twilio-fpa;v=1\"}";
    if (!key_sid || !secret || !account_sid || !out || cap == 0)
        return 0;
    size_t hlen = sizeof header - 1;
    size_t plen = payload_json(key_sid, account_sid, identity, service_sid, iat, exp, NULL);
    size_t total = b64url_len(hlen) + 1 + b64url_len(plen) + 1 + b64url_len(SHA256_DIGEST_SIZE);
    if (total + 1 > cap)
        return 0;
    char *payload = malloc(plen + 1);
    if (!payload)
        return 0;
    payload_json(key_sid, account_sid, identity, service_sid, iat, exp, payload);
    size_t o = b64url_encode((const uint8_t *)header, hlen, out);
    out[o++] = '.';
    o += b64url_encode((const uint8_t *)payload, plen, out + o);
    free(payload);
    uint8_t mac[SHA256_DIGEST_SIZE];
    hs256(secret, out, o, mac);
    out[o++] = '.';
    o += b64url_encode(mac, sizeof mac, out + o);
    return o;
}
