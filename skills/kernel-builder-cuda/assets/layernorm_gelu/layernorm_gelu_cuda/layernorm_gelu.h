// Plain C interface of the fused LayerNorm + GELU kernel.
//
// This header is the only thing the torch binding (torch-ext/torch_binding.cpp)
// needs from the CUDA side, so the .cu file compiles with nvcc alone, without
// torch headers. One source serves every GPU target: the CUDA runtime loads the
// cubin built for the device's capability, and device code picks packed fp32
// math (sm_100 and later) at compile time.
#pragma once

#include <stdint.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// Element types understood by the launcher. Input, weight, bias and output
// share one type; statistics and GELU are always computed in fp32.
enum layernorm_gelu_dtype {
  LAYERNORM_GELU_F32 = 0,
  LAYERNORM_GELU_BF16 = 1
};

// The two GELU forms, named as torch.nn.functional.gelu(approximate=...) names them.
enum layernorm_gelu_approximate {
  LAYERNORM_GELU_NONE = 0,  // exact: 0.5 v (1 + erf(v / sqrt(2)))
  LAYERNORM_GELU_TANH = 1   // 0.5 v (1 + tanh(sqrt(2 / pi) (v + 0.044715 v^3)))
};

// y[r, :] = gelu(layer_norm(x[r, :]) * weight + bias) for r < rows.
// All pointers are device pointers to contiguous row-major data.
// hidden must be in [1, LAYERNORM_GELU_MAX_HIDDEN]; any value works, including
// ones that are not a multiple of the 16-byte vector width.
// Returns cudaSuccess (0) or the cudaError_t of the failed call/launch.
#define LAYERNORM_GELU_MAX_HIDDEN 16384

int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                          const void* bias, int64_t rows, int64_t hidden,
                          float eps, int dtype, int approximate, cudaStream_t stream);

// Which device-code path runs on the current device: "f32x2" (packed fp32
// math, compute capability 10.0 and later) or "f32"; the tests print it.
const char* layernorm_gelu_variant(void);

#ifdef __cplusplus
}
#endif
