/* Byte-level BPE tokenizer built from a GGUF file's tokenizer.ggml.* metadata (model "gpt2"),
 * exact against the Hugging Face `tokenizers` pipeline each supported model was trained with:
 *
 *   pre "smollm":  no normalizer; split off every \p{N} character; GPT-2 regex; byte-level BPE
 *   pre "qwen2":   NFC; the Qwen2 split regex; byte-level BPE
 *
 * Text is UTF-8. Invalid UTF-8 in the input is not an error: each maximal invalid subpart becomes
 * U+FFFD, exactly as Python's bytes.decode("utf-8", errors="replace") does, before tokenizing.
 * docs/tokenizer.md describes the pipeline, the reference and the measured speed.
 *
 * A tca_tokenizer is immutable after tca_tokenizer_load and owns copies of everything it needs
 * (the GGUF may be closed afterwards); any number of threads may encode with one tokenizer. */
#ifndef TCA_TOKENIZER_H
#define TCA_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tca/gguf.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t tca_token;
typedef struct tca_tokenizer tca_tokenizer;

/* GGUF token types (tokenizer.ggml.token_type). */
typedef enum tca_token_type {
    TCA_TOKEN_UNDEFINED = 0,
    TCA_TOKEN_NORMAL = 1,
    TCA_TOKEN_UNKNOWN = 2,
    TCA_TOKEN_CONTROL = 3,      /* <|im_start|>, <|endoftext|>: matched only with TCA_TOK_PARSE_SPECIAL */
    TCA_TOKEN_USER_DEFINED = 4, /* added non-special tokens (<tool_call>): always matched */
    TCA_TOKEN_UNUSED = 5,       /* padding entries ([PAD151665]): never produced, decode to "" */
    TCA_TOKEN_BYTE = 6
} tca_token_type;

/* Encoding flags. */
enum {
    /* Match CONTROL tokens written in the text (leftmost, then longest). Without it their text is
     * tokenized as ordinary text. USER_DEFINED tokens are matched either way (HF semantics). */
    TCA_TOK_PARSE_SPECIAL = 1u << 0,
    /* Add BOS / EOS where the metadata says so (tokenizer.ggml.add_bos_token / add_eos_token;
     * both absent or false for SmolLM2 and Qwen2.5): HF's add_special_tokens. */
    TCA_TOK_ADD_SPECIAL = 1u << 1,
    /* Prepend BOS whatever the metadata says (TCA_ERR_NOT_FOUND if the model has none). */
    TCA_TOK_FORCE_BOS = 1u << 2
};

/* Longest input accepted by one encode call, in bytes. */
#define TCA_TOKENIZER_MAX_BYTES ((size_t)1 << 30)

/* Builds the tokenizer from g's metadata. Refuses, naming the value: a tokenizer.ggml.model other
 * than "gpt2" or a tokenizer.ggml.pre other than "smollm"/"qwen2" (TCA_ERR_UNSUPPORTED); missing
 * or inconsistent tokens, token_type, merges or special ids (TCA_ERR_FORMAT / TCA_ERR_NOT_FOUND). */
tca_status tca_tokenizer_load(const tca_gguf *g, tca_tokenizer **out);
void tca_tokenizer_free(tca_tokenizer *t);

/* Encodes len bytes of text. Writes at most cap ids to out and the full count to *n_out; when
 * cap is too small the result is TCA_ERR_RANGE and *n_out still holds the count needed (out may
 * be NULL with cap 0 to ask for it). Text longer than TCA_TOKENIZER_MAX_BYTES: TCA_ERR_RANGE. */
tca_status tca_tokenize(const tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                        tca_token *out, size_t cap, size_t *n_out);
/* The same into a malloc'ed array that the caller frees with free(). */
tca_status tca_tokenize_alloc(const tca_tokenizer *t, const char *text, size_t len, unsigned flags,
                              tca_token **out, size_t *n_out);

int32_t tca_tokenizer_n_vocab(const tca_tokenizer *t);
/* "gpt2" and "smollm"/"qwen2": the metadata values this tokenizer was built from. */
const char *tca_tokenizer_model(const tca_tokenizer *t);
const char *tca_tokenizer_pre(const tca_tokenizer *t);

/* Special ids from the metadata; -1 when the model has none. */
tca_token tca_tokenizer_bos(const tca_tokenizer *t);
tca_token tca_tokenizer_eos(const tca_tokenizer *t);
tca_token tca_tokenizer_pad(const tca_tokenizer *t);
/* tokenizer.ggml.add_bos_token / add_eos_token (false when absent). */
bool tca_tokenizer_adds_bos(const tca_tokenizer *t);
bool tca_tokenizer_adds_eos(const tca_tokenizer *t);
/* End of generation: EOS, tokenizer.ggml.eot_token_id / eom_token_id, and the CONTROL tokens
 * "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>" when present. False out of range. */
bool tca_token_is_eog(const tca_tokenizer *t, tca_token id);

/* Token type; TCA_TOKEN_UNDEFINED for an id out of range. */
tca_token_type tca_token_get_type(const tca_tokenizer *t, tca_token id);
/* The token's text as stored in the vocab ("Ġthe", "<|im_end|>"). Not NUL-terminated; valid for
 * the tokenizer's lifetime. TCA_ERR_RANGE for an id out of range. */
tca_status tca_token_text(const tca_tokenizer *t, tca_token id, const char **s, size_t *len);
/* The bytes the token stands for in the output (" the", "<|im_end|>", possibly a partial UTF-8
 * sequence such as one byte of an emoji; "" for UNUSED tokens). Valid for the lifetime. */
tca_status tca_token_piece(const tca_tokenizer *t, tca_token id, const char **s, size_t *len);
/* Exact lookup of a token by its vocab text (e.g. "<|im_start|>"); TCA_ERR_NOT_FOUND if absent. */
tca_status tca_token_find(const tca_tokenizer *t, const char *text, size_t len, tca_token *id);

/* Whole-sequence decoding into a malloc'ed NUL-terminated string (free() it): the pieces
 * concatenated, invalid UTF-8 replaced by U+FFFD per maximal subpart, so the result is always
 * valid UTF-8. CONTROL tokens are included unless skip_control. */
tca_status tca_detokenize(const tca_tokenizer *t, const tca_token *ids, size_t n, bool skip_control,
                          char **out, size_t *len);

/* Streaming detokenizer for generation: push one token at a time and get back only complete,
 * valid UTF-8. An incomplete but so far valid sequence at the end (at most 3 bytes) is held back
 * until the next push completes it; bytes that can no longer form a valid sequence are emitted as
 * U+FFFD. The concatenation of all pushes and the final flush equals tca_detokenize of the same
 * ids. */
typedef struct tca_detok tca_detok;
tca_status tca_detok_new(const tca_tokenizer *t, bool skip_control, tca_detok **out);
void tca_detok_free(tca_detok *d);
/* *text (not NUL-terminated, possibly empty) is valid until the next call on d. */
tca_status tca_detok_push(tca_detok *d, tca_token id, const char **text, size_t *len);
/* Emits what is held back (as U+FFFD: it is incomplete) and resets d for a new sequence. */
tca_status tca_detok_flush(tca_detok *d, const char **text, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
