#include "rows.cuh"

// 256 threads per row, 16 fp32 elements each (four float4 vectors).
extern "C" __global__ void __launch_bounds__(256) ln_gelu_erf_f32_h4096(
    float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ bias, int rows, float eps) {
  ref::ln_gelu_rows<float, 16, 256, false, lng::Gelu::kErf>(y, x, weight, bias, rows, eps);
}
