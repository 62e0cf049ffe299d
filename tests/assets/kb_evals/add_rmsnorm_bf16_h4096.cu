#include "rows.cuh"

// residual += x, then y = RMSNorm(residual) * weight; 512 threads x 8 bf16 elements per row.
extern "C" __global__ void __launch_bounds__(512) add_rmsnorm_bf16_h4096(
    __nv_bfloat16* __restrict__ y, __nv_bfloat16* __restrict__ residual, const __nv_bfloat16* __restrict__ x,
    const __nv_bfloat16* __restrict__ weight, int rows, float eps) {
  ref::rmsnorm_rows<8, 512, true>(y, residual, x, weight, rows, eps);
}
