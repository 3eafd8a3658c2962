/* SPDX-License-Identifier: MIT */
/* snapshot_dump.c: syncfake-snapshot-dump FILE prints a snapshot as JSON, one object per
 * record, walking the format of docs/snapshot-format.md field by field (with the library's
 * own readers). It checks the checksum too: exit status 0 valid, 1 not. */
#include "snapshot_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum { U8, U16, U32, U64, I64, F64, STR, SID, SIDS3, TIMER, VERSION } kind;
typedef struct field {
    const char *name;
    kind k;
    const char *prefix; /* SID prefix */
} field;

static sf__snap_reader reader;

static size_t file_read(void *buf, size_t len, void *user) { return fread(buf, 1, len, user); }

static bool put_sid(const char *name, const char *prefix, bool comma)
{
    char sid[SF_SID_SIZE];
    if (!sf__sr_sid(&reader, prefix, sid))
        return false;
    printf("%s\"%s\":\"%s\"", comma ? "," : "", name, sid);
    return true;
}

static bool put_str(const char *name, bool comma)
{
    static char text[SF_ERROR_MESSAGE_SIZE * 2];
    bool absent;
    if (!sf__sr_str(&reader, text, sizeof text, &absent))
        return false;
    printf("%s\"%s\":", comma ? "," : "", name);
    if (absent) {
        printf("null");
        return true;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    putchar('"');
    return true;
}

/* An unsigned field of kind k (U8, U16, U32 or U64), widened. */
static bool read_unsigned(kind k, uint64_t *out)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    switch (k) {
    case U8:
        if (!sf__sr_u8(&reader, &u8))
            return false;
        *out = u8;
        return true;
    case U16:
        if (!sf__sr_u16(&reader, &u16))
            return false;
        *out = u16;
        return true;
    case U32:
    case VERSION: /* which also says how the checksum is taken */
        if (!(k == U32 ? sf__sr_u32(&reader, &u32) : sf__sr_version(&reader, &u32)))
            return false;
        *out = u32;
        return true;
    default:
        return sf__sr_u64(&reader, out);
    }
}

static bool put_field(const field *f, bool comma)
{
    const char *sep = comma ? "," : "";
    uint64_t u = 0;
    int64_t i = 0;
    double d = 0;
    switch (f->k) {
    case U8:
    case U16:
    case U32:
    case U64:
    case VERSION:
        if (!read_unsigned(f->k, &u))
            return false;
        printf("%s\"%s\":%" PRIu64, sep, f->name, u);
        return true;
    case I64:
        if (!sf__sr_i64(&reader, &i))
            return false;
        printf("%s\"%s\":%" PRId64, sep, f->name, i);
        return true;
    case F64:
        if (!sf__sr_f64(&reader, &d))
            return false;
        printf("%s\"%s\":%.17g", sep, f->name, d);
        return true;
    case STR:
        return put_str(f->name, comma);
    case SID:
        return put_sid(f->name, f->prefix, comma);
    case SIDS3:
        return put_sid("service_sid", "IS", comma) && put_sid("stream_sid", "TO", true) &&
               put_sid("message_sid", "TZ", true);
    case TIMER: {
        uint8_t armed;
        if (!sf__sr_u8(&reader, &armed))
            return false;
        printf("%s\"%s_armed\":%u", sep, f->name, armed);
        if (armed && (!sf__sr_i64(&reader, &i) || !sf__sr_u64(&reader, &u)))
            return false;
        if (armed)
            printf(",\"%s_due\":%" PRId64 ",\"%s_seq\":%" PRIu64, f->name, i, f->name, u);
        return true;
    }
    }
    return false;
}

/* One record of `n` fields as a JSON object line named `what`. */
static bool record(const char *what, const field *fs, size_t n)
{
    printf("{\"record\":\"%s\"", what);
    for (size_t i = 0; i < n; i++)
        if (!put_field(&fs[i], true))
            return false;
    printf("}\n");
    return true;
}

#define RECORD(what, fs) record(what, fs, sizeof fs / sizeof fs[0])
#define F(name, k)                                                                                 \
    {                                                                                              \
        name, k, NULL                                                                              \
    }

static const field header[] = {F("version", VERSION),
                               F("seed", U64),
                               F("clock", U8),
                               F("manual_start_ms", I64),
                               F("base_url", STR),
                               F("journal_capacity", U64),
                               F("account_sid_option", STR),
                               F("auth_token_option", STR),
                               F("max_data_bytes", U64),
                               F("publish_rate_per_s", U32),
                               F("publish_burst", U32),
                               F("unique_name_max", U64),
                               F("ttl_max_s", I64),
                               F("page_size_default", U32),
                               F("page_size_max", U32),
                               F("friendly_name_max", U64),
                               F("webhook_url_max", U64),
                               F("debouncing_window_min_ms", I64),
                               F("debouncing_window_max_ms", I64),
                               F("now_ms", I64),
                               F("next_seq", U64),
                               F("sid_account", U64),
                               F("sid_service", U64),
                               F("sid_stream", U64),
                               F("sid_message", U64),
                               F("sid_api_key", U64),
                               F("sid_secret", U64),
                               F("generation", U64),
                               F("fresh_next_seq", U64),
                               F("fresh_sid_account", U64),
                               F("fresh_sid_service", U64),
                               F("fresh_sid_stream", U64),
                               F("fresh_sid_message", U64),
                               F("fresh_sid_api_key", U64),
                               F("fresh_sid_secret", U64),
                               F("last_subscriber_id", U64),
                               F("next_rule_id", U32),
                               F("next_event_seq", U64)};
static const field account_f[] = {{"sid", SID, "AC"}, F("auth_token", STR), F("seq", U64)};
static const field key_f[] = {{"sid", SID, "SK"}, F("secret", STR), F("account_ref", U32)};
static const field service_f[] = {{"sid", SID, "IS"},
                                  F("account_ref", U32),
                                  F("friendly_name", STR),
                                  F("webhook_url", STR),
                                  F("flags", U8),
                                  F("reachability_debouncing_window", I64),
                                  F("date_created_ms", I64),
                                  F("date_updated_ms", I64),
                                  F("key", U64)};
static const field stream_f[] = {{"sid", SID, "TO"},
                                 F("service_index", U32),
                                 F("unique_name", STR),
                                 F("date_created_ms", I64),
                                 F("date_updated_ms", I64),
                                 F("date_expires_ms", I64),
                                 F("bucket_milli_tokens", U64),
                                 F("bucket_refilled_ms", I64),
                                 F("lagging", U8),
                                 F("expiry", TIMER),
                                 F("key", U64),
                                 F("messages_published", U64)};
static const field message_f[] = {F("ordinal", U64),   F("stream_key", U64),   F("draw_key", U64),
                                  F("publisher", U64), F("published_ms", I64), F("sids", SIDS3),
                                  F("data", STR)};
static const field sub_head_f[] = {F("id", U64),
                                   F("flags", U8),
                                   {"stream_sid", SID, "TO"},
                                   F("client_id", U64),
                                   F("notice_reason", U8)};
static const field sub_tail_f[] = {F("notice", TIMER), F("delivered", U64), F("duplicated", U64),
                                   F("dropped", U64),  F("lost", U64),      F("account_ref", U32)};
static const field parked_f[] = {F("message", U64), F("duplicate", U8)};
static const field retired_f[] = {F("subscriber", U64)};
static const field delivery_f[] = {F("message", U64), F("subscriber", U64), F("duplicate", U8),
                                   F("due_ms", I64), F("seq", U64)};
static const field rule_f[] = {
    F("id", U32),        F("scope", U8),           F("stream_sid", STR),  F("subscriber", U64),
    F("drop_rate", F64), F("duplicate_rate", F64), F("delay_ms", I64),    F("jitter_ms", I64),
    F("drop_next", U32), F("expiry_lag_ms", I64),  F("account_ref", U32), F("drop_next_left", U32),
    F("hits", U64)};
static const field inj_f[] = {F("count", U32),   F("http_status", U32), F("code", U32),
                              F("message", STR), F("after_apply", U8),  F("account_ref", U32)};
static const field journal_head_f[] = {F("next_seq", U64), F("overwritten", U64),
                                       F("notes_written", U64)};
static const field note_f[] = {F("id", U64), F("text", STR)};
static const field entry_f[] = {
    F("seq", U64),   F("t_ms", I64),   F("until_ms", I64),    F("subscriber", U64), F("rule", U32),
    F("code", U32),  F("status", U16), F("kind", U8),         F("op", U8),          F("flags", U8),
    F("reason", U8), F("sids", SIDS3), F("account_ref", U32), F("note", U64)};

static bool count32(uint64_t *n)
{
    uint32_t v;
    bool ok = sf__sr_u32(&reader, &v);
    *n = v;
    return ok;
}

static bool many(const char *what, const field *fs, size_t nf, bool wide)
{
    uint64_t n;
    if (!(wide ? sf__sr_u64(&reader, &n) : count32(&n)))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!record(what, fs, nf))
            return false;
    return true;
}

#define MANY(what, fs, wide) many(what, fs, sizeof fs / sizeof fs[0], wide)

static bool subscriber(void)
{
    printf("{\"record\":\"subscriber\"");
    uint8_t flags = 0;
    for (size_t i = 0; i < sizeof sub_head_f / sizeof sub_head_f[0]; i++) {
        if (i == 1) { /* the flags decide whether a notice service follows */
            if (!sf__sr_u8(&reader, &flags))
                return false;
            printf(",\"flags\":%u", flags);
        } else if (!put_field(&sub_head_f[i], true)) {
            return false;
        }
    }
    if ((flags & 32) && !put_sid("notice_service", "IS", true))
        return false;
    for (size_t i = 0; i < sizeof sub_tail_f / sizeof sub_tail_f[0]; i++)
        if (!put_field(&sub_tail_f[i], true))
            return false;
    printf("}\n");
    return MANY("parked", parked_f, true);
}

static bool dump(void)
{
    char magic[8];
    if (!sf__sr_bytes(&reader, magic, 8) || memcmp(magic, SF__SNAP_MAGIC, 8) != 0)
        return sf__sr_fail(&reader, "not a syncfake snapshot");
    uint64_t n;
    if (!RECORD("header", header) || !MANY("account", account_f, false) ||
        !RECORD("default_account", ((const field[]){F("index", U32)})) ||
        !MANY("api_key", key_f, false) || !MANY("service", service_f, false) ||
        !MANY("stream", stream_f, true) || !MANY("message", message_f, true) ||
        !sf__sr_u64(&reader, &n))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!subscriber())
            return false;
    if (!MANY("retired", retired_f, true) || !MANY("delivery", delivery_f, true) ||
        !MANY("rule", rule_f, false) || !count32(&n))
        return false;
    for (uint64_t op = 0; op < n; op++) {
        printf("{\"record\":\"injections\",\"op\":\"%s\"}\n", sf_op_name((sf_op)op));
        if (!MANY("injection", inj_f, false))
            return false;
    }
    return RECORD("journal", journal_head_f) && MANY("warning_text", note_f, false) &&
           MANY("entry", entry_f, true) && sf__sr_finish(&reader);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: syncfake-snapshot-dump FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "syncfake-snapshot-dump: cannot read %s\n", argv[1]);
        return 2;
    }
    sf__sr_init(&reader, file_read, f);
    bool ok = dump();
    fclose(f);
    if (!ok) {
        printf("\n");
        fprintf(stderr, "syncfake-snapshot-dump: %s\n", reader.why);
        return 1;
    }
    return 0;
}
