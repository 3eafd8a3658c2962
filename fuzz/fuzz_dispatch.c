/* SPDX-License-Identifier: MIT */
/* fuzz_dispatch.c: libFuzzer target over the HTTP face and the decoders under it.
 *
 * Input is a request in the golden-case format (tests/http_cases/ NN.request files, which are
 * the seed corpus): "METHOD TARGET\n", header lines "Name: value\n", a blank line, the body.
 * The same bytes also go through the strict JSON checker, the form decoder and the Basic
 * credentials decoder, the Twilsock frame parser and the access-token verifier (with a lookup
 * that knows one key). Anything goes: the target checks that nothing crashes, leaks or reads
 * out of bounds, and that every answer is a well-formed status with a body. */
#include "codec.h"
#include "jwt.h"
#include "syncfake_http.h"
#include "twilsock_frame.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 32

static sf_fake *fake;
static unsigned calls;

static void setup(void)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 7;
    opts.account_sid = "AC00000000000000000000000000000001";
    opts.auth_token = "secret-token";
    opts.journal_capacity = 1024;
    if (sf_fake_new(&opts, &fake, NULL) != SF_OK)
        abort();
}

/* Splits the input into a request; every piece is a NUL-terminated copy in `text`. */
static void parse(char *text, size_t len, sf_http_request *req, sf_http_header *headers)
{
    char *end = text + len;
    char *line_end = memchr(text, '\n', len);
    if (!line_end)
        line_end = end;
    *line_end = '\0';
    char *space = strchr(text, ' ');
    req->method = text;
    req->target = "/";
    if (space) {
        *space = '\0';
        req->target = space + 1;
    }
    char *p = line_end < end ? line_end + 1 : end;
    while (p < end && *p != '\n' && req->header_count < MAX_HEADERS) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        *nl = '\0';
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            char *value = colon + 1;
            while (*value == ' ')
                value++;
            headers[req->header_count++] = (sf_http_header){p, value};
        }
        p = nl < end ? nl + 1 : end;
    }
    if (p < end && *p == '\n')
        p++;
    req->headers = headers;
    req->body = p;
    req->body_len = (size_t)(end - p);
}

static bool one_key(void *user, const char *key_sid, char *secret, size_t secret_cap,
                    char *account_sid, size_t account_cap)
{
    (void)user;
    if (strcmp(key_sid, "SK00000000000000000000000000000002") != 0)
        return false;
    snprintf(secret, secret_cap, "%s", "fuzz-secret");
    snprintf(account_sid, account_cap, "%s", "AC00000000000000000000000000000001");
    return true;
}

static sf_ts_frame ts_frame; /* 10 KB: not on the stack */

static void other_decoders(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    size_t n;
    if (!out)
        return;
    sf_json_compact_object((const char *)data, size, out, size + 1, &n);
    free(out);
    sf_http_form form;
    if (sf_http_form_parse((const char *)data, size, &form))
        sf_http_form_free(&form);
    char *header = malloc(size + 1);
    if (!header)
        return;
    memcpy(header, data, size);
    header[size] = '\0';
    char user[256], password[256];
    sf_http_basic_credentials(header, user, password, sizeof user);
    int64_t v;
    sf_http_parse_int(header, &v);
    sf_jwt_claims claims;
    sf_jwt_result r = sf_jwt_verify(header, one_key, NULL, 1000, &claims);
    if (r < SF_JWT_OK || r > SF_JWT_NOT_YET_VALID)
        abort();
    free(header);
    if (sf_ts_parse(data, size, &ts_frame) &&
        (ts_frame.payload_len > size ||
         ts_frame.payload + ts_frame.payload_len != (const char *)data + size))
        abort(); /* the payload is the end of the frame */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fake)
        setup();
    if (++calls % 256 == 0)
        sf_fake_reset(fake, NULL); /* keep the state small but not always empty */
    other_decoders(data, size);

    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sf_http_request req = {0};
    sf_http_header headers[MAX_HEADERS];
    parse(text, size, &req, headers);
    sf_http_response resp;
    int status = sf_http_dispatch(fake, &req, &resp);
    if (status < 200 || status > 599 || (status != 204 && !resp.body))
        abort();
    if (resp.body && strlen(resp.body) != resp.body_len)
        abort(); /* bodies are text: no NUL inside */
    sf_http_response_free(&resp);
    free(text);
    return 0;
}
