/* SPDX-License-Identifier: MIT */
/* warn.c: warnings about what Twilio would silently ignore (see sf_warn in syncfake.h). Each
 * is a `warning` journal entry whose text lives in a small ring of its own (the journal ring
 * holds fixed-size entries), then the sf_options.on_warning hook; in strict mode it is
 * refused instead of done. */
#include "internal.h"
#include "journal_params.h"

#include <stdio.h>
#include <string.h>

const char *sf__note_text(const sf_fake *fake, uint64_t id)
{
    if (!fake->notes || id == 0)
        return NULL;
    const sf__note *n = &fake->notes[id % SF__NOTE_SLOTS];
    return n->id == id ? n->text : NULL;
}

void sf__notes_release(sf_fake *fake)
{
    sf__free(fake, fake->notes);
    fake->notes = NULL;
}

/* Keeps the text (printable ASCII only, so that it is safe in a header and a log line);
 * returns its id, 0 when no memory could be had (the entry then shows no text). */
static uint64_t keep_note(sf_fake *fake, const char *message)
{
    if (!fake->notes) {
        fake->notes = sf__malloc(fake, SF__NOTE_SLOTS * sizeof *fake->notes);
        if (!fake->notes)
            return 0;
        memset(fake->notes, 0, SF__NOTE_SLOTS * sizeof *fake->notes);
    }
    uint64_t id = ++fake->notes_written;
    sf__note *n = &fake->notes[id % SF__NOTE_SLOTS];
    n->id = id;
    size_t i = 0;
    for (; message[i] && i < sizeof n->text - 1; i++) {
        unsigned char ch = (unsigned char)message[i];
        n->text[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    n->text[i] = '\0';
    return id;
}

/* The warning at the fake's time as last sampled (inside a call: the call's now). */
static sf_status warn_now(sf_fake *fake, const char *account_sid, sf_op op, const char *service_sid,
                          const char *stream_id, const char *param, const char *suggestion,
                          const char *message, sf_error *err)
{
    sf__jentry *e = sf__journal_append(fake, SF_JOURNAL_WARNING);
    uint64_t id = keep_note(fake, message);
    const char *kept = sf__note_text(fake, id);
    if (e) {
        e->op = (uint8_t)op;
        e->account = account_sid ? sf__find_account(fake, account_sid) : fake->default_account;
        e->note = id;
        if (service_sid && sf_sid_is(service_sid, "IS"))
            sf__journal_sids(e, service_sid, NULL, NULL);
        if (stream_id && sf_sid_is(stream_id, "TO"))
            sf__journal_sids(e, NULL, stream_id, NULL);
    }
    if (fake->opts.on_warning) {
        sf_warning w = {(int)op, param, suggestion, kept ? kept : message};
        fake->opts.on_warning(&w, fake->opts.warning_user);
    }
    if (fake->opts.strict_params)
        return sf__fail_detail(err, SF_ERR_INVALID_PARAMETER, "%.900s (strict mode)",
                               kept ? kept : message);
    return SF_OK;
}

sf_status sf_warn(sf_fake *fake, const char *account_sid, sf_op op, const char *service_sid,
                  const char *stream_id, const char *param, const char *suggestion,
                  const char *message, sf_error *err)
{
    if (!fake || !message || (unsigned)op >= SF_OP_COUNT)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s",
                               !fake      ? "fake is NULL"
                               : !message ? "message is NULL"
                                          : "op out of range");
    SF__OUTERMOST(fake);
    SF__RECORDED(
        sf__rec_warn(fake, account_sid, op, service_sid, stream_id, param, suggestion, message));
    sf__begin(fake); /* the entry's time, as for any call */
    return warn_now(fake, account_sid, op, service_sid, stream_id, param, suggestion, message, err);
}

/* A value given in a field whose has_* flag is false: the fake (as Twilio for an absent
 * parameter) uses the default, which is seldom what the caller meant. */
static sf_status flagless(sf_fake *fake, sf_op op, const char *account_sid, const char *service_sid,
                          const char *stream_id, const char *field, const char *flag, sf_error *err)
{
    char text[SF_WARNING_SIZE];
    snprintf(text, sizeof text,
             "%s is set but %s is false (did you mean to set %s?); it is ignored", field, flag,
             flag);
    return warn_now(fake, account_sid, op, service_sid, stream_id, field, flag, text, err);
}

sf_status sf__warn_page_params(sf_fake *fake, sf_op op, const char *account_sid,
                               const char *service_sid, const sf_page_params *p, sf_error *err)
{
    sf_status st = SF_OK;
    if (p && !p->has_page_size && p->page_size != 0)
        st = flagless(fake, op, account_sid, service_sid, NULL, "page_size", "has_page_size", err);
    if (st == SF_OK && p && !p->has_page && p->page != 0)
        st = flagless(fake, op, account_sid, service_sid, NULL, "page", "has_page", err);
    return st;
}

sf_status sf__warn_stream_params(sf_fake *fake, sf_op op, const char *account_sid,
                                 const char *service_sid, const char *stream_id,
                                 const sf_stream_params *p, sf_error *err)
{
    sf_status st = SF_OK;
    if (p && !p->has_ttl && p->ttl != 0)
        st = flagless(fake, op, account_sid, service_sid, stream_id, "ttl", "has_ttl", err);
    if (st == SF_OK && p && op == SF_OP_STREAM_UPDATE && p->unique_name)
        st = warn_now(fake, account_sid, op, service_sid, stream_id, "unique_name", NULL,
                      "unique_name is ignored by sf_stream_update (a stream cannot be renamed; "
                      "Twilio ignores UniqueName on update)",
                      err);
    return st;
}

sf_status sf__warn_service_params(sf_fake *fake, sf_op op, const char *account_sid,
                                  const char *service_sid, const sf_service_params *p,
                                  sf_error *err)
{
    if (p && !p->has_reachability_debouncing_window && p->reachability_debouncing_window != 0)
        return flagless(fake, op, account_sid, service_sid, NULL, "reachability_debouncing_window",
                        "has_reachability_debouncing_window", err);
    return SF_OK;
}
