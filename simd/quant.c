/* Type table and scalar half-precision conversions (see quant.h). */
#include "quant.h"

#include <string.h>

static const tca_type_traits traits[TCA_TYPE_COUNT] = {
    [TCA_TYPE_F32] = {"F32", 1, 4},
    [TCA_TYPE_F16] = {"F16", 1, 2},
    [TCA_TYPE_Q4_0] = {"Q4_0", TCA_QK, sizeof(tca_block_q4_0)},
    [TCA_TYPE_Q4_1] = {"Q4_1", TCA_QK, sizeof(tca_block_q4_1)},
    [TCA_TYPE_Q5_0] = {"Q5_0", TCA_QK, sizeof(tca_block_q5_0)},
    [TCA_TYPE_Q5_1] = {"Q5_1", TCA_QK, sizeof(tca_block_q5_1)},
    [TCA_TYPE_Q8_0] = {"Q8_0", TCA_QK, sizeof(tca_block_q8_0)},
    [TCA_TYPE_Q8_1] = {"Q8_1", TCA_QK, sizeof(tca_block_q8_1)},
    [TCA_TYPE_Q2_K] = {"Q2_K", TCA_QK_K, sizeof(tca_block_q2_K)},
    [TCA_TYPE_Q3_K] = {"Q3_K", TCA_QK_K, sizeof(tca_block_q3_K)},
    [TCA_TYPE_Q4_K] = {"Q4_K", TCA_QK_K, sizeof(tca_block_q4_K)},
    [TCA_TYPE_Q5_K] = {"Q5_K", TCA_QK_K, sizeof(tca_block_q5_K)},
    [TCA_TYPE_Q6_K] = {"Q6_K", TCA_QK_K, sizeof(tca_block_q6_K)},
    [TCA_TYPE_Q8_K] = {"Q8_K", TCA_QK_K, sizeof(tca_block_q8_K)},
    [TCA_TYPE_BF16] = {"BF16", 1, 2},
};

const tca_type_traits *tca_type_info(uint32_t type) {
    if (type >= TCA_TYPE_COUNT || traits[type].name == NULL) return NULL;
    return &traits[type];
}

int64_t tca_type_row_bytes(uint32_t type, int64_t n) {
    const tca_type_traits *t = tca_type_info(type);
    if (t == NULL || n < 0 || n % t->block_elems != 0) return -1;
    if (n / t->block_elems > INT64_MAX / t->block_bytes) return -1; /* would overflow */
    return n / t->block_elems * t->block_bytes;
}

float tca_f16_to_f32(tca_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while ((man & 0x400) == 0);
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13; /* inf or nan, payload kept */
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

tca_f16 tca_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t exp = (x >> 23) & 0xff;
    uint32_t man = x & 0x7fffff;
    if (exp == 0xff) return (tca_f16)(sign | 0x7c00 | (man ? 0x200 | man >> 13 : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (tca_f16)(sign | 0x7c00);
    if (e <= 0) { /* subnormal or zero in f16 */
        if (e < -10) return (tca_f16)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (tca_f16)(sign | half);
    }
    uint32_t half = (uint32_t)e << 10 | man >> 13;
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: correct */
    return (tca_f16)(sign | half);
}

float tca_bf16_to_f32(tca_bf16 h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
