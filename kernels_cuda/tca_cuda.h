/* CUDA kernels and their host glue (built only with -Dcuda=true, into the static library
 * tca_cuda). Plain C interface: callers never see CUDA types, so C code links it without CUDA
 * headers. Every function returns a tca_status and leaves the reason in tca_last_error();
 * a machine without a CUDA device or with a too-old driver gives TCA_ERR_UNSUPPORTED. */
#ifndef TCA_CUDA_H
#define TCA_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_cuda_device {
    char name[256];     /* e.g. "NVIDIA H200" */
    int cc_major;       /* compute capability, 9.0 for Hopper */
    int cc_minor;
    int sm_count;       /* streaming multiprocessors */
    size_t global_mem;  /* bytes of device memory */
} tca_cuda_device;

/* Number of usable CUDA devices in *count. No driver, a driver older than the runtime this was
 * built with, or no device: *count = 0 and TCA_ERR_UNSUPPORTED naming the CUDA error. */
tca_status tca_cuda_device_count(int *count);

/* Properties of device `index` (0 .. count-1). */
tca_status tca_cuda_device_get(int index, tca_cuda_device *info);

/* Whether tca_cuda_dequant handles this GGUF type id (quant.h): Q8_0 and Q4_1, SmolLM2's
 * weight types, so far. */
int tca_cuda_dequant_supported(uint32_t type);

/* Dequantise n elements of `type` to f32 on the current device, with host buffers: copies
 * src_host (tca_type_row_bytes(type, n) bytes, any alignment) to the device, runs the kernel
 * and copies n floats back into dst_host. Synchronous. Same contract and bit-identical result
 * as the CPU kernels of simd/dequant.h for finite inputs (NaN payloads may differ: the GPU's
 * arithmetic returns a canonical NaN). n must be a multiple of the block size (32); n == 0
 * does nothing. */
tca_status tca_cuda_dequant(uint32_t type, const void *src_host, int64_t n, float *dst_host);

/* The same on device memory, enqueued on `stream` (a cudaStream_t; NULL for the default
 * stream), asynchronous. src_dev must be 2-byte aligned (cudaMalloc gives 256). */
tca_status tca_cuda_dequant_device(uint32_t type, const void *src_dev, int64_t n, float *dst_dev,
                                   void *stream);

#ifdef __cplusplus
}
#endif
#endif
