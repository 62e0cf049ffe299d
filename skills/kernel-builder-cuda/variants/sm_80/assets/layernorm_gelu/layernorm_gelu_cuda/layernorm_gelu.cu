// nvcc-gencode: -gencode arch=compute_80,code=sm_80 -gencode arch=compute_86,code=sm_86 -gencode arch=compute_89,code=sm_89
//
// Fused LayerNorm + GELU, sm_80 variant (A100; also valid on 8.6 and 8.9).
//
// The row is staged into dynamic shared memory with cp.async (16-byte,
// .cg: bypasses L1), issued as two commit groups: the thread starts summing
// the first half of its vectors while the second half is still in flight
// (cp.async.wait_group 1), then waits for the rest (cp.async.wait_group 0).
// Each thread only ever reads the shared-memory vectors that it copied
// itself, so cp.async.wait_group alone makes them visible: no __syncthreads
// is needed for the data, and global memory is read once per row.
//
// Shared memory per block = hidden * sizeof(T): 64 KB for fp32 at hidden
// 16384, above the 48 KB default, so the launcher opts in with
// cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize). That fits
// 8.0 (163 KB per block) and 8.6/8.9 (99 KB per block). Anything that does not
// fit, or tensors that are not 16-byte aligned, take the portable kernel.
#include "common.cuh"

namespace {

__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* gmem_src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem_src)
               : "memory");
#else
  // Pre-Ampere device code (only reached if someone builds this file for an
  // older target): a synchronous copy keeps the kernel correct.
  *reinterpret_cast<uint4*>(smem_dst) = *reinterpret_cast<const uint4*>(gmem_src);
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

// Wait until at most N of this thread's committed groups are still pending.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

template <typename T>
__global__ void __launch_bounds__(lng::kMaxThreads)
layernorm_gelu_sm80(T* __restrict__ y, const T* __restrict__ x,
                    const T* __restrict__ weight, const T* __restrict__ bias,
                    int hidden, float eps) {
  constexpr int VEC = 16 / sizeof(T);
  using P = lng::Pack<T, VEC>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __shared__ float scratch[32];
  P* srow = reinterpret_cast<P*>(smem_raw);

  const int64_t row = blockIdx.x;
  const P* xr = reinterpret_cast<const P*>(x + row * hidden);
  P* yr = reinterpret_cast<P*>(y + row * hidden);
  const P* w = reinterpret_cast<const P*>(weight);
  const P* b = reinterpret_cast<const P*>(bias);
  const int nvec = hidden / VEC;

  // This thread owns vectors tid, tid + blockDim, ...; k counts them.
  const int per_thread = (nvec + blockDim.x - 1) / blockDim.x;
  const int first_half = (per_thread + 1) / 2;

  for (int k = 0; k < first_half; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) cp_async_16(&srow[i], &xr[i]);
  }
  cp_async_commit();
  for (int k = first_half; k < per_thread; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) cp_async_16(&srow[i], &xr[i]);
  }
  cp_async_commit();

  float sum = 0.0f;
  cp_async_wait<1>();  // first group landed, second may still be in flight
  for (int k = 0; k < first_half; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) {
      const P p = srow[i];
#pragma unroll
      for (int j = 0; j < VEC; ++j) sum += lng::to_f32(p.v[j]);
    }
  }
  cp_async_wait<0>();
  for (int k = first_half; k < per_thread; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) {
      const P p = srow[i];
#pragma unroll
      for (int j = 0; j < VEC; ++j) sum += lng::to_f32(p.v[j]);
    }
  }
  lng::finish_row<T, VEC>(srow, w, b, yr, nvec, hidden, sum, eps, scratch);
}

template <typename T>
cudaError_t launch(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden,
                   float eps, cudaStream_t stream) {
  // Static shared memory: the 128-byte static reduction scratch.
  return lng::launch_staged<T>(layernorm_gelu_sm80<T>, 32 * sizeof(float), y, x, w, b, rows, hidden, eps, stream);
}

}  // namespace

extern "C" int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                                     const void* bias, int64_t rows, int64_t hidden,
                                     float eps, int dtype, cudaStream_t stream) {
  return lng::dispatch(y, x, weight, bias, rows, hidden, eps, dtype, stream, launch<float>,
                       launch<__nv_bfloat16>);
}

extern "C" const char* layernorm_gelu_variant(void) { return "sm_80"; }
