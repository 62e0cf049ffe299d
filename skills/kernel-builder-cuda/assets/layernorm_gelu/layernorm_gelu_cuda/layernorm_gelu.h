// Plain C interface of the fused LayerNorm + GELU kernel.
//
// This header is the only thing the torch binding (torch-ext/torch_binding.cpp)
// needs from the CUDA side, so the .cu file compiles with nvcc alone, without
// torch headers. Every variant of the skill ships a layernorm_gelu.cu that
// implements exactly this interface.
#pragma once

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// Element types understood by the launcher. Input, weight, bias and output
// share one type; statistics are always accumulated in fp32.
enum layernorm_gelu_dtype {
  LAYERNORM_GELU_F32 = 0,
  LAYERNORM_GELU_BF16 = 1
};

// y[r, :] = gelu_erf(layer_norm(x[r, :]) * weight + bias) for r < rows.
// All pointers are device pointers to contiguous row-major data.
// hidden must be in [1, LAYERNORM_GELU_MAX_HIDDEN].
// Returns cudaSuccess (0) or the cudaError_t of the failed call/launch.
#define LAYERNORM_GELU_MAX_HIDDEN 16384

int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                          const void* bias, int64_t rows, int64_t hidden,
                          float eps, int dtype, cudaStream_t stream);

// Name of the implementation compiled into this object ("generic", "sm_80",
// "sm_90a", "sm_100a"); the correctness test prints it.
const char* layernorm_gelu_variant(void);

#ifdef __cplusplus
}
#endif
