// nvcc-gencode: -gencode arch=compute_100a,code=sm_100a
//
// Fused LayerNorm + GELU, sm_100a variant (B200, GB200: compute capability 10.0).
//
// LayerNorm + GELU is memory bound and has no matrix product, so tcgen05 and
// tensor memory have nothing to do here. What Blackwell does bring to this
// kernel is the 256-bit global load/store (ld.global.v8.b32 /
// st.global.v8.b32): ptxas accepts it only for sm_100 and later targets, and
// only from PTX ISA 8.8 (CUDA 12.9) on. Each thread loads its share of the row
// into registers with 32-byte accesses, keeps it there for all three passes
// (mean, centred variance, normalise + GELU), and writes the result with
// 32-byte stores: global memory is read once per row and no shared memory is
// needed for the row.
//
// A thread holds up to kMaxVecsPerThread 32-byte vectors, i.e. at most
// 4 * 512 * 8 = 16384 fp32 or 4 * 512 * 16 = 32768 bf16 elements per row.
// Tensors that are not 32-byte aligned, or whose hidden size is not a multiple
// of 8 (fp32) / 16 (bf16), take the portable kernel.
//
// A cubin built for sm_100a runs on compute capability 10.0 only (not on 10.3
// B300, not on 12.x). The file refuses to compile for device targets below
// 10.0.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ < 1000)
#error "layernorm_gelu sm_100a variant: build with -gencode arch=compute_100a,code=sm_100a (needs __CUDA_ARCH__ >= 1000); use the generic, sm_80 or sm_90a variant for older GPUs"
#endif

#include "common.cuh"

namespace {

constexpr int kMaxVecsPerThread = 4;

// 32 bytes = eight 32-bit words.
struct alignas(32) Vec256 {
  uint32_t w[8];
};

__device__ __forceinline__ Vec256 ld256(const void* p) {
  Vec256 v;
  asm volatile("ld.global.nc.v8.b32 {%0, %1, %2, %3, %4, %5, %6, %7}, [%8];\n"
               : "=r"(v.w[0]), "=r"(v.w[1]), "=r"(v.w[2]), "=r"(v.w[3]), "=r"(v.w[4]),
                 "=r"(v.w[5]), "=r"(v.w[6]), "=r"(v.w[7])
               : "l"(p));
  return v;
}

__device__ __forceinline__ void st256(void* p, const Vec256& v) {
  asm volatile("st.global.v8.b32 [%0], {%1, %2, %3, %4, %5, %6, %7, %8};\n" ::"l"(p),
               "r"(v.w[0]), "r"(v.w[1]), "r"(v.w[2]), "r"(v.w[3]), "r"(v.w[4]), "r"(v.w[5]),
               "r"(v.w[6]), "r"(v.w[7])
               : "memory");
}

// Element e of a 32-byte vector, as fp32.
template <typename T> __device__ __forceinline__ float elem(const Vec256& v, int e);
template <> __device__ __forceinline__ float elem<float>(const Vec256& v, int e) {
  return __uint_as_float(v.w[e]);
}
template <> __device__ __forceinline__ float elem<__nv_bfloat16>(const Vec256& v, int e) {
  const uint32_t word = v.w[e >> 1];
  const uint32_t bits = (e & 1) ? (word >> 16) : (word & 0xffffu);
  return __uint_as_float(bits << 16);  // bf16 is the top half of an fp32
}

template <typename T> __device__ __forceinline__ void set_elem(Vec256& v, int e, float f);
template <> __device__ __forceinline__ void set_elem<float>(Vec256& v, int e, float f) {
  v.w[e] = __float_as_uint(f);
}
template <> __device__ __forceinline__ void set_elem<__nv_bfloat16>(Vec256& v, int e, float f) {
  const uint32_t bits = static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(f)));
  uint32_t& word = v.w[e >> 1];
  word = (e & 1) ? ((word & 0x0000ffffu) | (bits << 16)) : ((word & 0xffff0000u) | bits);
}

template <typename T, int VPT>
__global__ void __launch_bounds__(lng::kMaxThreads)
layernorm_gelu_sm100(T* __restrict__ y, const T* __restrict__ x,
                     const T* __restrict__ weight, const T* __restrict__ bias,
                     int hidden, float eps) {
  constexpr int E = 32 / sizeof(T);  // elements per 32-byte vector
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * hidden;
  T* yr = y + row * hidden;
  const int nvec = hidden / E;

  Vec256 v[VPT];
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) {
      v[k] = ld256(xr + static_cast<int64_t>(i) * E);
#pragma unroll
      for (int e = 0; e < E; ++e) sum += elem<T>(v[k], e);
    }
  }
  const float mean = lng::block_sum(sum, scratch) / hidden;

  float sq = 0.0f;
#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) {
#pragma unroll
      for (int e = 0; e < E; ++e) {
        const float d = elem<T>(v[k], e) - mean;
        sq += d * d;
      }
    }
  }
  const float rstd = rsqrtf(lng::block_sum(sq, scratch) / hidden + eps);

#pragma unroll
  for (int k = 0; k < VPT; ++k) {
    const int i = threadIdx.x + k * blockDim.x;
    if (i < nvec) {
      const Vec256 vw = ld256(weight + static_cast<int64_t>(i) * E);
      const Vec256 vb = ld256(bias + static_cast<int64_t>(i) * E);
      Vec256 out;
#pragma unroll
      for (int e = 0; e < E; ++e) {
        const float n = (elem<T>(v[k], e) - mean) * rstd;
        set_elem<T>(out, e, lng::gelu_erf(n * elem<T>(vw, e) + elem<T>(vb, e)));
      }
      st256(yr + static_cast<int64_t>(i) * E, out);
    }
  }
}

template <typename T>
cudaError_t launch(T* y, const T* x, const T* w, const T* b, int64_t rows, int hidden,
                   float eps, cudaStream_t stream) {
  constexpr int E = 32 / sizeof(T);
  const bool v256_ok = hidden % E == 0 && lng::aligned_to(x, 32) && lng::aligned_to(y, 32) &&
                       lng::aligned_to(w, 32) && lng::aligned_to(b, 32);
  const int nvec = hidden / E;
  const dim3 grid(static_cast<unsigned>(rows));
  if (v256_ok) {
    // Smallest vectors-per-thread that keeps the block within kMaxThreads.
    if (nvec <= lng::kMaxThreads) {
      layernorm_gelu_sm100<T, 1><<<grid, lng::pick_threads(nvec), 0, stream>>>(y, x, w, b,
                                                                                hidden, eps);
      return cudaGetLastError();
    }
    if (nvec <= 2 * lng::kMaxThreads) {
      layernorm_gelu_sm100<T, 2><<<grid, lng::pick_threads((nvec + 1) / 2), 0, stream>>>(
          y, x, w, b, hidden, eps);
      return cudaGetLastError();
    }
    if (nvec <= kMaxVecsPerThread * lng::kMaxThreads) {
      layernorm_gelu_sm100<T, kMaxVecsPerThread>
          <<<grid, lng::pick_threads((nvec + kMaxVecsPerThread - 1) / kMaxVecsPerThread), 0,
             stream>>>(y, x, w, b, hidden, eps);
      return cudaGetLastError();
    }
  }
  return lng::launch_portable(y, x, w, b, rows, hidden, eps, stream);
}

}  // namespace

extern "C" int layernorm_gelu_launch(void* y, const void* x, const void* weight,
                                     const void* bias, int64_t rows, int64_t hidden,
                                     float eps, int dtype, cudaStream_t stream) {
  return lng::dispatch(y, x, weight, bias, rows, hidden, eps, dtype, stream, launch<float>,
                       launch<__nv_bfloat16>);
}

extern "C" const char* layernorm_gelu_variant(void) { return "sm_100a"; }
