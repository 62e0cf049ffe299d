#include "rows.cuh"

// Elementwise tanh-form GELU: one 16-byte vector (8 bf16) per thread per step of a grid-stride loop.
extern "C" __global__ void __launch_bounds__(256) gelu_tanh_bf16(
    __nv_bfloat16* __restrict__ y, const __nv_bfloat16* __restrict__ x, long long n) {
  const long long vectors = n / 8;
#pragma unroll 1
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < vectors;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    float2 v[4];
    ref::load_f2<__nv_bfloat16, 8, 1>(x + 8 * i, 0, 1.0f, v);
#pragma unroll
    for (int e = 0; e < 4; ++e) v[e] = lng::gelu_tanh(v[e]);
    ref::store<__nv_bfloat16, 8, 1>(y + 8 * i, 0, v);
  }
}
