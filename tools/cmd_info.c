/* tca info: what a GGUF model file holds (architecture, hyperparameters, tensor types, vocab),
 * as text or JSON. Reads the file through the public GGUF API only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "commands.h"
#include "tca/tca.h"

#define MAX_TYPE_ID 256 /* type ids in GGUF are small; the loader refuses ids it does not know */

static void usage(FILE *f) {
    fprintf(f,
            "usage: tca info [--json] [--tensors] [MODEL]\n\n"
            "Prints a model file's GGUF version and size, general.name, architecture,\n"
            "hyperparameters (layers, embedding, ffn, heads, kv heads, head dim, rope base and\n"
            "scaling, rms eps, context length), a per-type tensor summary (count and bytes),\n"
            "the vocab size, tokenizer model and pre-tokenizer, the bos/eos/pad tokens and\n"
            "whether a chat template is present. The file is fully validated when opened.\n\n"
            "  MODEL      a .gguf path or the name of a fetched model (default: %s)\n"
            "  --json     print one JSON object instead of text\n"
            "  --tensors  also list every tensor: name, type, shape, bytes, data offset\n"
            "  -h, --help this text\n\n"
            "Exit status: 0 on success, 1 on any error (one line on stderr).\n",
            TCA_DEFAULT_MODEL);
}

/* A metadata lookup that may be absent. */
typedef struct opt_int { int present; int64_t v; } opt_int;
typedef struct opt_f64 { int present; double v; } opt_f64;
typedef struct opt_str { int present; const char *s; size_t len; } opt_str;

static opt_int get_int(const tca_gguf *g, const char *key) {
    opt_int o = {0, 0};
    o.present = tca_gguf_get_int(g, key, &o.v) == TCA_OK;
    return o;
}

/* An f32 value widened to double prints as 9.99999997e-07; use the shortest decimal that reads
 * back as the same f32 instead, so that the output shows what the model's config said. */
static double shortest_f32(double v) {
    float f = (float)v;
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f) return strtod(buf, NULL);
    }
    return v;
}

static opt_f64 get_f64(const tca_gguf *g, const char *key) {
    opt_f64 o = {0, 0};
    o.present = tca_gguf_get_float(g, key, &o.v) == TCA_OK;
    if (o.present && tca_gguf_kv_type(g, tca_gguf_kv_find(g, key)) == TCA_GGUF_F32)
        o.v = shortest_f32(o.v);
    return o;
}

static opt_str get_str(const tca_gguf *g, const char *key) {
    opt_str o = {0, NULL, 0};
    o.present = tca_gguf_get_str(g, key, &o.s, &o.len) == TCA_OK;
    return o;
}

static opt_int arch_int(const tca_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return get_int(g, key);
}

static opt_f64 arch_f64(const tca_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return get_f64(g, key);
}

static opt_str arch_str(const tca_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return get_str(g, key);
}

/* A NUL-terminated copy of a GGUF string (which is length-prefixed). */
static char *dup_str(const char *s, size_t len) {
    char *c = malloc(len + 1);
    if (!c) {
        fprintf(stderr, "tca info: out of memory\n");
        exit(1);
    }
    memcpy(c, s, len);
    c[len] = 0;
    return c;
}

/* Writes a string for a terminal: quoted, with control bytes escaped. */
static void print_quoted(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') printf("\\n");
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

static void human_bytes(char *buf, size_t cap, uint64_t b) {
    if (b >= (1ull << 30)) snprintf(buf, cap, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, cap, "%.1f MiB", (double)b / (1ull << 20));
    else if (b >= (1ull << 10)) snprintf(buf, cap, "%.1f KiB", (double)b / (1ull << 10));
    else snprintf(buf, cap, "%" PRIu64 " B", b);
}

/* Everything printed, gathered once for both output formats. */
typedef struct info {
    const char *path;
    uint32_t version, alignment;
    uint64_t size;
    opt_str name, arch;
    char arch_buf[128];
    opt_int layers, embd, ffn, heads, kv_heads, key_len, ctx;
    int64_t head_dim; /* key_length when present, else embd / heads; 0 when unknown */
    opt_f64 rope_base, rope_factor, rms_eps;
    opt_str rope_type;
    opt_int rope_orig_ctx;
    int64_t n_tensors;
    uint64_t type_count[MAX_TYPE_ID], type_bytes[MAX_TYPE_ID], tensor_bytes;
    int has_vocab;
    uint64_t vocab;
    opt_str tok_model, tok_pre;
    opt_int special[3]; /* bos, eos, pad */
    opt_str special_text[3];
    opt_str chat_template;
} info;

static const char *const special_names[3] = {"bos", "eos", "pad"};

static void gather(const tca_gguf *g, const char *path, info *in) {
    memset(in, 0, sizeof *in);
    in->path = path;
    in->version = tca_gguf_version(g);
    in->alignment = tca_gguf_alignment(g);
    in->size = tca_gguf_file_size(g);
    in->name = get_str(g, "general.name");
    in->arch = get_str(g, "general.architecture");
    const char *a = "";
    if (in->arch.present && in->arch.len < sizeof in->arch_buf) {
        memcpy(in->arch_buf, in->arch.s, in->arch.len);
        a = in->arch_buf;
    }
    in->layers = arch_int(g, a, "block_count");
    in->embd = arch_int(g, a, "embedding_length");
    in->ffn = arch_int(g, a, "feed_forward_length");
    in->heads = arch_int(g, a, "attention.head_count");
    in->kv_heads = arch_int(g, a, "attention.head_count_kv");
    in->key_len = arch_int(g, a, "attention.key_length");
    in->ctx = arch_int(g, a, "context_length");
    if (in->key_len.present) in->head_dim = in->key_len.v;
    else if (in->embd.present && in->heads.present && in->heads.v > 0)
        in->head_dim = in->embd.v / in->heads.v;
    in->rope_base = arch_f64(g, a, "rope.freq_base");
    in->rope_type = arch_str(g, a, "rope.scaling.type");
    in->rope_factor = arch_f64(g, a, "rope.scaling.factor");
    in->rope_orig_ctx = arch_int(g, a, "rope.scaling.original_context_length");
    in->rms_eps = arch_f64(g, a, "attention.layer_norm_rms_epsilon");

    in->n_tensors = tca_gguf_tensor_count(g);
    for (int64_t i = 0; i < in->n_tensors; i++) {
        const tca_tensor_info *t = tca_gguf_tensor(g, i);
        if (t->type < MAX_TYPE_ID) {
            in->type_count[t->type]++;
            in->type_bytes[t->type] += t->nbytes;
        }
        in->tensor_bytes += t->nbytes;
    }

    tca_gguf_vtype elem;
    in->has_vocab = tca_gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &in->vocab) == TCA_OK &&
                    elem == TCA_GGUF_STRING;
    in->tok_model = get_str(g, "tokenizer.ggml.model");
    in->tok_pre = get_str(g, "tokenizer.ggml.pre");
    static const char *const keys[3] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                        "tokenizer.ggml.padding_token_id"};
    for (int k = 0; k < 3; k++) {
        in->special[k] = get_int(g, keys[k]);
        opt_str *txt = &in->special_text[k];
        if (in->special[k].present && in->has_vocab && in->special[k].v >= 0)
            txt->present = tca_gguf_get_arr_str(g, "tokenizer.ggml.tokens",
                                                (uint64_t)in->special[k].v, &txt->s,
                                                &txt->len) == TCA_OK;
    }
    in->chat_template = get_str(g, "tokenizer.chat_template");
}

static void print_dims(const tca_tensor_info *t, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "[");
    for (int d = 0; d < t->n_dims && n > 0 && (size_t)n < cap; d++)
        n += snprintf(buf + n, cap - (size_t)n, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (n > 0 && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, "]");
}

static void print_int_row(const char *label, opt_int v) {
    if (v.present) printf("  %-16s %" PRId64 "\n", label, v.v);
    else printf("  %-16s -\n", label);
}

static void print_text(const tca_gguf *g, const info *in, int tensors) {
    char hb[32];
    human_bytes(hb, sizeof hb, in->size);
    printf("file             %s\n", in->path);
    printf("gguf             v%u, %" PRIu64 " bytes (%s), alignment %u\n", in->version, in->size, hb,
           in->alignment);
    printf("name             ");
    if (in->name.present) print_quoted(in->name.s, in->name.len);
    else printf("-");
    printf("\narchitecture     %.*s\n", in->arch.present ? (int)in->arch.len : 1,
           in->arch.present ? in->arch.s : "-");
    printf("hyperparameters\n");
    print_int_row("layers", in->layers);
    print_int_row("embedding", in->embd);
    print_int_row("ffn", in->ffn);
    print_int_row("heads", in->heads);
    print_int_row("kv heads", in->kv_heads);
    if (in->head_dim) printf("  %-16s %" PRId64 "%s\n", "head dim", in->head_dim,
                             in->key_len.present ? "" : " (embedding / heads)");
    else printf("  %-16s -\n", "head dim");
    if (in->rope_base.present) printf("  %-16s %g\n", "rope base", in->rope_base.v);
    else printf("  %-16s -\n", "rope base");
    if (in->rope_type.present || in->rope_factor.present) {
        printf("  %-16s %.*s", "rope scaling", in->rope_type.present ? (int)in->rope_type.len : 1,
               in->rope_type.present ? in->rope_type.s : "?");
        if (in->rope_factor.present) printf(", factor %g", in->rope_factor.v);
        if (in->rope_orig_ctx.present) printf(", original context %" PRId64, in->rope_orig_ctx.v);
        printf("\n");
    } else {
        printf("  %-16s none\n", "rope scaling");
    }
    if (in->rms_eps.present) printf("  %-16s %g\n", "rms eps", in->rms_eps.v);
    else printf("  %-16s -\n", "rms eps");
    print_int_row("context length", in->ctx);

    human_bytes(hb, sizeof hb, in->tensor_bytes);
    printf("tensors          %" PRId64 ", %" PRIu64 " bytes (%s)\n", in->n_tensors, in->tensor_bytes,
           hb);
    for (uint32_t t = 0; t < MAX_TYPE_ID; t++) {
        if (!in->type_count[t]) continue;
        human_bytes(hb, sizeof hb, in->type_bytes[t]);
        printf("  %-6s %5" PRIu64 " tensors %12" PRIu64 " bytes (%s)\n", tca_gguf_type_name(t),
               in->type_count[t], in->type_bytes[t], hb);
    }
    if (in->has_vocab) printf("vocab            %" PRIu64 " tokens\n", in->vocab);
    else printf("vocab            - (no tokenizer.ggml.tokens)\n");
    printf("tokenizer        model %.*s, pre %.*s\n",
           in->tok_model.present ? (int)in->tok_model.len : 1, in->tok_model.present ? in->tok_model.s : "-",
           in->tok_pre.present ? (int)in->tok_pre.len : 1, in->tok_pre.present ? in->tok_pre.s : "-");
    for (int k = 0; k < 3; k++) {
        printf("  %-4s           ", special_names[k]);
        if (!in->special[k].present) {
            printf("-\n");
            continue;
        }
        printf("%" PRId64 " ", in->special[k].v);
        if (in->special_text[k].present) print_quoted(in->special_text[k].s, in->special_text[k].len);
        else printf("(not in the vocab)");
        printf("\n");
    }
    if (in->chat_template.present)
        printf("chat template    yes (%zu bytes)\n", in->chat_template.len);
    else
        printf("chat template    no\n");
    if (!tensors) return;
    printf("\n%-5s %-40s %-6s %-24s %12s %12s\n", "#", "tensor", "type", "shape", "bytes", "offset");
    for (int64_t i = 0; i < in->n_tensors; i++) {
        const tca_tensor_info *t = tca_gguf_tensor(g, i);
        char dims[96];
        print_dims(t, dims, sizeof dims);
        printf("%-5" PRId64 " %-40s %-6s %-24s %12" PRIu64 " %12" PRIu64 "\n", i, t->name,
               tca_gguf_type_name(t->type), dims, t->nbytes, t->offset);
    }
}

static void json_add_opt_int(cJSON *o, const char *k, opt_int v) {
    if (v.present) cJSON_AddNumberToObject(o, k, (double)v.v);
    else cJSON_AddNullToObject(o, k);
}

static void json_add_opt_f64(cJSON *o, const char *k, opt_f64 v) {
    if (v.present) cJSON_AddNumberToObject(o, k, v.v);
    else cJSON_AddNullToObject(o, k);
}

static void json_add_opt_str(cJSON *o, const char *k, opt_str v) {
    if (!v.present) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    char *c = dup_str(v.s, v.len);
    cJSON_AddStringToObject(o, k, c);
    free(c);
}

static cJSON *to_json(const tca_gguf *g, const info *in, int tensors) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", in->path);
    cJSON_AddNumberToObject(root, "gguf_version", in->version);
    cJSON_AddNumberToObject(root, "file_bytes", (double)in->size);
    cJSON_AddNumberToObject(root, "alignment", in->alignment);
    json_add_opt_str(root, "name", in->name);
    json_add_opt_str(root, "architecture", in->arch);
    cJSON *hp = cJSON_AddObjectToObject(root, "hyperparameters");
    json_add_opt_int(hp, "layers", in->layers);
    json_add_opt_int(hp, "embedding", in->embd);
    json_add_opt_int(hp, "ffn", in->ffn);
    json_add_opt_int(hp, "heads", in->heads);
    json_add_opt_int(hp, "kv_heads", in->kv_heads);
    if (in->head_dim) cJSON_AddNumberToObject(hp, "head_dim", (double)in->head_dim);
    else cJSON_AddNullToObject(hp, "head_dim");
    json_add_opt_f64(hp, "rope_base", in->rope_base);
    if (in->rope_type.present || in->rope_factor.present) {
        cJSON *rs = cJSON_AddObjectToObject(hp, "rope_scaling");
        json_add_opt_str(rs, "type", in->rope_type);
        json_add_opt_f64(rs, "factor", in->rope_factor);
        json_add_opt_int(rs, "original_context_length", in->rope_orig_ctx);
    } else {
        cJSON_AddNullToObject(hp, "rope_scaling");
    }
    json_add_opt_f64(hp, "rms_eps", in->rms_eps);
    json_add_opt_int(hp, "context_length", in->ctx);

    cJSON *ts = cJSON_AddObjectToObject(root, "tensors");
    cJSON_AddNumberToObject(ts, "count", (double)in->n_tensors);
    cJSON_AddNumberToObject(ts, "bytes", (double)in->tensor_bytes);
    cJSON *types = cJSON_AddObjectToObject(ts, "types");
    for (uint32_t t = 0; t < MAX_TYPE_ID; t++) {
        if (!in->type_count[t]) continue;
        cJSON *e = cJSON_AddObjectToObject(types, tca_gguf_type_name(t));
        cJSON_AddNumberToObject(e, "count", (double)in->type_count[t]);
        cJSON_AddNumberToObject(e, "bytes", (double)in->type_bytes[t]);
    }
    if (tensors) {
        cJSON *list = cJSON_AddArrayToObject(ts, "list");
        for (int64_t i = 0; i < in->n_tensors; i++) {
            const tca_tensor_info *t = tca_gguf_tensor(g, i);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", t->name);
            cJSON_AddStringToObject(e, "type", tca_gguf_type_name(t->type));
            cJSON *shape = cJSON_AddArrayToObject(e, "shape");
            for (int d = 0; d < t->n_dims; d++)
                cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[d]));
            cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
            cJSON_AddNumberToObject(e, "offset", (double)t->offset);
            cJSON_AddItemToArray(list, e);
        }
    }

    cJSON *tok = cJSON_AddObjectToObject(root, "tokenizer");
    if (in->has_vocab) cJSON_AddNumberToObject(tok, "vocab_size", (double)in->vocab);
    else cJSON_AddNullToObject(tok, "vocab_size");
    json_add_opt_str(tok, "model", in->tok_model);
    json_add_opt_str(tok, "pre", in->tok_pre);
    for (int k = 0; k < 3; k++) {
        if (!in->special[k].present) {
            cJSON_AddNullToObject(tok, special_names[k]);
            continue;
        }
        cJSON *e = cJSON_AddObjectToObject(tok, special_names[k]);
        cJSON_AddNumberToObject(e, "id", (double)in->special[k].v);
        json_add_opt_str(e, "text", in->special_text[k]);
    }
    cJSON_AddBoolToObject(tok, "chat_template", in->chat_template.present);
    return root;
}

int tca_cmd_info(int argc, char **argv) {
    int json = 0, tensors = 0;
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--tensors")) {
            tensors = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "tca info: unknown option '%s' (see tca info --help)\n", argv[i]);
            return 1;
        } else if (model) {
            fprintf(stderr, "tca info: more than one MODEL given ('%s' and '%s')\n", model, argv[i]);
            return 1;
        } else {
            model = argv[i];
        }
    }
    if (!model) model = TCA_DEFAULT_MODEL;

    char path[4096];
    tca_status s = tca_model_resolve(model, path, sizeof path);
    if (s) return tca_tool_fail("info", s);
    tca_gguf *g;
    s = tca_gguf_open(path, &g);
    if (s) return tca_tool_fail("info", s);

    info *in = malloc(sizeof *in);
    if (!in) {
        tca_gguf_free(g);
        fprintf(stderr, "tca info: out of memory\n");
        return 1;
    }
    gather(g, path, in);
    if (json) {
        cJSON *root = to_json(g, in, tensors);
        char *text = root ? cJSON_Print(root) : NULL;
        if (!text) {
            fprintf(stderr, "tca info: out of memory building JSON\n");
            cJSON_Delete(root);
            free(in);
            tca_gguf_free(g);
            return 1;
        }
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(root);
    } else {
        print_text(g, in, tensors);
    }
    free(in);
    tca_gguf_free(g);
    return 0;
}
