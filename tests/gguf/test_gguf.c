/* Unit test of the GGUF reader over crafted files (gguf_writer.c): a valid file round-trips
 * every value type, nested arrays and six tensors; every malformed variant is refused with its
 * status and a message naming the problem; every truncation of the valid file is refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "tca/tca.h"

#include "../check.h"

static int str_is(const char *s, size_t len, const char *want) {
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Keys of the valid file in file order, and their types (gguf_writer.c writes them). */
static const struct {
    const char *key;
    tca_gguf_vtype type;
} valid_keys[] = {
    {"general.architecture", TCA_GGUF_STRING}, {"general.alignment", TCA_GGUF_U32},
    {"t.u8", TCA_GGUF_U8}, {"t.i8", TCA_GGUF_I8}, {"t.u16", TCA_GGUF_U16},
    {"t.i16", TCA_GGUF_I16}, {"t.u32", TCA_GGUF_U32}, {"t.i32", TCA_GGUF_I32},
    {"t.f32", TCA_GGUF_F32}, {"t.bool", TCA_GGUF_BOOL}, {"t.str", TCA_GGUF_STRING},
    {"t.u64", TCA_GGUF_U64}, {"t.i64", TCA_GGUF_I64}, {"t.f64", TCA_GGUF_F64},
    {"t.empty_str", TCA_GGUF_STRING}, {"t.\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", TCA_GGUF_U32},
    {"t.arr_u8", TCA_GGUF_ARRAY}, {"t.arr_i8", TCA_GGUF_ARRAY}, {"t.arr_u16", TCA_GGUF_ARRAY},
    {"t.arr_i16", TCA_GGUF_ARRAY}, {"t.arr_u32", TCA_GGUF_ARRAY}, {"t.arr_i32", TCA_GGUF_ARRAY},
    {"t.arr_f32", TCA_GGUF_ARRAY}, {"t.arr_bool", TCA_GGUF_ARRAY}, {"t.arr_str", TCA_GGUF_ARRAY},
    {"t.arr_u64", TCA_GGUF_ARRAY}, {"t.arr_i64", TCA_GGUF_ARRAY}, {"t.arr_f64", TCA_GGUF_ARRAY},
    {"t.arr_empty", TCA_GGUF_ARRAY}, {"t.arr_nested", TCA_GGUF_ARRAY},
    {"t.arr_deep", TCA_GGUF_ARRAY},
};
#define N_VALID_KEYS (int64_t)(sizeof valid_keys / sizeof valid_keys[0])

static const struct {
    const char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[4];
    uint64_t offset, nbytes;
} valid_tensors[] = {
    {"t.q4_0", 2, 3, {32, 1, 3, 1}, 576, 54},  {"tok.f32", 0, 2, {4, 3, 1, 1}, 0, 48},
    {"t.f16", 1, 1, {8, 1, 1, 1}, 64, 16},     {"t.q8_0", 8, 2, {64, 2, 1, 1}, 128, 136},
    {"t.q4_k", 12, 1, {256, 1, 1, 1}, 320, 144}, {"t.bf16", 30, 4, {2, 2, 2, 2}, 512, 32},
};
#define DATA_BYTES 630

static void check_scalars(const tca_gguf *g) {
    int64_t i;
    double d;
    bool b;
    const char *s;
    size_t len;
    CHECK_OK(tca_gguf_get_int(g, "t.u8", &i)); CHECK(i == 200);
    CHECK_OK(tca_gguf_get_int(g, "t.i8", &i)); CHECK(i == -100);
    CHECK_OK(tca_gguf_get_int(g, "t.u16", &i)); CHECK(i == 60000);
    CHECK_OK(tca_gguf_get_int(g, "t.i16", &i)); CHECK(i == -30000);
    CHECK_OK(tca_gguf_get_int(g, "t.u32", &i)); CHECK(i == 4000000000);
    CHECK_OK(tca_gguf_get_int(g, "t.i32", &i)); CHECK(i == -2000000000);
    CHECK_OK(tca_gguf_get_int(g, "t.i64", &i)); CHECK(i == INT64_C(-9000000000000000000));
    CHECK_OK(tca_gguf_get_int(g, "t.\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", &i)); CHECK(i == 7);
    i = 12345;
    CHECK_FAIL(tca_gguf_get_int(g, "t.u64", &i), TCA_ERR_FORMAT, "'t.u64': u64 value does not fit");
    CHECK(i == 12345); /* untouched on failure */
    CHECK_FAIL(tca_gguf_get_int(g, "t.f32", &i), TCA_ERR_FORMAT,
               "key 't.f32' has type f32, expected an integer");
    CHECK_FAIL(tca_gguf_get_int(g, "t.arr_u8", &i), TCA_ERR_FORMAT,
               "key 't.arr_u8' is an array of u8, expected an integer");
    CHECK_FAIL(tca_gguf_get_int(g, "no.such.key", &i), TCA_ERR_NOT_FOUND, "key 'no.such.key' not found");

    CHECK_OK(tca_gguf_get_float(g, "t.f32", &d)); CHECK(d == 1.5);
    CHECK_OK(tca_gguf_get_float(g, "t.f64", &d)); CHECK(d == -2.25e300);
    CHECK_OK(tca_gguf_get_float(g, "t.i32", &d)); CHECK(d == -2e9);
    CHECK_OK(tca_gguf_get_float(g, "t.u64", &d)); CHECK(d == 18446744073709551615.0);
    CHECK_FAIL(tca_gguf_get_float(g, "t.str", &d), TCA_ERR_FORMAT, "has type string, expected a number");

    CHECK_OK(tca_gguf_get_bool(g, "t.bool", &b)); CHECK(b == true);
    CHECK_FAIL(tca_gguf_get_bool(g, "t.u8", &b), TCA_ERR_FORMAT, "key 't.u8' has type u8, expected bool");

    CHECK_OK(tca_gguf_get_str(g, "general.architecture", &s, &len)); CHECK(str_is(s, len, "llama"));
    CHECK_OK(tca_gguf_get_str(g, "t.str", &s, &len)); CHECK(str_is(s, len, "h\xc3\xa9llo w\xc3\xb6rld"));
    CHECK_OK(tca_gguf_get_str(g, "t.empty_str", &s, &len)); CHECK(len == 0);
    CHECK_FAIL(tca_gguf_get_str(g, "t.u32", &s, &len), TCA_ERR_FORMAT, "has type u32, expected string");
}

/* Reads element k of a fixed-width array (unaligned: memcpy). */
#define ARR_ELEM(T, data, k) ({ T v_; memcpy(&v_, (const uint8_t *)(data) + (k) * sizeof(T), sizeof(T)); v_; })

static void check_arrays(const tca_gguf *g) {
    tca_gguf_vtype e;
    uint64_t n;
    const void *p;
    const char *s;
    size_t len;
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_u8", TCA_GGUF_U8, &p, &n));
    CHECK(n == 3 && ARR_ELEM(uint8_t, p, 0) == 1 && ARR_ELEM(uint8_t, p, 2) == 3);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_i8", TCA_GGUF_I8, &p, &n));
    CHECK(n == 2 && ARR_ELEM(int8_t, p, 0) == -128 && ARR_ELEM(int8_t, p, 1) == 127);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_u16", TCA_GGUF_U16, &p, &n));
    CHECK(n == 1 && ARR_ELEM(uint16_t, p, 0) == 65535);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_i16", TCA_GGUF_I16, &p, &n));
    CHECK(n == 2 && ARR_ELEM(int16_t, p, 0) == -1 && ARR_ELEM(int16_t, p, 1) == 2);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_u32", TCA_GGUF_U32, &p, &n));
    CHECK(n == 2 && ARR_ELEM(uint32_t, p, 0) == 0 && ARR_ELEM(uint32_t, p, 1) == 0xdeadbeef);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_i32", TCA_GGUF_I32, &p, &n));
    CHECK(n == 1 && ARR_ELEM(int32_t, p, 0) == -5);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_f32", TCA_GGUF_F32, &p, &n));
    CHECK(n == 3 && ARR_ELEM(float, p, 0) == 0.5f && ARR_ELEM(float, p, 1) == -1.0f &&
          ARR_ELEM(float, p, 2) == 3e38f);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_bool", TCA_GGUF_BOOL, &p, &n));
    CHECK(n == 4 && memcmp(p, "\1\0\1\1", 4) == 0);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_u64", TCA_GGUF_U64, &p, &n));
    CHECK(n == 1 && ARR_ELEM(uint64_t, p, 0) == UINT64_C(1) << 63);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_i64", TCA_GGUF_I64, &p, &n));
    CHECK(n == 2 && ARR_ELEM(int64_t, p, 0) == INT64_MIN && ARR_ELEM(int64_t, p, 1) == INT64_MAX);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_f64", TCA_GGUF_F64, &p, &n));
    CHECK(n == 1 && ARR_ELEM(double, p, 0) == 1e-300);
    CHECK_OK(tca_gguf_get_arr_data(g, "t.arr_empty", TCA_GGUF_I32, &p, &n));
    CHECK(n == 0);
    CHECK_FAIL(tca_gguf_get_arr_data(g, "t.arr_u8", TCA_GGUF_I8, &p, &n), TCA_ERR_FORMAT,
               "key 't.arr_u8' is an array of u8, expected an array of i8");
    CHECK_FAIL(tca_gguf_get_arr_data(g, "t.u8", TCA_GGUF_U8, &p, &n), TCA_ERR_FORMAT,
               "has type u8, expected an array of u8");
    CHECK_FAIL(tca_gguf_get_arr_data(g, "t.arr_str", TCA_GGUF_STRING, &p, &n), TCA_ERR_ARG,
               "not a fixed-width element type");

    CHECK_OK(tca_gguf_get_arr(g, "t.arr_str", &e, &n));
    CHECK(e == TCA_GGUF_STRING && n == 4);
    static const char *const strs[] = {"a", "", "\xc3\xbcn\xc3\xaf", "<|end|>"};
    for (uint64_t k = 0; k < 4; k++) {
        CHECK_OK(tca_gguf_get_arr_str(g, "t.arr_str", k, &s, &len));
        CHECK(str_is(s, len, strs[k]));
    }
    CHECK_FAIL(tca_gguf_get_arr_str(g, "t.arr_str", 4, &s, &len), TCA_ERR_RANGE,
               "index 4 out of range (4 strings)");
    CHECK_FAIL(tca_gguf_get_arr_str(g, "t.arr_u8", 0, &s, &len), TCA_ERR_FORMAT,
               "expected an array of string");
    CHECK_FAIL(tca_gguf_get_arr(g, "t.str", &e, &n), TCA_ERR_FORMAT, "expected array");

    CHECK_OK(tca_gguf_get_arr(g, "t.arr_nested", &e, &n));
    CHECK(e == TCA_GGUF_ARRAY && n == 3);
    CHECK_OK(tca_gguf_get_arr(g, "t.arr_deep", &e, &n));
    CHECK(e == TCA_GGUF_ARRAY && n == 1);
    CHECK_OK(tca_gguf_get_arr(g, "t.arr_empty", &e, &n));
    CHECK(e == TCA_GGUF_I32 && n == 0);
}

static void check_tensors(const tca_gguf *g, const uint8_t *buf, size_t size) {
    CHECK(tca_gguf_tensor_count(g) == 6);
    const uint8_t *data0 = buf + size - DATA_BYTES; /* the data section ends the file */
    for (int64_t i = 0; i < 6; i++) {
        const tca_tensor_info *t = tca_gguf_tensor(g, i);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK(!strcmp(t->name, valid_tensors[i].name));
        CHECK(t->type == valid_tensors[i].type);
        CHECK(t->n_dims == valid_tensors[i].n_dims);
        for (int d = 0; d < 4; d++) CHECK(t->ne[d] == valid_tensors[i].ne[d]);
        CHECK(t->offset == valid_tensors[i].offset);
        CHECK(t->nbytes == valid_tensors[i].nbytes);
        CHECK((const uint8_t *)t->data == data0 + t->offset);
        int same = 1;
        for (uint64_t k = 0; k < t->nbytes; k++)
            same &= ((const uint8_t *)t->data)[k] == gw_data_byte(t->offset + k);
        CHECK(same);
        CHECK(tca_gguf_tensor_find(g, t->name) == t);
    }
    CHECK(tca_gguf_tensor(g, -1) == NULL);
    CHECK(tca_gguf_tensor(g, 6) == NULL);
    CHECK(tca_gguf_tensor_find(g, "missing") == NULL);
    CHECK(tca_gguf_tensor_find(g, "t.q4") == NULL);
}

static void check_valid(const tca_gguf *g, const uint8_t *buf, size_t size, gw_fault f) {
    CHECK(tca_gguf_version(g) == (f == GW_OK_V2 ? 2u : 3u));
    CHECK(tca_gguf_file_size(g) == size);
    CHECK(tca_gguf_alignment(g) == (f == GW_OK_NO_ALIGNMENT ? 32u : 64u));
    int64_t skip = f == GW_OK_NO_ALIGNMENT; /* valid_keys[1] is general.alignment */
    CHECK(tca_gguf_kv_count(g) == N_VALID_KEYS - skip);
    for (int64_t i = 0, j = 0; i < N_VALID_KEYS; i++) {
        if (skip && i == 1) continue;
        const char *k = tca_gguf_kv_key(g, j);
        CHECK(k && !strcmp(k, valid_keys[i].key));
        CHECK(tca_gguf_kv_type(g, j) == valid_keys[i].type);
        CHECK(tca_gguf_kv_find(g, valid_keys[i].key) == j);
        j++;
    }
    CHECK(tca_gguf_kv_key(g, -1) == NULL);
    CHECK(tca_gguf_kv_key(g, tca_gguf_kv_count(g)) == NULL);
    CHECK(tca_gguf_kv_find(g, "t.u") == -1);
    CHECK(tca_gguf_kv_find(g, "general.alignment") == (skip ? -1 : 1));
    check_scalars(g);
    check_arrays(g);
    if (f == GW_OK_NO_TENSORS) {
        CHECK(tca_gguf_tensor_count(g) == 0);
        CHECK(tca_gguf_tensor(g, 0) == NULL);
    } else {
        check_tensors(g, buf, size);
    }
}

static void test_valid(void) {
    static const gw_fault oks[] = {GW_OK, GW_OK_V2, GW_OK_NO_ALIGNMENT, GW_OK_NO_TENSORS};
    for (size_t v = 0; v < sizeof oks / sizeof oks[0]; v++) {
        gw w = {0};
        gw_build(&w, oks[v]);
        tca_gguf *g = NULL;
        CHECK_OK(tca_gguf_open_memory(w.buf, w.len, &g));
        if (g) check_valid(g, w.buf, w.len, oks[v]);
        tca_gguf_free(g);
        gw_free(&w);
    }
}

static const struct {
    gw_fault fault;
    tca_status status;
    const char *sub1, *sub2; /* both must appear in the message */
} bad_cases[] = {
    {GW_BAD_MAGIC, TCA_ERR_FORMAT, "bad magic 47 47 4d 4c at offset 0", ""},
    {GW_VERSION_1, TCA_ERR_UNSUPPORTED, "version 1 is not supported", "v2 and v3"},
    {GW_VERSION_4, TCA_ERR_UNSUPPORTED, "version 4 is not supported", ""},
    {GW_BIG_ENDIAN, TCA_ERR_UNSUPPORTED, "big-endian", ""},
    {GW_HUGE_N_KV, TCA_ERR_FORMAT, "metadata count 1152921504606846976 at offset 16", "exceeds"},
    {GW_HUGE_N_TENSORS, TCA_ERR_FORMAT, "tensor count 18446744073709551615 at offset 8", "exceeds"},
    {GW_HUGE_KEY_LEN, TCA_ERR_FORMAT, "metadata key at offset", "has length 2305843009213693952"},
    {GW_HUGE_STRING_LEN, TCA_ERR_FORMAT, "key 't.empty_str': string value at offset",
     "has length 18446744073709551612"},
    {GW_HUGE_ARRAY_LEN, TCA_ERR_FORMAT, "key 't.arr_f32': array length 4611686018427387904", "exceeds"},
    {GW_HUGE_NESTED_ARRAY_LEN, TCA_ERR_FORMAT, "key 't.arr_nested': array length 1099511627776", ""},
    {GW_UNKNOWN_VALUE_TYPE, TCA_ERR_FORMAT, "key 't.bad_type': unknown value type 13 at offset", ""},
    {GW_UNKNOWN_ELEM_TYPE, TCA_ERR_FORMAT, "key 't.bad_elem': unknown array element type 77", ""},
    {GW_TOO_DEEP, TCA_ERR_FORMAT, "key 't.too_deep': arrays nested deeper than 16 levels", ""},
    {GW_DUP_KEY, TCA_ERR_FORMAT, "duplicate key 't.u8' at offset", ""},
    {GW_KEY_NOT_UTF8, TCA_ERR_FORMAT, "metadata key at offset", "is not valid UTF-8 (byte 0xff"},
    {GW_KEY_OVERLONG_UTF8, TCA_ERR_FORMAT, "metadata key at offset", "not valid UTF-8 (byte 0xc0"},
    {GW_KEY_SURROGATE, TCA_ERR_FORMAT, "metadata key at offset", "not valid UTF-8 (byte 0xed"},
    {GW_KEY_NUL, TCA_ERR_FORMAT, "metadata key at offset", "not valid UTF-8 (byte 0x00"},
    {GW_KEY_EMPTY, TCA_ERR_FORMAT, "empty metadata key at offset 24", ""},
    {GW_BOOL_2, TCA_ERR_FORMAT, "key 't.bool': bool value 2 at offset", "neither 0 nor 1"},
    {GW_ALIGN_NOT_POW2, TCA_ERR_FORMAT, "general.alignment 48 is not a power of two", ""},
    {GW_ALIGN_ZERO, TCA_ERR_FORMAT, "general.alignment 0 is not a power of two", ""},
    {GW_ALIGN_WRONG_TYPE, TCA_ERR_FORMAT, "'general.alignment' has type u64, expected u32", ""},
    {GW_NDIMS_5, TCA_ERR_FORMAT, "tensor 't.q8_0' at offset", "n_dims 5 is not in 1..4"},
    {GW_NDIMS_0, TCA_ERR_FORMAT, "tensor 't.q8_0' at offset", "n_dims 0 is not in 1..4"},
    {GW_DIM_ZERO, TCA_ERR_FORMAT, "tensor 't.q8_0'", "dimension 1 is 0 (must be positive)"},
    {GW_DIM_NEGATIVE, TCA_ERR_FORMAT, "tensor 't.q8_0'", "dimension 1 is -2 (must be positive)"},
    {GW_ELEM_OVERFLOW, TCA_ERR_FORMAT, "tensor 'tok.f32'", "element count overflows"},
    {GW_BYTES_OVERFLOW, TCA_ERR_FORMAT, "tensor 'tok.f32'", "byte size overflows"},
    {GW_ROW_BYTES_OVERFLOW, TCA_ERR_FORMAT, "tensor 'tok.f32'", "byte size overflows"},
    {GW_TYPE_REMOVED, TCA_ERR_UNSUPPORTED, "tensor 't.q8_0'", "unknown or unsupported type id 4"},
    {GW_TYPE_UNKNOWN, TCA_ERR_UNSUPPORTED, "tensor 't.q8_0'", "unknown or unsupported type id 99"},
    {GW_NE0_NOT_BLOCK, TCA_ERR_FORMAT, "tensor 't.q8_0': ne[0] = 48",
     "not a multiple of the Q8_0 block size 32"},
    {GW_OFFSET_UNALIGNED, TCA_ERR_FORMAT, "tensor 't.q8_0': data offset 136",
     "not a multiple of the alignment 64"},
    {GW_DATA_OOB, TCA_ERR_FORMAT, "tensor 't.q4_0': data [640, +54) out of bounds", "holds 630 bytes"},
    {GW_OFFSET_HUGE, TCA_ERR_FORMAT, "tensor 't.q8_0': data [18446744073709551552, +136)",
     "out of bounds"},
    {GW_OVERLAP, TCA_ERR_FORMAT, "tensors 't.q8_0' [128, +136) and 't.q4_k' [192, +144) overlap", ""},
    {GW_DUP_TENSOR, TCA_ERR_FORMAT, "duplicate tensor name 'tok.f32' at offset", ""},
    {GW_TENSOR_NOT_UTF8, TCA_ERR_FORMAT, "tensor name at offset", "not valid UTF-8 (byte 0xe2"},
};
#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

static void test_malformed(void) {
    int covered[GW_FAULT_COUNT] = {0};
    for (size_t c = 0; c < N_BAD; c++) {
        gw w = {0};
        gw_build(&w, bad_cases[c].fault);
        covered[bad_cases[c].fault] = 1;
        tca_gguf *g = (tca_gguf *)&w; /* must be reset to NULL on failure */
        tca_status s = tca_gguf_open_memory(w.buf, w.len, &g);
        const char *msg = tca_last_error();
        if (s != bad_cases[c].status || !strstr(msg, bad_cases[c].sub1) ||
            !strstr(msg, bad_cases[c].sub2) || strncmp(msg, "gguf: ", 6) != 0 || g != NULL) {
            fprintf(stderr, "case %zu (fault %d): got %s '%s', expected %s with '%s' and '%s'\n", c,
                    (int)bad_cases[c].fault, tca_status_str(s), msg,
                    tca_status_str(bad_cases[c].status), bad_cases[c].sub1, bad_cases[c].sub2);
            failures++;
        }
        if (s == TCA_OK) tca_gguf_free(g);
        gw_free(&w);
    }
    for (int f = GW_BAD_MAGIC; f < GW_FAULT_COUNT; f++)
        if (!covered[f]) {
            fprintf(stderr, "fault %d has no expected result in bad_cases\n", f);
            failures++;
        }
    printf("malformed variants: %zu\n", N_BAD);
}

/* Every proper prefix of the valid files must be refused as malformed. Each prefix is copied into
 * a buffer of exactly its length, so that a sanitizer build catches any read past the end. */
static void test_truncations(void) {
    static const gw_fault oks[] = {GW_OK, GW_OK_NO_TENSORS};
    for (size_t v = 0; v < sizeof oks / sizeof oks[0]; v++) {
        gw w = {0};
        gw_build(&w, oks[v]);
        int bad = 0;
        for (size_t len = 0; len < w.len; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            memcpy(copy, w.buf, len);
            tca_gguf *g = NULL;
            tca_status s = tca_gguf_open_memory(copy, len, &g);
            const char *msg = tca_last_error();
            if (s != TCA_ERR_FORMAT || g != NULL || strncmp(msg, "gguf: ", 6) != 0 ||
                !(strstr(msg, "truncated") || strstr(msg, "remain") || strstr(msg, "exceeds") ||
                  strstr(msg, "out of bounds"))) {
                if (bad++ < 5)
                    fprintf(stderr, "truncation to %zu of %zu bytes: %s '%s'\n", len, w.len,
                            tca_status_str(s), msg);
                failures++;
            }
            if (s == TCA_OK) tca_gguf_free(g);
            free(copy);
        }
        printf("truncations of a %zu-byte file: %s\n", w.len, bad ? "FAILED" : "all refused");
        gw_free(&w);
    }
}

/* The mmap path: the same file through the file system, plus missing files and directories. */
static void test_open_file(void) {
    char path[] = "/tmp/tca_test_gguf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    gw w = {0};
    gw_build(&w, GW_OK);
    CHECK(write(fd, w.buf, w.len) == (ssize_t)w.len);
    close(fd);
    tca_gguf *g = NULL;
    CHECK_OK(tca_gguf_open(path, &g));
    if (g) {
        CHECK(tca_gguf_file_size(g) == w.len);
        const tca_tensor_info *t = tca_gguf_tensor_find(g, "t.q4_k");
        CHECK(t && t->nbytes == 144 && memcmp(t->data, w.buf + w.len - DATA_BYTES + 320, 144) == 0);
        int64_t i;
        CHECK_OK(tca_gguf_get_int(g, "t.u16", &i));
        CHECK(i == 60000);
    }
    tca_gguf_free(g);
    /* a malformed file: the message names the path */
    fd = open(path, O_WRONLY | O_TRUNC);
    gw_free(&w);
    gw_build(&w, GW_OVERLAP);
    CHECK(fd >= 0 && write(fd, w.buf, w.len) == (ssize_t)w.len);
    close(fd);
    CHECK_FAIL(tca_gguf_open(path, &g), TCA_ERR_FORMAT, path);
    CHECK(strstr(tca_last_error(), "overlap") != NULL);
    CHECK(g == NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    CHECK_FAIL(tca_gguf_open(path, &g), TCA_ERR_FORMAT, "empty file");
    unlink(path);
    gw_free(&w);
    CHECK_FAIL(tca_gguf_open(path, &g), TCA_ERR_NOT_FOUND, "cannot open");
    CHECK_FAIL(tca_gguf_open("/tmp", &g), TCA_ERR_IO, "not a regular file");
    CHECK_FAIL(tca_gguf_open(NULL, &g), TCA_ERR_ARG, "path is NULL");
    CHECK_FAIL(tca_gguf_open_memory(NULL, 10, &g), TCA_ERR_ARG, "data is NULL");
    CHECK_FAIL(tca_gguf_open_memory(NULL, 0, &g), TCA_ERR_FORMAT, "truncated");
}

static void test_names(void) {
    CHECK(!strcmp(tca_gguf_type_name(12), "Q4_K"));
    CHECK(!strcmp(tca_gguf_type_name(0), "F32"));
    CHECK(!strcmp(tca_gguf_type_name(30), "BF16"));
    CHECK(tca_gguf_type_name(4) == NULL);
    CHECK(tca_gguf_type_name(1000) == NULL);
    CHECK(!strcmp(tca_gguf_vtype_name(TCA_GGUF_STRING), "string"));
    CHECK(!strcmp(tca_gguf_vtype_name(TCA_GGUF_F64), "f64"));
    CHECK(!strcmp(tca_gguf_vtype_name((tca_gguf_vtype)13), "unknown"));
    /* NULL handles are tolerated by the plain accessors */
    CHECK(tca_gguf_kv_count(NULL) == 0 && tca_gguf_tensor_count(NULL) == 0);
    CHECK(tca_gguf_kv_find(NULL, "x") == -1 && tca_gguf_tensor_find(NULL, "x") == NULL);
    tca_gguf_free(NULL);
}

int main(void) {
    test_valid();
    test_malformed();
    test_truncations();
    test_open_file();
    test_names();
    if (failures) {
        fprintf(stderr, "test_gguf: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_gguf: all passed\n");
    return 0;
}
