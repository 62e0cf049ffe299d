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
  return lng::dispatch(y, x, weight, bias, rows, hidden, eps, dtype, stream, lng::launch_portable<float>,
                       lng::launch_portable<__nv_bfloat16>);
}

extern "C" const char* layernorm_gelu_variant(void) { return "generic"; }
