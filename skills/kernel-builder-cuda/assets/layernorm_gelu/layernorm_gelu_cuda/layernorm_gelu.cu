// nvcc-gencode: native
//
// Fused LayerNorm + GELU: one source for every GPU target (sm_80 ... sm_120).
//
// Memory bound by construction (references/reference-kernel.md):
// - each row is read once into registers (EPT elements per thread), 16-byte
//   loads and stores when the row allows it, masked scalar access otherwise;
// - a warp per row for hidden <= 1024, a CTA per row above, persistent CTAs
//   that load gamma/beta once (as fp32 registers) and loop over rows;
// - one-pass statistics shifted by the row's first element (no cancellation
//   for large offsets), multiplied by 1/H;
// - GELU through one ex2 and one reciprocal (MUFU) per element, with error
//   below bf16 rounding (references/gelu-approximation.md);
// - packed fp32 pairs (FFMA2/FADD2/FMUL2) on compute capability 10.0 and later.
// scripts/sass_budget.py counts the SASS instructions per element of this file.
#include "common.cuh"
#include "layernorm_gelu.h"

namespace lng {

constexpr int kWarpRowThreads = 128;  // 4 rows per CTA in the warp-per-row kernels
constexpr int kCtaEpt = 32;           // elements per thread of the CTA-per-row kernels...
constexpr int kCtaEptScalar = 16;     // ...but 16 with scalar access (its loads need registers)

// How a thread reaches its elements: 16-byte vectors with no bounds check (hidden
// equals threads x EPT), 16-byte vectors masked per vector, or masked scalars
// (hidden not a multiple of the vector width, or a misaligned tensor).
enum class Access { kVecExact, kVecMasked, kScalar };

template <typename T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));

// Largest block of a kernel: LAYERNORM_GELU_MAX_HIDDEN / EPT threads for CTA rows.
// It is the __launch_bounds__ too; a launch with more threads per block fails ("too many
// resources requested for launch"), and it caps registers at 65536 / threads.
template <int EPT, bool WARP_ROWS>
constexpr int kMaxThreads = WARP_ROWS ? kWarpRowThreads : LAYERNORM_GELU_MAX_HIDDEN / EPT;

// Thread t of a row owns EPT / VEC vectors; vector p starts at element (p * tpr + t) * VEC,
// so that neighbouring threads read neighbouring 16-byte chunks. Pair i of a thread holds
// elements 2i and 2i + 1 of its vectors, as loaded (Pair<T>::Raw).
template <typename T, int EPT, Access A>
__device__ __forceinline__ void load_pairs(const T* __restrict__ src, int hidden, int tpr, int t,
                                           typename Pair<T>::Raw (&out)[EPT / 2]) {
  constexpr int VEC = kVec<T>;
  using Raw = typename Pair<T>::Raw;
  union Vec { uint4 v; Raw r[VEC / 2]; };  // v: one 16-byte load (LDG.E.128)
#pragma unroll
  for (int p = 0; p < EPT / VEC; ++p) {
    const int first = (p * tpr + t) * VEC;
    if constexpr (A == Access::kScalar) {
      // Out-of-row elements read element 0, the row's shift: their deviation is 0.
#pragma unroll
      for (int e = 0; e < VEC; e += 2) {
        const T lo = src[first + e < hidden ? first + e : 0];
        const T hi = src[first + e + 1 < hidden ? first + e + 1 : 0];
        out[(p * VEC + e) / 2] = Pair<T>::pack(lo, hi);
      }
    } else {
      Vec v;
      v.v = A == Access::kVecExact || first < hidden
                ? *reinterpret_cast<const uint4*>(src + first) : make_uint4(0, 0, 0, 0);
#pragma unroll
      for (int e = 0; e < VEC / 2; ++e) out[p * VEC / 2 + e] = v.r[e];
    }
  }
}

template <typename T, int EPT, Access A>
__device__ __forceinline__ void store_pairs(T* __restrict__ dst, int hidden, int tpr, int t,
                                            const float2 (&in)[EPT / 2]) {
  constexpr int VEC = kVec<T>;
  using Raw = typename Pair<T>::Raw;
  union Vec { uint4 v; Raw r[VEC / 2]; T e[VEC]; };
#pragma unroll
  for (int p = 0; p < EPT / VEC; ++p) {
    const int first = (p * tpr + t) * VEC;
    Vec v;
#pragma unroll
    for (int e = 0; e < VEC / 2; ++e) v.r[e] = Pair<T>::from_f2(in[p * VEC / 2 + e]);
    if constexpr (A == Access::kScalar) {
#pragma unroll
      for (int e = 0; e < VEC; ++e) {
        if (first + e < hidden) dst[first + e] = v.e[e];
      }
    } else if (A == Access::kVecExact || first < hidden) {
      *reinterpret_cast<uint4*>(dst + first) = v.v;
    }
  }
}

// Whether pair i of this thread lies in a vector inside the row.
template <typename T>
__device__ __forceinline__ bool pair_in_row(int i, int hidden, int tpr, int t) {
  return ((2 * i) / kVec<T> * tpr + t) * kVec<T> < hidden;
}

// gamma and beta of this thread's elements as fp32 pairs, scaled for gelu<G>.
template <typename T, int EPT, Access A, Gelu G>
__device__ __forceinline__ void load_affine(const T* __restrict__ weight, const T* __restrict__ bias,
                                            int hidden, int tpr, int t, float2 (&w)[EPT / 2],
                                            float2 (&b)[EPT / 2]) {
  typename Pair<T>::Raw rw[EPT / 2], rb[EPT / 2];
  load_pairs<T, EPT, A>(weight, hidden, tpr, t, rw);
  load_pairs<T, EPT, A>(bias, hidden, tpr, t, rb);
#pragma unroll
  for (int i = 0; i < EPT / 2; ++i) {
    w[i] = mul2(Pair<T>::to_f2(rw[i]), f2(kAffineScale<G>));
    b[i] = mul2(Pair<T>::to_f2(rb[i]), f2(kAffineScale<G>));
  }
}

template <typename T, int EPT, bool WARP_ROWS, Access A, Gelu G>
__global__ void __launch_bounds__((kMaxThreads<EPT, WARP_ROWS>), 1)
layernorm_gelu_kernel(T* __restrict__ y, const T* __restrict__ x, const T* __restrict__ weight,
                      const T* __restrict__ bias, int64_t rows, int hidden, float inv_h, float eps) {
  constexpr int PAIRS = EPT / 2;
  using Raw = typename Pair<T>::Raw;
  __shared__ float2 partial[2][32];  // CTA rows: one pair of sums per warp, double-buffered
  const int lane = threadIdx.x & 31;
  const int tpr = WARP_ROWS ? 32 : static_cast<int>(blockDim.x);
  const int t = WARP_ROWS ? lane : static_cast<int>(threadIdx.x);
  const int64_t per_cta = WARP_ROWS ? (blockDim.x >> 5) : 1;
  const int64_t step = per_cta * gridDim.x;

  // gamma and beta once per CTA, as fp32 registers reused for every row (scaled for
  // gelu<G>, see kAffineScale). The CTA-row fallbacks for ragged rows (masked or scalar
  // access, up to 512 or 1024 threads and so at most 128 or 64 registers each) have no
  // room for them: they read gamma and beta per row, from L1/L2 after the first row.
  constexpr bool kWbInRegisters = WARP_ROWS || A == Access::kVecExact;
  float2 w[PAIRS], b[PAIRS];
  if constexpr (kWbInRegisters) load_affine<T, EPT, A, G>(weight, bias, hidden, tpr, t, w, b);

  // The loop bound is CTA-uniform, so the shuffles below run in a converged warp (no
  // BRA.DIV fallback). In warp-row CTAs a warp past the last row recomputes the last row
  // and stores nothing.
  const int64_t warp_row = WARP_ROWS ? (threadIdx.x >> 5) : 0;
  int parity = 0;
  for (int64_t base = blockIdx.x * per_cta; base < rows; base += step) {
    const int64_t row = WARP_ROWS ? min(base + warp_row, rows - 1) : base;
    const T* xr = x + row * hidden;
    Raw raw[PAIRS];
    load_pairs<T, EPT, A>(xr, hidden, tpr, t, raw);
    // Shift by the row's first element: the sums are of d = x - k, whose size is the
    // row's spread, not its offset (mean 1e4 with unit variance keeps its digits).
    const float k = Pair<T>::scalar(xr[0]);
    float2 d[PAIRS];
    float2 s1 = f2(0.0f), s2 = f2(0.0f);
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) {
      d[i] = Pair<T>::minus(raw[i], k);
      // Masked vectors outside the row: their deviation must be 0.
      if (A == Access::kVecMasked && !pair_in_row<T>(i, hidden, tpr, t)) d[i] = f2(0.0f);
      s1 = add2(s1, d[i]);
      s2 = fma2(d[i], d[i], s2);
    }
    float2 s = warp_sum(make_float2(s1.x + s1.y, s2.x + s2.y));
    if constexpr (!WARP_ROWS) {
      if (lane == 0) partial[parity][threadIdx.x >> 5] = s;
      __syncthreads();
      s = lane < static_cast<int>(blockDim.x >> 5) ? partial[parity][lane] : f2(0.0f);
      s = warp_sum(s);
      parity ^= 1;
    }
    // mean = k + m1; var = E[d^2] - m1^2 (>= 0 up to rounding).
    const float m1 = s.x * inv_h;
    const float var = fmaxf(fmaf(s.y, inv_h, -m1 * m1), 0.0f);
    const float rstd = rsqrt(var + eps);
    const float2 r2 = f2(rstd), c2 = f2(-m1 * rstd);
    if constexpr (!kWbInRegisters) load_affine<T, EPT, A, G>(weight, bias, hidden, tpr, t, w, b);
#pragma unroll
    for (int i = 0; i < PAIRS; ++i) {
      d[i] = gelu<G>(fma2(fma2(d[i], r2, c2), w[i], b[i]));
    }
    if (!WARP_ROWS || base + warp_row < rows) store_pairs<T, EPT, A>(y + row * hidden, hidden, tpr, t, d);
  }
}

template <typename T, int EPT, bool WARP_ROWS, Access A, Gelu G>
cudaError_t launch(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden, float eps,
                   int threads, int sms, cudaStream_t stream) {
  auto kernel = layernorm_gelu_kernel<T, EPT, WARP_ROWS, A, G>;
  int per_sm = 0;
  cudaError_t err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0);
  if (err != cudaSuccess) return err;
  const int64_t rows_per_cta = WARP_ROWS ? threads / 32 : 1;
  const int64_t needed = (rows + rows_per_cta - 1) / rows_per_cta;
  const int64_t resident = static_cast<int64_t>(sms) * (per_sm > 0 ? per_sm : 1);
  const unsigned grid = static_cast<unsigned>(needed < resident ? needed : resident);
  kernel<<<grid, threads, 0, stream>>>(y, x, w, b, rows, hidden, 1.0f / static_cast<float>(hidden), eps);
  return cudaGetLastError();
}

// Pick the instantiation for this shape: warp rows with the fewest elements per thread
// that hold the row for hidden <= 1024, CTA rows of 32 elements per thread above.
template <typename T, Access A, Gelu G>
cudaError_t launch_shape(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden,
                         float eps, int sms, cudaStream_t stream) {
  if (hidden <= 32 * 8) return launch<T, 8, true, A, G>(y, x, w, b, rows, hidden, eps, kWarpRowThreads, sms, stream);
  if (hidden <= 32 * 16) return launch<T, 16, true, A, G>(y, x, w, b, rows, hidden, eps, kWarpRowThreads, sms, stream);
  if (hidden <= 32 * 32) return launch<T, 32, true, A, G>(y, x, w, b, rows, hidden, eps, kWarpRowThreads, sms, stream);
  constexpr int EPT = A == Access::kScalar ? kCtaEptScalar : kCtaEpt;
  const int threads = (hidden + 32 * EPT - 1) / (32 * EPT) * 32;
  return launch<T, EPT, false, A, G>(y, x, w, b, rows, hidden, eps, threads, sms, stream);
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T, Gelu G>
cudaError_t launch_type(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden,
                        float eps, int sms, cudaStream_t stream) {
  constexpr int VEC = kVec<T>;
  const bool vec = hidden % VEC == 0 && aligned16(y) && aligned16(x) && aligned16(w) && aligned16(b);
  if (!vec) return launch_shape<T, Access::kScalar, G>(y, x, w, b, rows, hidden, eps, sms, stream);
  // CTA rows are exact when hidden is a multiple of 32 threads x 32 elements.
  if (hidden > 32 * 32 && hidden % (32 * kCtaEpt) == 0) {
    return launch<T, kCtaEpt, false, Access::kVecExact, G>(y, x, w, b, rows, hidden, eps,
                                                           hidden / kCtaEpt, sms, stream);
  }
  return launch_shape<T, Access::kVecMasked, G>(y, x, w, b, rows, hidden, eps, sms, stream);
}

template <Gelu G>
cudaError_t launch_gelu(void* y, const void* x, const void* w, const void* b, int64_t rows,
                        int hidden, float eps, int dtype, int sms, cudaStream_t stream) {
  if (dtype == LAYERNORM_GELU_F32) {
    return launch_type<float, G>(static_cast<float*>(y), static_cast<const float*>(x),
                                 static_cast<const float*>(w), static_cast<const float*>(b), rows,
                                 hidden, eps, sms, stream);
  }
  using B = __nv_bfloat16;
  return launch_type<B, G>(static_cast<B*>(y), static_cast<const B*>(x), static_cast<const B*>(w),
                           static_cast<const B*>(b), rows, hidden, eps, sms, stream);
}

}  // namespace lng

extern "C" int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                                     const void* bias, int64_t rows, int64_t hidden,
                                     float eps, int dtype, int approximate, cudaStream_t stream) {
  if (!y || !x || !weight || !bias) return cudaErrorInvalidValue;
  if (rows < 0 || hidden < 1 || hidden > LAYERNORM_GELU_MAX_HIDDEN) return cudaErrorInvalidValue;
  if (dtype != LAYERNORM_GELU_F32 && dtype != LAYERNORM_GELU_BF16) return cudaErrorInvalidValue;
  if (approximate != LAYERNORM_GELU_NONE && approximate != LAYERNORM_GELU_TANH) return cudaErrorInvalidValue;
  if (rows == 0) return cudaSuccess;
  int device = 0, sms = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (err != cudaSuccess) return err;
  const int h = static_cast<int>(hidden);
  err = approximate == LAYERNORM_GELU_TANH
            ? lng::launch_gelu<lng::Gelu::kTanh>(y, x, weight, bias, rows, h, eps, dtype, sms, stream)
            : lng::launch_gelu<lng::Gelu::kErf>(y, x, weight, bias, rows, h, eps, dtype, sms, stream);
  return static_cast<int>(err);
}

// Runtime dispatch by capability: the CUDA runtime loads the cubin of the device's
// capability; this names the device-code path that cubin takes.
extern "C" const char* layernorm_gelu_variant(void) {
  int device = 0, major = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    return "unknown";
  }
  return major >= 10 ? "f32x2" : "f32";
}
