#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_internal.h"
#include "tca/chat.h"

static const char im_start_sys[] = "<|im_start|>system";

/* The default system prompt of a ChatML template: the string literal that follows
 * "<|im_start|>system" + newline in the branch taken when the conversation has no system turn.
 * The newline is either a real newline character or the two characters \n inside a Jinja string
 * literal, and the literal ends at <|im_end|>. Returns a malloc'ed, unescaped string, or NULL. */
static char *default_system(const char *tpl, size_t len) {
    const char *end = tpl + len;
    for (const char *p = tpl; (p = memmem(p, (size_t)(end - p), im_start_sys, sizeof im_start_sys - 1));) {
        p += sizeof im_start_sys - 1;
        if (end - p >= 2 && p[0] == '\\' && p[1] == 'n') p += 2;
        else if (p < end && *p == '\n') p++;
        else continue;
        const char *stop = memmem(p, (size_t)(end - p), "<|im_end|>", 10);
        if (!stop) return NULL;
        /* a default is a plain literal: no quote or Jinja syntax between the markers */
        size_t n = (size_t)(stop - p);
        if (memchr(p, '\'', n) || memchr(p, '"', n) || memchr(p, '{', n) || memchr(p, '+', n)) continue;
        char *s = malloc(n + 1), *o = s;
        if (!s) return NULL;
        for (const char *q = p; q < stop; q++) {
            if (q + 1 < stop && q[0] == '\\' && q[1] == 'n') {
                *o++ = '\n';
                q++;
            } else {
                *o++ = *q;
            }
        }
        *o = '\0';
        return s;
    }
    return NULL;
}

tca_status tca_chat_format(const tca_gguf *g, const char *system, const char *user, char **out, size_t *len,
                           size_t *plain_off, size_t *plain_len) {
    *out = NULL;
    const char *tpl;
    size_t tlen;
    if (tca_gguf_get_str(g, "tokenizer.chat_template", &tpl, &tlen) != TCA_OK)
        return tca_fail(TCA_ERR_NOT_FOUND, "chat: the model has no chat template (tokenizer.chat_template)");
    if (!memmem(tpl, tlen, "<|im_start|>", 12) || !memmem(tpl, tlen, "<|im_end|>", 10) ||
        !memmem(tpl, tlen, "add_generation_prompt", 21))
        return tca_fail(TCA_ERR_UNSUPPORTED, "chat: the model's chat template is not ChatML; "
                                             "only ChatML templates (<|im_start|>role ... <|im_end|>) are supported");
    char *dflt = NULL;
    if (system == NULL) {
        dflt = default_system(tpl, tlen);
        system = dflt; /* NULL when the template writes no system turn by default */
    }
    size_t need = strlen(user) + (system ? strlen(system) : 0) + 128;
    char *s = malloc(need);
    if (!s) {
        free(dflt);
        return tca_fail(TCA_ERR_NOMEM, "chat: out of memory");
    }
    int n = system ? snprintf(s, need, "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n",
                              system, user)
                   : snprintf(s, need, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", user);
    *plain_off = system ? strlen("<|im_start|>system\n") + strlen(system) + strlen("<|im_end|>\n<|im_start|>")
                        : strlen("<|im_start|>");
    *plain_len = strlen("user\n") + strlen(user);
    free(dflt);
    *out = s;
    *len = (size_t)n;
    return TCA_OK;
}
