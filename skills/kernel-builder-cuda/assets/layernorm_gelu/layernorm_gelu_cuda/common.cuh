// Device helpers shared by every variant of the fused LayerNorm + GELU kernel:
// type conversion, the exact (erf) GELU, warp/block reductions and the
// portable fallback kernel. Pure CUDA C++: no torch headers.
#pragma once

#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <stdint.h>

#include "layernorm_gelu.h"

namespace lng {

// Upper bound used both in __launch_bounds__ and by the host when it picks a
// block size: a launch with more threads per block than __launch_bounds__
// allows fails ("too many resources requested for launch").
constexpr int kMaxThreads = 512;

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// GELU, erf form (torch.nn.functional.gelu with approximate="none"):
// gelu(v) = 0.5 * v * (1 + erf(v / sqrt(2))).
__device__ __forceinline__ float gelu_erf(float v) {
  return 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
}

// Butterfly sum over the 32 lanes of a full warp; every lane gets the total.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  }
  return v;
}

// Sum over the block; blockDim.x must be a multiple of 32 and <= 1024.
// Every thread returns the total. scratch: 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int num_warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // a previous call may still be reading scratch
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = (lane < num_warps) ? scratch[lane] : 0.0f;
  return warp_sum(v);
}

// VEC consecutive elements, aligned so that one load/store instruction moves
// them (16 bytes: ld.global.v4.b32 / st.global.v4.b32).
template <typename T, int VEC>
struct alignas(sizeof(T) * VEC) Pack {
  T v[VEC];
};

// Portable kernel: one block per row, three passes over the row (mean,
// centred variance, normalise + GELU). The second and third passes re-read
// the row, which is at most 64 KB and mostly comes from L1/L2.
// VEC = 16 / sizeof(T) when every pointer is 16-byte aligned and hidden % VEC
// == 0; VEC = 1 otherwise.
// The rest of a row once its sum is known: the mean, then the variance pass and the
// normalise + affine + GELU pass. ``row`` is global memory in the portable kernel,
// and shared memory in kernels that staged the row there (sm_80's cp.async, sm_90a's
// TMA), which then never read global memory for it again.
template <typename T, int VEC>
__device__ __forceinline__ void finish_row(const Pack<T, VEC>* __restrict__ row,
                                           const Pack<T, VEC>* __restrict__ w,
                                           const Pack<T, VEC>* __restrict__ b,
                                           Pack<T, VEC>* __restrict__ yr,
                                           int nvec, int hidden, float sum, float eps,
                                           float* scratch) {
  using P = Pack<T, VEC>;
  const float mean = block_sum(sum, scratch) / hidden;

  float sq = 0.0f;
  for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
    const P p = row[i];
#pragma unroll
    for (int j = 0; j < VEC; ++j) {
      const float d = to_f32(p.v[j]) - mean;
      sq += d * d;
    }
  }
  const float rstd = rsqrtf(block_sum(sq, scratch) / hidden + eps);

  for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
    const P p = row[i];
    const P pw = w[i];
    const P pb = b[i];
    P out;
#pragma unroll
    for (int j = 0; j < VEC; ++j) {
      const float n = (to_f32(p.v[j]) - mean) * rstd;
      out.v[j] = from_f32<T>(gelu_erf(n * to_f32(pw.v[j]) + to_f32(pb.v[j])));
    }
    yr[i] = out;
  }
}

template <typename T, int VEC>
__global__ void __launch_bounds__(kMaxThreads)
layernorm_gelu_portable(T* __restrict__ y, const T* __restrict__ x,
                        const T* __restrict__ weight, const T* __restrict__ bias,
                        int hidden, float eps) {
  __shared__ float scratch[32];
  using P = Pack<T, VEC>;
  const int64_t row = blockIdx.x;
  const P* xr = reinterpret_cast<const P*>(x + row * hidden);
  P* yr = reinterpret_cast<P*>(y + row * hidden);
  const P* w = reinterpret_cast<const P*>(weight);
  const P* b = reinterpret_cast<const P*>(bias);
  const int nvec = hidden / VEC;

  float sum = 0.0f;
  for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
    const P p = xr[i];
#pragma unroll
    for (int j = 0; j < VEC; ++j) sum += to_f32(p.v[j]);
  }
  finish_row<T, VEC>(xr, w, b, yr, nvec, hidden, sum, eps, scratch);
}

// Block size for nvec work items: a multiple of 32 in [32, kMaxThreads].
inline int pick_threads(int64_t items) {
  int64_t t = (items + 31) / 32 * 32;
  if (t < 32) t = 32;
  if (t > kMaxThreads) t = kMaxThreads;
  return static_cast<int>(t);
}

inline bool aligned_to(const void* p, uintptr_t bytes) {
  return (reinterpret_cast<uintptr_t>(p) % bytes) == 0;
}

// Whether 16-byte vectors may be used: hidden a multiple of the vector width and
// every tensor 16-byte aligned. Every row then starts 16-byte aligned too, as
// cp.async and TMA bulk copies of whole rows need.
template <typename T>
inline bool vectorizable(const T* y, const T* x, const T* w, const T* b, int hidden) {
  return hidden % (16 / sizeof(T)) == 0 && aligned_to(x, 16) && aligned_to(y, 16) &&
         aligned_to(w, 16) && aligned_to(b, 16);
}

// Host side: launch the portable kernel with the widest legal vector width.
template <typename T>
cudaError_t launch_portable(T* y, const T* x, const T* w, const T* b,
                            int64_t rows, int hidden, float eps, cudaStream_t stream) {
  constexpr int VEC = 16 / sizeof(T);
  const dim3 grid(static_cast<unsigned>(rows));
  if (vectorizable(y, x, w, b, hidden)) {
    layernorm_gelu_portable<T, VEC><<<grid, pick_threads(hidden / VEC), 0, stream>>>(
        y, x, w, b, hidden, eps);
  } else {
    layernorm_gelu_portable<T, 1><<<grid, pick_threads(hidden), 0, stream>>>(
        y, x, w, b, hidden, eps);
  }
  return cudaGetLastError();
}

template <typename T>
using RowKernel = void (*)(T*, const T*, const T*, const T*, int, float);

// Launch a kernel that stages each row in dynamic shared memory (hidden elements)
// beside `static_smem` bytes it declares itself; the portable kernel instead when
// the tensors cannot be vectorised or the row does not fit the opt-in limit.
template <typename T>
cudaError_t launch_staged(RowKernel<T> kernel, size_t static_smem, T* y, const T* x, const T* w,
                          const T* b, int64_t rows, int hidden, float eps, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>(hidden) * sizeof(T);
  int device = 0;
  int optin = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return err;
  err = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (err != cudaSuccess) return err;
  if (!vectorizable(y, x, w, b, hidden) || smem + static_smem > static_cast<size_t>(optin)) {
    return launch_portable(y, x, w, b, rows, hidden, eps, stream);
  }
  if (smem > 48 * 1024) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(smem));
    if (err != cudaSuccess) return err;
  }
  kernel<<<static_cast<unsigned>(rows), pick_threads(hidden / (16 / sizeof(T))), smem, stream>>>(
      y, x, w, b, hidden, eps);
  return cudaGetLastError();
}

// Argument checks shared by all launchers. Returns cudaSuccess when the
// launch may proceed.
inline cudaError_t check_args(const void* y, const void* x, const void* w, const void* b,
                              int64_t rows, int64_t hidden, int dtype) {
  if (!y || !x || !w || !b) return cudaErrorInvalidValue;
  if (rows < 0 || rows > 0x7fffffffLL) return cudaErrorInvalidValue;
  if (hidden < 1 || hidden > LAYERNORM_GELU_MAX_HIDDEN) return cudaErrorInvalidValue;
  if (dtype != LAYERNORM_GELU_F32 && dtype != LAYERNORM_GELU_BF16) return cudaErrorInvalidValue;
  return cudaSuccess;
}

template <typename T>
using Launcher = cudaError_t (*)(T*, const T*, const T*, const T*, int64_t, int, float, cudaStream_t);

// The body of every variant's layernorm_gelu_launch: check the arguments, then
// call the variant's launcher for the tensors' dtype.
inline int dispatch(void* y, const void* x, const void* weight, const void* bias, int64_t rows,
                    int64_t hidden, float eps, int dtype, cudaStream_t stream,
                    Launcher<float> launch_f32, Launcher<__nv_bfloat16> launch_bf16) {
  cudaError_t err = check_args(y, x, weight, bias, rows, hidden, dtype);
  if (err != cudaSuccess) return err;
  if (rows == 0) return cudaSuccess;
  const int h = static_cast<int>(hidden);
  if (dtype == LAYERNORM_GELU_F32) {
    err = launch_f32(static_cast<float*>(y), static_cast<const float*>(x),
                     static_cast<const float*>(weight), static_cast<const float*>(bias), rows, h,
                     eps, stream);
  } else {
    err = launch_bf16(static_cast<__nv_bfloat16*>(y), static_cast<const __nv_bfloat16*>(x),
                      static_cast<const __nv_bfloat16*>(weight),
                      static_cast<const __nv_bfloat16*>(bias), rows, h, eps, stream);
  }
  return static_cast<int>(err);
}

}  // namespace lng
