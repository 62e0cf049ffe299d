// Reference answers of the kernel-builder-cuda eval cases: row kernels built on the
// skill's own device helpers (assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh),
// the same method as its reference kernel: the row in registers, 16-byte access,
// one-pass shifted statistics, gamma/beta loaded once per CTA, a persistent row loop.
#include "common.cuh"

namespace ref {

using bf16 = __nv_bfloat16;

template <typename T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));

// Thread t owns EPT elements: vector p of it starts at element (p * TPR + t) * VEC.
template <typename T, int EPT, int TPR>
__device__ __forceinline__ void load(const T* __restrict__ src, int t, typename lng::Pair<T>::Raw (&out)[EPT / 2]) {
  constexpr int VEC = kVec<T>;
  union Vec { uint4 v; typename lng::Pair<T>::Raw r[VEC / 2]; };
#pragma unroll
  for (int p = 0; p < EPT / VEC; ++p) {
    Vec v;
    v.v = *reinterpret_cast<const uint4*>(src + (p * TPR + t) * VEC);
#pragma unroll
    for (int e = 0; e < VEC / 2; ++e) out[p * VEC / 2 + e] = v.r[e];
  }
}

template <typename T, int EPT, int TPR>
__device__ __forceinline__ void store(T* __restrict__ dst, int t, const float2 (&in)[EPT / 2]) {
  constexpr int VEC = kVec<T>;
  union Vec { uint4 v; typename lng::Pair<T>::Raw r[VEC / 2]; };
#pragma unroll
  for (int p = 0; p < EPT / VEC; ++p) {
    Vec v;
#pragma unroll
    for (int e = 0; e < VEC / 2; ++e) v.r[e] = lng::Pair<T>::from_f2(in[p * VEC / 2 + e]);
    *reinterpret_cast<uint4*>(dst + (p * TPR + t) * VEC) = v.v;
  }
}

template <typename T, int EPT, int TPR>
__device__ __forceinline__ void load_f2(const T* __restrict__ src, int t, float scale, float2 (&out)[EPT / 2]) {
  typename lng::Pair<T>::Raw raw[EPT / 2];
  load<T, EPT, TPR>(src, t, raw);
#pragma unroll
  for (int i = 0; i < EPT / 2; ++i) out[i] = lng::mul2(lng::Pair<T>::to_f2(raw[i]), lng::f2(scale));
}

// The sum of s over the row: a warp's, or the CTA's (through shared memory, double-buffered).
template <bool WARP_ROWS>
__device__ __forceinline__ float2 row_sum(float2 s, float2 (&partial)[2][32], int& parity) {
  s = lng::warp_sum(s);
  if constexpr (!WARP_ROWS) {
    const int lane = threadIdx.x & 31;
    if (lane == 0) partial[parity][threadIdx.x >> 5] = s;
    __syncthreads();
    s = lane < static_cast<int>(blockDim.x >> 5) ? partial[parity][lane] : lng::f2(0.0f);
    s = lng::warp_sum(s);
    parity ^= 1;
  }
  return s;
}

// y = GELU(LayerNorm(x) * weight + bias) over rows of EPT * TPR elements: a warp per row
// (TPR 32, any number of warps per CTA) or a CTA of TPR threads per row.
template <typename T, int EPT, int TPR, bool WARP_ROWS, lng::Gelu G>
__device__ __forceinline__ void ln_gelu_rows(T* __restrict__ y, const T* __restrict__ x, const T* __restrict__ weight,
                                             const T* __restrict__ bias, int rows, float eps) {
  constexpr int H = EPT * TPR;
  constexpr int PAIRS = EPT / 2;
  __shared__ float2 partial[2][32];
  const int t = WARP_ROWS ? (threadIdx.x & 31) : threadIdx.x;
  const int per_cta = WARP_ROWS ? blockDim.x >> 5 : 1;
  const int warp_row = WARP_ROWS ? threadIdx.x >> 5 : 0;
  float2 w[PAIRS], b[PAIRS];
  load_f2<T, EPT, TPR>(weight, t, lng::kAffineScale<G>, w);
  load_f2<T, EPT, TPR>(bias, t, lng::kAffineScale<G>, b);
  int parity = 0;
#pragma unroll 1
  for (int base = blockIdx.x * per_cta; base < rows; base += per_cta * gridDim.x) {
    const int row = min(base + warp_row, rows - 1);
    const T* xr = x + static_cast<size_t>(row) * H;
    typename lng::Pair<T>::Raw raw[PAIRS];
    load<T, EPT, TPR>(xr, t, raw);
    const float k = lng::Pair<T>::scalar(xr[0]);
    float2 d[PAIRS];
    float2 s1 = lng::f2(0.0f), s2 = lng::f2(0.0f);
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) {
      d[i] = lng::Pair<T>::minus(raw[i], k);
      s1 = lng::add2(s1, d[i]);
      s2 = lng::fma2(d[i], d[i], s2);
    }
    const float2 s = row_sum<WARP_ROWS>(make_float2(s1.x + s1.y, s2.x + s2.y), partial, parity);
    const float m1 = s.x * (1.0f / H);
    const float rstd = lng::rsqrt(fmaxf(fmaf(s.y, 1.0f / H, -m1 * m1), 0.0f) + eps);
    const float2 r2 = lng::f2(rstd), c2 = lng::f2(-m1 * rstd);
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) d[i] = lng::gelu<G>(lng::fma2(lng::fma2(d[i], r2, c2), w[i], b[i]));
    if (base + warp_row < rows) store<T, EPT, TPR>(y + static_cast<size_t>(row) * H, t, d);
  }
}

// RMSNorm over rows of EPT * TPR bf16 elements, a CTA per row; with a residual, the sum
// x + residual is written back to residual and normalised.
template <int EPT, int TPR, bool RESIDUAL>
__device__ __forceinline__ void rmsnorm_rows(bf16* __restrict__ y, bf16* __restrict__ residual, const bf16* __restrict__ x,
                                             const bf16* __restrict__ weight, int rows, float eps) {
  constexpr int H = EPT * TPR;
  constexpr int PAIRS = EPT / 2;
  __shared__ float2 partial[2][32];
  float2 w[PAIRS];
  load_f2<bf16, EPT, TPR>(weight, threadIdx.x, 1.0f, w);
  int parity = 0;
#pragma unroll 1
  for (int row = blockIdx.x; row < rows; row += gridDim.x) {
    const size_t offset = static_cast<size_t>(row) * H;
    float2 v[PAIRS];
    load_f2<bf16, EPT, TPR>(x + offset, threadIdx.x, 1.0f, v);
    if constexpr (RESIDUAL) {
      float2 r[PAIRS];
      load_f2<bf16, EPT, TPR>(residual + offset, threadIdx.x, 1.0f, r);
#pragma unroll
      for (int i = 0; i < PAIRS; ++i) v[i] = lng::add2(v[i], r[i]);
      store<bf16, EPT, TPR>(residual + offset, threadIdx.x, v);
    }
    float2 s = lng::f2(0.0f);
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) s = lng::fma2(v[i], v[i], s);
    s = row_sum<false>(make_float2(s.x + s.y, 0.0f), partial, parity);
    const float2 r2 = lng::f2(lng::rsqrt(fmaf(s.x, 1.0f / H, eps)));
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) v[i] = lng::mul2(lng::mul2(v[i], r2), w[i]);
    store<bf16, EPT, TPR>(y + offset, threadIdx.x, v);
  }
}

}  // namespace ref
