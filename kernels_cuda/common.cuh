/* Shared by the .cu files of kernels_cuda/: the C headers they use, made to compile as CUDA C++,
 * and the mapping of CUDA errors to tca_status. */
#ifndef TCA_KERNELS_CUDA_COMMON_CUH
#define TCA_KERNELS_CUDA_COMMON_CUH

#include <cuda_runtime.h>

/* quant.h is plain C11 (the block structs are shared with the CPU kernels, as ggml-common.h
 * does); C++ spells its layout checks static_assert, and its functions have C linkage. */
#ifndef _Static_assert
#define _Static_assert static_assert
#endif
extern "C" {
#include "quant.h"
#include "status_internal.h"
}
#include "tca_cuda.h"

/* Records "cuda: <what>: <CUDA's message>" and returns the matching status: out of device
 * memory -> TCA_ERR_NOMEM; no device or a driver too old for this runtime ->
 * TCA_ERR_UNSUPPORTED; anything else -> TCA_ERR_INTERNAL. */
tca_status tca_cuda_fail(cudaError_t err, const char *what);

#endif
