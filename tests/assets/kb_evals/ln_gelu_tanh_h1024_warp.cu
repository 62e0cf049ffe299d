#include "rows.cuh"

// A warp per row (32 lanes x 32 bf16 elements), 4 rows per CTA, a persistent grid.
extern "C" __global__ void __launch_bounds__(128) ln_gelu_tanh_h1024_warp(
    __nv_bfloat16* __restrict__ y, const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
    const __nv_bfloat16* __restrict__ bias, int rows, float eps) {
  ref::ln_gelu_rows<__nv_bfloat16, 32, 32, true, lng::Gelu::kTanh>(y, x, weight, bias, rows, eps);
}
