/* Chat prompts in the model's own template (GGUF tokenizer.chat_template).
 *
 * The templates are Jinja programs; rather than embed a Jinja interpreter, the runtime recognises
 * the template family and renders it natively. Supported: ChatML (<|im_start|>role\n...<|im_end|>\n),
 * the format of SmolLM2 and Qwen2.5, including the default system prompt that the template writes
 * when the conversation has none (read from the template text itself). A model without a template
 * is TCA_ERR_NOT_FOUND; an unrecognised family TCA_ERR_UNSUPPORTED. tests/chat checks the output
 * byte for byte against the jinja2 package rendering the same template. */
#ifndef TCA_CHAT_H
#define TCA_CHAT_H

#include <stddef.h>

#include "tca/gguf.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One system (NULL: the template's default) and one user turn, plus the assistant generation
 * prompt. *out is malloc'ed, NUL-terminated; free() it. [*plain_off, *plain_off + *plain_len) is
 * the run of ordinary text between the special tokens around the user turn ("user\n" + user), so
 * that callers can tokenize the user's text without parsing special-token text inside it, exactly
 * as a tokenizer splitting the whole prompt at the template's special tokens would see it. */
tca_status tca_chat_format(const tca_gguf *g, const char *system, const char *user, char **out, size_t *len,
                           size_t *plain_off, size_t *plain_len);

#ifdef __cplusplus
}
#endif
#endif
