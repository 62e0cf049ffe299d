// nvcc-gencode: -gencode arch=compute_90a,code=sm_90a
//
// Fused LayerNorm + GELU, sm_90a variant (H100, H200: compute capability 9.0).
//
// One thread hands the whole row to the Tensor Memory Accelerator with a
// single bulk copy (PTX cp.async.bulk, the non-tensor form of TMA: no tensor
// map needed for a contiguous row). Completion is tracked by an mbarrier in
// shared memory: the issuing thread arms it with mbarrier.arrive.expect_tx for
// the row's byte count, the copy performs complete_tx on it, and every thread
// waits with mbarrier.try_wait.parity. The other threads issue no load
// instructions at all, and global memory is read once per row.
//
// Requirements of cp.async.bulk (PTX ISA): source and destination 16-byte
// aligned, size a multiple of 16 bytes. The launcher checks them and falls
// back to the portable kernel otherwise. The shared buffer is aligned to 128
// bytes, which is what the tensor form (cp.async.bulk.tensor) requires, so the
// same buffer can be reused if you switch to a tensor map.
//
// Shared memory per block = hidden * sizeof(T) (64 KB for fp32 at 16384):
// above 48 KB the launcher opts in with cudaFuncSetAttribute; 9.0 allows up to
// 227 KB per block.
//
// The instructions used here exist from sm_90 on; this file is built for
// sm_90a because that is the variant's target, and a cubin built for sm_90a
// runs on compute capability 9.0 only. It refuses to compile for older device
// targets instead of silently emitting Hopper instructions behind a wrong
// guard.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ < 900)
#error "layernorm_gelu sm_90a variant: build with -gencode arch=compute_90a,code=sm_90a (needs __CUDA_ARCH__ >= 900); use the generic or sm_80 variant for older GPUs"
#endif

#include "common.cuh"

namespace {

__device__ __forceinline__ unsigned smem_u32(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

template <typename T>
__global__ void __launch_bounds__(lng::kMaxThreads)
layernorm_gelu_sm90(T* __restrict__ y, const T* __restrict__ x,
                    const T* __restrict__ weight, const T* __restrict__ bias,
                    int hidden, float eps) {
  constexpr int VEC = 16 / sizeof(T);
  using P = lng::Pack<T, VEC>;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  __shared__ __align__(8) uint64_t full_barrier;
  __shared__ float scratch[32];
  const P* srow = reinterpret_cast<const P*>(smem_raw);

  const int64_t row = blockIdx.x;
  const T* xr = x + row * hidden;
  P* yr = reinterpret_cast<P*>(y + row * hidden);
  const P* w = reinterpret_cast<const P*>(weight);
  const P* b = reinterpret_cast<const P*>(bias);
  const int nvec = hidden / VEC;
  const unsigned bytes = static_cast<unsigned>(hidden) * sizeof(T);
  const unsigned bar = smem_u32(&full_barrier);

  if (threadIdx.x == 0) {
    // One arrival (the issuing thread's arrive.expect_tx) completes the phase
    // once the transaction count has also drained to zero.
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(1) : "memory");
    // Make the initialised barrier visible to the async proxy (the TMA unit).
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  }
  __syncthreads();

  if (threadIdx.x == 0) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar),
                 "r"(bytes)
                 : "memory");
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::
            "r"(smem_u32(smem_raw)),
        "l"(xr), "r"(bytes), "r"(bar)
        : "memory");
  }

  // Wait for phase 0 of the barrier: the whole row is in shared memory.
  unsigned done = 0;
  while (!done) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(bar), "r"(0u)
        : "memory");
  }

  float sum = 0.0f;
  for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
    const P p = srow[i];
#pragma unroll
    for (int j = 0; j < VEC; ++j) sum += lng::to_f32(p.v[j]);
  }
  lng::finish_row<T, VEC>(srow, w, b, yr, nvec, hidden, sum, eps, scratch);
}

template <typename T>
cudaError_t launch(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden,
                   float eps, cudaStream_t stream) {
  // Static shared memory: the 8-byte mbarrier and the 128-byte scratch (+ padding).
  return lng::launch_staged<T>(layernorm_gelu_sm90<T>, 256, y, x, w, b, rows, hidden, eps, stream);
}

}  // namespace

extern "C" int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                                     const void* bias, int64_t rows, int64_t hidden,
                                     float eps, int dtype, cudaStream_t stream) {
  return lng::dispatch(y, x, weight, bias, rows, hidden, eps, dtype, stream, launch<float>,
                       launch<__nv_bfloat16>);
}

extern "C" const char* layernorm_gelu_variant(void) { return "sm_90a"; }
