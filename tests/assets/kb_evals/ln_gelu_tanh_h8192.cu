#include "rows.cuh"

// 256 threads per row, 32 bf16 elements each; a persistent grid loops over rows.
extern "C" __global__ void __launch_bounds__(256) ln_gelu_tanh_h8192(
    __nv_bfloat16* __restrict__ y, const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
    const __nv_bfloat16* __restrict__ bias, int rows, float eps) {
  ref::ln_gelu_rows<__nv_bfloat16, 32, 256, false, lng::Gelu::kTanh>(y, x, weight, bias, rows, eps);
}
