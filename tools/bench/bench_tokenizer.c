/* bench_tokenizer: encoding speed of the tokenizer, one thread, on a ~1 MB book, for each model
 * given (default: smollm2 and qwen2.5-0.5b). Prints a markdown table (best and median of the
 * repetitions, MB/s and tokens/s) and one JSON line per model with machine, threads and commit.
 *
 *   bench_tokenizer [--reps N] [--file BOOK] [MODEL...]
 *
 * BOOK defaults to $TCA_GUTENBERG_DIR/melville-moby_dick.txt (else ../shared/data/gutenberg
 * beside the source tree). Timing covers tca_tokenize_alloc only (not loading). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tca/tca.h"
#include "tca_config.h"
#include "../wall_clock.h"

/* CPU time of this thread: on a shared machine the wall time also counts waiting for a core. */
static double cpu_s(void) { return clock_seconds(CLOCK_THREAD_CPUTIME_ID); }

static void cpu_name(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            snprintf(out, size, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int reps = 5;
    const char *file = NULL;
    const char *models[16];
    int n_models = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_tokenizer [--reps N] [--file BOOK] [MODEL...]\n");
            return 2;
        } else if (n_models < 16) models[n_models++] = argv[i];
    }
    if (reps < 1 || reps > 1000) reps = 5;
    if (n_models == 0) {
        models[n_models++] = "smollm2";
        models[n_models++] = "qwen2.5-0.5b";
    }
    char book[4096];
    if (!file) {
        const char *dir = getenv("TCA_GUTENBERG_DIR");
        if (dir && *dir) snprintf(book, sizeof book, "%s/melville-moby_dick.txt", dir);
        else snprintf(book, sizeof book, "%s/../shared/data/gutenberg/melville-moby_dick.txt",
                      TCA_SOURCE_DIR);
        file = book;
    }
    size_t len;
    char *text = read_file(file, &len);
    if (!text) {
        fprintf(stderr, "bench_tokenizer: cannot read %s\n", file);
        return 1;
    }
    char machine[128];
    cpu_name(machine, sizeof machine);
    /* The file's base name, bounded so that a JSON line always fits its buffer. */
    char base[256];
    snprintf(base, sizeof base, "%.255s", strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
    printf("bench_tokenizer: %s, commit %s, 1 thread, %s (%zu bytes), %d reps\n\n", machine,
           TCA_BENCH_COMMIT, base, len, reps);
    printf("| model | pre | load s | tokens | best s | median s | best cpu s | MB/s (best) | "
           "tokens/s (best) |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    char json[16][1024];
    int rc = 0;
    for (int m = 0; m < n_models; m++) {
        char path[4096];
        tca_gguf *g = NULL;
        tca_tokenizer *t = NULL;
        double load = 0;
        if (tca_model_resolve(models[m], path, sizeof path) != TCA_OK ||
            tca_gguf_open(path, &g) != TCA_OK ||
            (load = now_s(), tca_tokenizer_load(g, &t)) != TCA_OK) {
            fprintf(stderr, "bench_tokenizer: %s: %s\n", models[m], tca_last_error());
            tca_gguf_free(g);
            json[m][0] = '\0';
            rc = 1;
            continue;
        }
        load = now_s() - load;
        tca_gguf_free(g);
        double times[1000], cpus[1000];
        size_t n_tok = 0;
        for (int r = 0; r < reps; r++) {
            tca_token *ids;
            double t0 = now_s(), c0 = cpu_s();
            tca_status s = tca_tokenize_alloc(t, text, len, TCA_TOK_PARSE_SPECIAL, &ids, &n_tok);
            times[r] = now_s() - t0;
            cpus[r] = cpu_s() - c0;
            if (s != TCA_OK) {
                fprintf(stderr, "bench_tokenizer: %s: %s\n", models[m], tca_last_error());
                return 1;
            }
            free(ids);
        }
        qsort(times, (size_t)reps, sizeof times[0], cmp_double);
        qsort(cpus, (size_t)reps, sizeof cpus[0], cmp_double);
        double best = times[0], med = times[reps / 2];
        double mbs = (double)len / 1e6 / best, tps = (double)n_tok / best;
        printf("| %s | %s | %.3f | %zu | %.3f | %.3f | %.3f | %.1f | %.0f |\n", models[m],
               tca_tokenizer_pre(t), load, n_tok, best, med, cpus[0], mbs, tps);
        snprintf(json[m], sizeof json[m],
                 "{\"bench\":\"tokenizer\",\"machine\":\"%s\",\"commit\":\"%s\",\"threads\":1,"
                 "\"model\":\"%.200s\",\"file\":\"%s\",\"bytes\":%zu,\"tokens\":%zu,\"reps\":%d,"
                 "\"load_s\":%.6f,\"best_s\":%.6f,\"median_s\":%.6f,\"best_cpu_s\":%.6f,"
                 "\"mb_per_s\":%.3f,\"tokens_per_s\":%.1f}",
                 machine, TCA_BENCH_COMMIT, models[m], base, len, n_tok, reps, load, best, med,
                 cpus[0], mbs, tps);
        tca_tokenizer_free(t);
    }
    printf("\n");
    for (int m = 0; m < n_models; m++)
        if (json[m][0]) printf("%s\n", json[m]);
    free(text);
    return rc;
}
