// nvcc-gencode: native
//
// Fused LayerNorm + GELU, generic variant: correct on every GPU that CUDA 13
// supports, uses no architecture-specific instruction. 16-byte vectorised
// loads and stores when the tensors allow it, scalar code otherwise.
// Build it for the GPU you have (-gencode arch=compute_XY,code=sm_XY) plus
// PTX (code=compute_XY) so newer GPUs can JIT it.
#include "common.cuh"

extern "C" int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                                     const void* bias, int64_t rows, int64_t hidden,
                                     float eps, int dtype, cudaStream_t stream) {
  cudaError_t err = lng::check_args(y, x, weight, bias, rows, hidden, dtype);
  if (err != cudaSuccess) return err;
  if (rows == 0) return cudaSuccess;
  const int h = static_cast<int>(hidden);
  if (dtype == LAYERNORM_GELU_F32) {
    err = lng::launch_portable(static_cast<float*>(y), static_cast<const float*>(x),
                               static_cast<const float*>(weight),
                               static_cast<const float*>(bias), rows, h, eps, stream);
  } else {
    err = lng::launch_portable(static_cast<__nv_bfloat16*>(y),
                               static_cast<const __nv_bfloat16*>(x),
                               static_cast<const __nv_bfloat16*>(weight),
                               static_cast<const __nv_bfloat16*>(bias), rows, h, eps, stream);
  }
  return static_cast<int>(err);
}

extern "C" const char* layernorm_gelu_variant(void) { return "generic"; }
