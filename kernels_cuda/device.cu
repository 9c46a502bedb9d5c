/* CUDA device probe and the CUDA error -> tca_status mapping. */
#include <stdio.h>
#include <string.h>

#include "common.cuh"

tca_status tca_cuda_fail(cudaError_t err, const char *what) {
    tca_status s = TCA_ERR_INTERNAL;
    if (err == cudaErrorMemoryAllocation) s = TCA_ERR_NOMEM;
    else if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) s = TCA_ERR_UNSUPPORTED;
    return tca_fail(s, "cuda: %s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

extern "C" tca_status tca_cuda_device_count(int *count) {
    if (count == NULL) return tca_fail(TCA_ERR_ARG, "cuda: device count: NULL argument");
    *count = 0;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        /* Clear the error so that a later CUDA call on this thread does not report it again. */
        cudaGetLastError();
        return tca_cuda_fail(err, "cudaGetDeviceCount");
    }
    if (n == 0) return tca_fail(TCA_ERR_UNSUPPORTED, "cuda: no CUDA device present");
    *count = n;
    return TCA_OK;
}

extern "C" tca_status tca_cuda_device_get(int index, tca_cuda_device *info) {
    if (info == NULL) return tca_fail(TCA_ERR_ARG, "cuda: device info: NULL argument");
    cudaDeviceProp p;
    cudaError_t err = cudaGetDeviceProperties(&p, index);
    if (err != cudaSuccess) return tca_cuda_fail(err, "cudaGetDeviceProperties");
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", p.name);
    info->cc_major = p.major;
    info->cc_minor = p.minor;
    info->sm_count = p.multiProcessorCount;
    info->global_mem = p.totalGlobalMem;
    return TCA_OK;
}
