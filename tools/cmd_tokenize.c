/* tca tokenize: the token ids of a text under a model's tokenizer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tca/tca.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tca tokenize [-m MODEL] (-p TEXT | -f FILE) [--ids] [--no-special] [--bos]\n\n"
            "Tokenizes UTF-8 text with the model's byte-level BPE tokenizer (identical ids to the\n"
            "Hugging Face tokenizer the model was trained with; docs/tokenizer.md) and prints\n"
            "one token per line: its id, a tab and its text with \\n, \\t, \\r, \\\\, other control\n"
            "characters and bytes that are not whole UTF-8 characters written as escapes\n"
            "(\\xNN). The token count goes to stderr. Invalid UTF-8 in the input is\n"
            "tokenized as U+FFFD per maximal invalid sequence.\n\n"
            "  -m MODEL      a .gguf path or the name of a fetched model (default: %s)\n"
            "  -p TEXT       the text\n"
            "  -f FILE       read the text from FILE ('-' for stdin), as is (no newline strip)\n"
            "  --ids         print only the ids, one per line\n"
            "  --no-special  treat control-token text such as <|im_start|> as ordinary text\n"
            "                (default: it becomes the control token)\n"
            "  --bos         prepend the model's BOS token (SmolLM2's and Qwen2.5's metadata\n"
            "                do not ask for one; an error if the model has none)\n"
            "  -h, --help    this text\n\n"
            "Exit status: 0 on success, 1 on an error (one line on stderr), 2 on bad usage.\n",
            TCA_DEFAULT_MODEL);
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            return NULL;
        }
        buf = nb;
        cap *= 2;
    }
    *len = n;
    return buf;
}

/* The piece, readable on one line: whole UTF-8 characters as they are, control characters and
 * stray bytes (a token may hold part of a character) escaped. */
static void print_piece(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7F) printf("\\x%02x", c);
        if (c < 0x80) {
            if (c >= 0x20 && c != 0x7F && c != '\\') putchar(c);
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        int whole = len > 1 && c >= 0xC2 && c <= 0xF4 && i + len <= n;
        for (size_t k = 1; whole && k < len; k++) whole = (p[i + k] & 0xC0) == 0x80;
        if (whole) {
            fwrite(p + i, 1, len, stdout);
            i += len;
        } else {
            printf("\\x%02x", c);
            i++;
        }
    }
}

int tca_cmd_tokenize(int argc, char **argv) {
    const char *model = TCA_DEFAULT_MODEL, *text = NULL, *file = NULL;
    int ids_only = 0, bos = 0, special = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--ids")) {
            ids_only = 1;
        } else if (!strcmp(a, "--no-special")) {
            special = 0;
        } else if (!strcmp(a, "--bos")) {
            bos = 1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "-p") || !strcmp(a, "-f")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tca tokenize: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (a[1] == 'm') model = v;
            else if (a[1] == 'p') text = v;
            else file = v;
        } else {
            fprintf(stderr, "tca tokenize: unknown option '%s' (see tca tokenize --help)\n", a);
            return 2;
        }
    }
    if ((text != NULL) == (file != NULL)) {
        fprintf(stderr, "tca tokenize: give exactly one of -p TEXT and -f FILE\n");
        return 2;
    }

    char *buf = NULL;
    size_t len = 0;
    if (file) {
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) {
            fprintf(stderr, "tca tokenize: cannot open '%s': %s\n", file, strerror(errno));
            return 1;
        }
        buf = read_all(f, &len);
        int err = ferror(f);
        if (f != stdin) fclose(f);
        if (!buf || err) {
            fprintf(stderr, "tca tokenize: cannot read '%s'\n", file);
            free(buf);
            return 1;
        }
        text = buf;
    } else {
        len = strlen(text);
    }

    char path[4096];
    tca_status s = tca_model_resolve(model, path, sizeof path);
    if (s != TCA_OK) {
        free(buf);
        return tca_tool_fail("model", s);
    }
    tca_gguf *g;
    s = tca_gguf_open(path, &g);
    if (s != TCA_OK) {
        free(buf);
        return tca_tool_fail(path, s);
    }
    tca_tokenizer *t;
    s = tca_tokenizer_load(g, &t);
    tca_gguf_free(g);
    if (s != TCA_OK) {
        free(buf);
        return tca_tool_fail(path, s);
    }
    unsigned flags = (special ? TCA_TOK_PARSE_SPECIAL : 0) | (bos ? TCA_TOK_FORCE_BOS : 0);
    tca_token *ids;
    size_t n;
    s = tca_tokenize_alloc(t, text, len, flags, &ids, &n);
    free(buf);
    if (s != TCA_OK) {
        tca_tokenizer_free(t);
        return tca_tool_fail("tokenize", s);
    }
    for (size_t i = 0; i < n; i++) {
        if (ids_only) {
            printf("%d\n", (int)ids[i]);
            continue;
        }
        const char *p;
        size_t pl;
        tca_token_piece(t, ids[i], &p, &pl);
        printf("%d\t", (int)ids[i]);
        print_piece((const unsigned char *)p, pl);
        putchar('\n');
    }
    fprintf(stderr, "%zu tokens\n", n);
    free(ids);
    tca_tokenizer_free(t);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "tca tokenize: write error: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
