/* PLACEHOLDER: the tokenizer API, being written. */
#ifndef TCA_TOKENIZER_H
#define TCA_TOKENIZER_H
#endif
