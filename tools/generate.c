#include "generate.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_args.h"
#include "commands.h"
#include "tca_config.h"
#include "wall_clock.h"

const char gen_common_help[] =
    "  -m, --model MODEL    .gguf path or fetched model name (default " TCA_DEFAULT_MODEL ")\n"
    "  -n, --n-predict N    generate at most N tokens (default 128); stops early at end of turn\n"
    "  -t, --threads N      threads (default: all cores)\n"
    "  -c, --ctx N          context size in tokens (default: prompt + N, at most the model's)\n"
    "      --temp T         sampling temperature; 0 = greedy (default 0)\n"
    "      --top-k K        keep the K most likely tokens (default 40; 0 = all)\n"
    "      --top-p P        keep the smallest set with probability mass P (default 0.95)\n"
    "      --seed S         random seed for sampling (default 0)\n"
    "      --json           print the text and the run summary as one JSON object on stdout\n";

void gen_options_default(gen_options *o) {
    memset(o, 0, sizeof *o);
    o->model = TCA_DEFAULT_MODEL;
    o->n_predict = 128;
    o->sampling = tca_sampler_default_params();
    attn_options_default(&o->attn);
}

static int parse_float(const char *opt, const char *s, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "tca: %s expects a number in [%g, %g], got '%s'\n", opt, lo, hi, s ? s : "");
        return -1;
    }
    *out = (float)v;
    return 1;
}

int gen_parse_common(gen_options *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    int r;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        if (!v) return fprintf(stderr, "tca: %s needs a value\n", a), -1;
        o->model = v;
        r = 1;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
        if ((r = cli_long(a, v, 0, 1 << 24, &n)) > 0) o->n_predict = (int)n;
    } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
        if ((r = cli_long(a, v, 1, 1024, &n)) > 0) o->n_threads = (int)n;
    } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
        if ((r = cli_long(a, v, 1, 1 << 24, &n)) > 0) o->n_ctx = (int)n;
    } else if (!strcmp(a, "--temp")) {
        r = parse_float(a, v, 0, 100, &o->sampling.temp);
    } else if (!strcmp(a, "--top-k")) {
        if ((r = cli_long(a, v, 0, 1 << 24, &n)) > 0) o->sampling.top_k = (int)n;
    } else if (!strcmp(a, "--top-p")) {
        r = parse_float(a, v, 1e-6, 1, &o->sampling.top_p);
    } else if (!strcmp(a, "--seed")) {
        if ((r = cli_long(a, v, 0, 0x7fffffffL, &n)) > 0) o->sampling.seed = (uint64_t)n;
    } else if (!strcmp(a, "--json")) {
        o->json = true;
        return 1;
    } else {
        return attn_parse(&o->attn, argc, argv, i);
    }
    if (r > 0) (*i)++;
    return r;
}

char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tca: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        fprintf(stderr, "tca: cannot read '%s'\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Peak resident memory of this process, bytes (weights count as their mapped pages are read). */
static uint64_t peak_rss(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss * 1024;
}

typedef struct progress_state {
    double t0;
    int64_t last_shown;
    bool tty;
} progress_state;

/* Prefill progress on stderr: a live line on a terminal, else a line per ~10% (logs stay short). */
static void show_progress(int64_t done, int64_t total, void *user) {
    progress_state *p = user;
    double dt = now_s() - p->t0;
    if (!p->tty && done != total && done - p->last_shown < total / 10) return;
    p->last_shown = done;
    fprintf(stderr, "%sprefill %3d%% (%lld/%lld tokens, %.1f tok/s)%s", p->tty ? "\r" : "",
            (int)(100 * done / total), (long long)done, (long long)total, dt > 0 ? (double)done / dt : 0.0,
            p->tty && done != total ? "" : "\n");
}

int gen_run(const gen_options *o, const gen_part *parts, int n_parts) {
    char path[4096];
    tca_status s = tca_model_resolve(o->model, path, sizeof path);
    if (s != TCA_OK) return tca_tool_fail("model", s);
    tca_model *model = NULL;
    tca_tokenizer *tok = NULL;
    tca_context *ctx = NULL;
    tca_sampler *smp = NULL;
    tca_detok *detok = NULL;
    tca_token *ids = NULL;
    float *logits = NULL;
    int rc = 1;
    cJSON *out = NULL;
    char *text = NULL;
    size_t text_len = 0, text_cap = 0;
    tca_budget *budget = NULL;
    if ((s = tca_model_load(path, &model)) != TCA_OK) {
        rc = tca_tool_fail("loading the model", s);
        goto done;
    }
    const tca_hparams *hp = tca_model_hparams(model);
    if ((s = tca_tokenizer_load(tca_model_gguf(model), &tok)) != TCA_OK) {
        rc = tca_tool_fail("loading the tokenizer", s);
        goto done;
    }
    size_t n_prompt = 0;
    for (int i = 0; i < n_parts; i++) {
        /* BOS/EOS rules of the metadata apply to the prompt as a whole: first and last part */
        unsigned flags = (parts[i].special ? TCA_TOK_PARSE_SPECIAL : 0) | (i == 0 ? TCA_TOK_ADD_SPECIAL : 0);
        tca_token *part = NULL;
        size_t n = 0;
        if ((s = tca_tokenize_alloc(tok, parts[i].text, parts[i].len, flags, &part, &n)) != TCA_OK) {
            rc = tca_tool_fail("tokenizing the prompt", s);
            goto done;
        }
        tca_token *grown = realloc(ids, (n_prompt + n + 1) * sizeof *ids);
        if (!grown) {
            free(part);
            goto done;
        }
        ids = grown;
        memcpy(ids + n_prompt, part, n * sizeof *part);
        n_prompt += n;
        free(part);
    }
    if (n_prompt == 0) {
        fprintf(stderr, "tca: the prompt is empty\n");
        goto done;
    }
    long need = (long)n_prompt + o->n_predict;
    int n_ctx = o->n_ctx ? o->n_ctx : (int)(need < hp->n_ctx_train ? need : hp->n_ctx_train);
    if (n_ctx > hp->n_ctx_train || need > n_ctx) {
        fprintf(stderr,
                "tca: the prompt (%zu tokens) plus %d tokens to generate needs %ld tokens of context, more than %s "
                "(%d); shorten the input or lower -n\n",
                n_prompt, o->n_predict, need, o->n_ctx ? "-c" : "the model's context", o->n_ctx ? o->n_ctx : hp->n_ctx_train);
        goto done;
    }
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = o->n_threads;
    attn_options ao = o->attn;
    if (attn_configure(&ao, model, (long)n_prompt, &cp, &budget) != 0) goto done;
    if ((s = tca_context_new(model, &cp, &ctx)) != TCA_OK || (s = tca_sampler_new(&o->sampling, hp->n_vocab, &smp)) != TCA_OK ||
        (s = tca_detok_new(tok, true, &detok)) != TCA_OK) {
        rc = tca_tool_fail("setting up", s);
        goto done;
    }
    logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    if (!logits) goto done;

    progress_state ps = {now_s(), 0, isatty(2) != 0};
    bool show = n_prompt >= 256;
    if ((s = tca_eval(ctx, ids, (int64_t)n_prompt, logits, show ? show_progress : NULL, &ps)) != TCA_OK) {
        rc = tca_tool_fail("prefill", s);
        goto done;
    }
    int n_gen = 0;
    const char *stop = "length";
    for (; n_gen < o->n_predict; n_gen++) {
        tca_token t = tca_sample(smp, logits);
        if (tca_token_is_eog(tok, t)) {
            stop = "end of turn";
            break;
        }
        const char *piece;
        size_t plen;
        tca_detok_push(detok, t, &piece, &plen);
        if (o->json) {
            if (text_len + plen + 1 > text_cap) {
                text_cap = 2 * (text_len + plen + 1);
                char *nt = realloc(text, text_cap);
                if (!nt) goto done;
                text = nt;
            }
            memcpy(text + text_len, piece, plen);
            text_len += plen;
        } else {
            fwrite(piece, 1, plen, stdout);
            fflush(stdout);
        }
        if (n_gen + 1 < o->n_predict && (s = tca_eval(ctx, &t, 1, logits, NULL, NULL)) != TCA_OK) {
            rc = tca_tool_fail("decode", s);
            goto done;
        }
    }
    const char *tail;
    size_t tail_len;
    tca_detok_flush(detok, &tail, &tail_len);
    if (!o->json) {
        fwrite(tail, 1, tail_len, stdout);
        printf("\n");
    }

    const tca_timings *tm = tca_context_timings(ctx);
    tca_cache_stats cs;
    tca_context_cache_stats(ctx, &cs);
    char attn_name[512];
    attn_describe(&ao, &cp, attn_name, sizeof attn_name);
    double pp = tm->prefill > 0 ? (double)tm->n_prefill_tokens / tm->prefill : 0;
    double tg = tm->decode > 0 ? (double)tm->n_decode_tokens / tm->decode : 0;
    if (o->json) {
        out = cJSON_CreateObject();
        char *full = malloc(text_len + tail_len + 1);
        if (!full) goto done;
        memcpy(full, text ? text : "", text_len);
        memcpy(full + text_len, tail, tail_len);
        full[text_len + tail_len] = '\0';
        cJSON_AddStringToObject(out, "text", full);
        free(full);
        cJSON_AddStringToObject(out, "model", path);
        cJSON_AddNumberToObject(out, "prompt_tokens", (double)n_prompt);
        cJSON_AddNumberToObject(out, "generated_tokens", n_gen);
        cJSON_AddStringToObject(out, "stop", stop);
        cJSON_AddNumberToObject(out, "prefill_tokens_per_s", pp);
        cJSON_AddNumberToObject(out, "decode_tokens_per_s", tg);
        cJSON_AddStringToObject(out, "attention", attn_name);
        cJSON_AddNumberToObject(out, "kv_cache_bytes", (double)cs.kv_bytes);
        cJSON_AddNumberToObject(out, "kv_cache_bytes_dense", (double)cs.kv_bytes_dense);
        cJSON_AddNumberToObject(out, "keep_ratio", cs.keep);
        cJSON_AddNumberToObject(out, "keep_ratio_layer_mean", cs.layer_mean);
        cJSON_AddNumberToObject(out, "keep_ratio_layer_min", cs.layer_min);
        cJSON_AddNumberToObject(out, "keep_ratio_layer_max", cs.layer_max);
        cJSON_AddNumberToObject(out, "peak_memory_bytes", (double)peak_rss());
        cJSON_AddNumberToObject(out, "threads", tca_context_n_threads(ctx));
        char *js = cJSON_Print(out);
        if (js) puts(js);
        free(js);
    } else {
        fprintf(stderr,
                "\n[%s, %s] prompt %zu tokens, prefill %.1f tok/s | generated %d tokens (%s), decode %.1f tok/s | "
                "KV cache %.1f MiB (keep %.3f of dense; per layer mean %.3f, min %.3f, max %.3f) | peak memory %.1f MiB "
                "| %d threads\n",
                hp->arch_name, attn_name, n_prompt, pp, n_gen, stop, tg, (double)cs.kv_bytes / (1 << 20), cs.keep,
                cs.layer_mean, cs.layer_min, cs.layer_max, (double)peak_rss() / (1 << 20), tca_context_n_threads(ctx));
    }
    rc = 0;
done:
    cJSON_Delete(out);
    free(text);
    free(logits);
    free(ids);
    tca_detok_free(detok);
    tca_sampler_free(smp);
    tca_context_free(ctx);
    tca_budget_free(budget);
    tca_tokenizer_free(tok);
    tca_model_free(model);
    return rc;
}
