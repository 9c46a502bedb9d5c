/* Dequantisation of GGUF rows to f32 on the GPU: Q8_0 and Q4_1 (SmolLM2's weight types).
 *
 * The result must be bit-identical to the CPU reference (simd/ref/dequant_ref.c), which
 * computes d * (float)q for Q8_0 and d * (float)q + m for Q4_1 in f32 with separate rounding
 * after each operation. For these two types the product is exact (an 11-bit f16 mantissa
 * times a quant of at most 8 bits fits in f32's 24), so a fused multiply-add would round the
 * same; the kernels still spell the operations with __fmul_rn / __fadd_rn, which nvcc never
 * contracts, because the K types (f32 scale products) will need it and the rule should be one.
 * The f16 scales are widened with the same integer construction as tca_f16_to_f32 (quant.c),
 * exact for every f16 including subnormals, and NaN payloads kept as the CPU keeps them. */
#include <stdint.h>

#include "common.cuh"

#define THREADS 256     /* per thread block: 8 warps, enough to hide load latency */
#define MAX_GRID 65536  /* blocks launched at most; the grid-stride loop covers larger rows */

/* IEEE binary16 bits -> f32, exact (mirrors tca_f16_to_f32). */
__device__ __forceinline__ float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal f16: a normal f32 once the leading 1 is shifted to bit 10 */
            int shift = __clz(man) - 21; /* man < 2^10: leading zeros in 32 bits minus 22, plus 1 */
            man <<= shift;
            bits = sign | (uint32_t)(127 - 15 - (shift - 1)) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13; /* inf or nan, payload kept */
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    return __uint_as_float(bits);
}

/* One thread per output element e (block e / 32, position e % 32): consecutive threads write
 * consecutive floats (coalesced), and the 32 threads of a warp share one block's scale. */
__global__ void dequant_q8_0(const tca_block_q8_0 *__restrict__ src, float *__restrict__ dst, int64_t n) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
        const tca_block_q8_0 *b = &src[e / TCA_QK];
        dst[e] = __fmul_rn(f16_to_f32(b->d), (float)b->qs[e % TCA_QK]);
    }
}

/* Q4_1: element j < 16 is the low nibble of qs[j], element j + 16 its high nibble. */
__global__ void dequant_q4_1(const tca_block_q4_1 *__restrict__ src, float *__restrict__ dst, int64_t n) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
        const tca_block_q4_1 *b = &src[e / TCA_QK];
        const int j = (int)(e % TCA_QK);
        const int q = j < TCA_QK / 2 ? (b->qs[j] & 0x0f) : (b->qs[j - TCA_QK / 2] >> 4);
        dst[e] = __fadd_rn(__fmul_rn(f16_to_f32(b->d), (float)q), f16_to_f32(b->m));
    }
}

extern "C" int tca_cuda_dequant_supported(uint32_t type) {
    return type == TCA_TYPE_Q8_0 || type == TCA_TYPE_Q4_1;
}

/* Checks type and n; the number of source bytes in *bytes. */
static tca_status check_args(uint32_t type, int64_t n, int64_t *bytes) {
    if (!tca_cuda_dequant_supported(type)) {
        const tca_type_traits *t = tca_type_info(type);
        return tca_fail(TCA_ERR_UNSUPPORTED, "cuda dequant: type %s (id %u) has no CUDA kernel yet",
                        t ? t->name : "unknown", (unsigned)type);
    }
    *bytes = tca_type_row_bytes(type, n);
    if (n < 0 || *bytes < 0 || n > INT64_MAX / (int64_t)sizeof(float))
        return tca_fail(TCA_ERR_ARG, "cuda dequant: %lld elements is not a whole number of %d-element blocks",
                        (long long)n, TCA_QK);
    return TCA_OK;
}

extern "C" tca_status tca_cuda_dequant_device(uint32_t type, const void *src_dev, int64_t n, float *dst_dev,
                                              void *stream) {
    int64_t bytes = 0;
    tca_status s = check_args(type, n, &bytes);
    if (s != TCA_OK || n == 0) return s;
    if (src_dev == NULL || dst_dev == NULL) return tca_fail(TCA_ERR_ARG, "cuda dequant: NULL buffer");
    if ((uintptr_t)src_dev % 2 != 0)
        return tca_fail(TCA_ERR_ARG, "cuda dequant: device source must be 2-byte aligned (f16 scales)");
    const int64_t want = (n + THREADS - 1) / THREADS;
    const unsigned grid = (unsigned)(want < MAX_GRID ? want : MAX_GRID);
    cudaStream_t st = (cudaStream_t)stream;
    if (type == TCA_TYPE_Q8_0)
        dequant_q8_0<<<grid, THREADS, 0, st>>>((const tca_block_q8_0 *)src_dev, dst_dev, n);
    else
        dequant_q4_1<<<grid, THREADS, 0, st>>>((const tca_block_q4_1 *)src_dev, dst_dev, n);
    cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? TCA_OK : tca_cuda_fail(err, "dequant kernel launch");
}

extern "C" tca_status tca_cuda_dequant(uint32_t type, const void *src_host, int64_t n, float *dst_host) {
    int64_t bytes = 0;
    tca_status s = check_args(type, n, &bytes);
    if (s != TCA_OK || n == 0) return s;
    if (src_host == NULL || dst_host == NULL) return tca_fail(TCA_ERR_ARG, "cuda dequant: NULL buffer");
    void *src_dev = NULL;
    float *dst_dev = NULL;
    cudaError_t err;
    const char *what = "cudaMalloc";
    if ((err = cudaMalloc(&src_dev, (size_t)bytes)) != cudaSuccess ||
        (err = cudaMalloc((void **)&dst_dev, (size_t)n * sizeof(float))) != cudaSuccess)
        goto fail;
    what = "copy to device";
    if ((err = cudaMemcpy(src_dev, src_host, (size_t)bytes, cudaMemcpyHostToDevice)) != cudaSuccess) goto fail;
    if ((s = tca_cuda_dequant_device(type, src_dev, n, dst_dev, NULL)) != TCA_OK) goto out;
    /* A fault inside the kernel surfaces here: this copy waits for the kernel. */
    what = "dequant kernel or copy to host";
    if ((err = cudaMemcpy(dst_host, dst_dev, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost)) != cudaSuccess)
        goto fail;
    goto out;
fail:
    s = tca_cuda_fail(err, what);
out:
    cudaFree(src_dev);
    cudaFree(dst_dev);
    return s;
}
