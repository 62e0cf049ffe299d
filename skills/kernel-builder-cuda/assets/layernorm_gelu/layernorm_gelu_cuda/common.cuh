// Device math of the fused LayerNorm + GELU kernel: packed fp32 pairs, fast
// exp2/reciprocal, the two GELU forms, warp reductions. Pure CUDA C++: no torch.
//
// Every function works on float2 pairs. On compute capability 10.0 and later
// (sm_100, sm_103, sm_110, sm_120: the f32x2 instructions of PTX ISA 8.6) a pair
// costs one FFMA2/FADD2/FMUL2 instruction; on older GPUs it is two scalar ones.
// The GELU error bounds are proven in references/gelu-approximation.md with
// scripts/gelu_error.py.
#pragma once

#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <stdint.h>

namespace lng {

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 1000
#define LNG_PACKED_F32 1
#else
#define LNG_PACKED_F32 0
#endif

__device__ __forceinline__ float2 f2(float v) { return make_float2(v, v); }

__device__ __forceinline__ float2 fma2(float2 a, float2 b, float2 c) {
#if LNG_PACKED_F32
  return __ffma2_rn(a, b, c);
#else
  return make_float2(fmaf(a.x, b.x, c.x), fmaf(a.y, b.y, c.y));
#endif
}

__device__ __forceinline__ float2 add2(float2 a, float2 b) {
#if LNG_PACKED_F32
  return __fadd2_rn(a, b);
#else
  return make_float2(a.x + b.x, a.y + b.y);
#endif
}

__device__ __forceinline__ float2 mul2(float2 a, float2 b) {
#if LNG_PACKED_F32
  return __fmul2_rn(a, b);
#else
  return make_float2(a.x * b.x, a.y * b.y);
#endif
}

// One MUFU instruction each (no range fix-up: inputs are finite, subnormal
// results flush to zero). PTX ISA: ex2.approx.ftz.f32, rcp.approx.ftz.f32,
// rsqrt.approx.ftz.f32.
__device__ __forceinline__ float ex2(float v) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}
__device__ __forceinline__ float rcp(float v) {
  float r;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}
__device__ __forceinline__ float rsqrt(float v) {
  float r;
  asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
  return r;
}

// GELU, tanh form (torch approximate="tanh"). Exact identity:
// 0.5 v (1 + tanh(a)) = v / (1 + exp(-2a)), a = sqrt(2/pi) (v + 0.044715 v^3), so
// gelu(v) = v * rcp(1 + 2^(v (T1 + T3 v^2))) with T1 = -2 log2(e) sqrt(2/pi),
// T3 = 0.044715 T1. 2^x overflows to inf for v < -10.3: rcp(inf) = 0, and the true
// value there is below 2^-126 (flushed, like every result under 2^-126).
constexpr float kT1 = -2.302208198f;
constexpr float kT3 = -0.1029432398f;

__device__ __forceinline__ float2 gelu_tanh(float2 v) {
  const float2 s = mul2(v, v);
  const float2 a = mul2(v, fma2(s, f2(kT3), f2(kT1)));
  const float2 d = make_float2(1.0f + ex2(a.x), 1.0f + ex2(a.y));
  return mul2(v, make_float2(rcp(d.x), rcp(d.y)));
}

// GELU, exact erf form (torch approximate="none"), of v = 2h: the kernel folds the
// 1/2 into gamma and beta once per CTA and passes h = v / 2.
// gelu(v) = v Phi(v) = max(v, 0) - z Phi(-z) with z = |v|, and
// z Phi(-z) = z R(z) 2^(-log2(e) z^2 / 2) with R(z) = Phi(-z) exp(z^2 / 2), which falls
// smoothly from 1/2 to 0 like 1 / (z sqrt(2 pi)). R is a quartic in u = 1 / (1 + P z),
// minimax in relative error on z in [0, 14]: scripts/gelu_error.py fits these constants
// and bounds the fp32 result's relative error below 2^-12 (references/gelu-approximation.md).
// In h: max(v, 0) = h + |h|, u = 1 / (1 + 2P |h|), z R = |h| (2R), 2^(-2 log2(e) h^2).
// No cancellation: for v < 0 the result is -z R e itself (h + |h| = 0 exactly); for
// v > 0, z R e < v / 2.
constexpr float kP = 0.47f;
constexpr float kR0 = -0.0003892873878058905f;
constexpr float kR1 = 0.19462861763851297f;
constexpr float kR2 = 0.1396842019137416f;
constexpr float kR3 = 0.29145590791254633f;
constexpr float kR4 = -0.12539521517010005f;
constexpr float kTwoLog2e = 2.8853900817779268f;  // 2 log2(e)

__device__ __forceinline__ float2 abs2(float2 v) { return make_float2(fabsf(v.x), fabsf(v.y)); }

__device__ __forceinline__ float2 gelu_erf_half(float2 h) {
  const float2 a = abs2(h);  // a free |.| operand modifier of FFMA2/FADD2/FMUL2 and FFMA
  const float2 q = fma2(a, f2(2.0f * kP), f2(1.0f));
  const float2 u = make_float2(rcp(q.x), rcp(q.y));
  float2 r = fma2(u, f2(2.0f * kR4), f2(2.0f * kR3));
  r = fma2(r, u, f2(2.0f * kR2));
  r = fma2(r, u, f2(2.0f * kR1));
  r = fma2(r, u, f2(2.0f * kR0));
  const float2 m = mul2(a, r);
  const float2 x = mul2(h, mul2(h, f2(-kTwoLog2e)));
  const float2 e = make_float2(ex2(x.x), ex2(x.y));
  return fma2(make_float2(-m.x, -m.y), e, add2(h, a));
}

enum class Gelu { kErf, kTanh };

// Scale the kernel applies to gamma and beta before calling gelu<G>.
template <Gelu G>
constexpr float kAffineScale = G == Gelu::kErf ? 0.5f : 1.0f;

template <Gelu G>
__device__ __forceinline__ float2 gelu(float2 v) {
  if constexpr (G == Gelu::kErf) {
    return gelu_erf_half(v);
  } else {
    return gelu_tanh(v);
  }
}

// Butterfly sum of a pair over the 32 lanes of a warp; every lane gets the total.
__device__ __forceinline__ float2 warp_sum(float2 v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = add2(v, make_float2(__shfl_xor_sync(0xffffffffu, v.x, offset),
                            __shfl_xor_sync(0xffffffffu, v.y, offset)));
  }
  return v;
}

// Two consecutive elements as loaded (Raw) and their fp32 values. bf16 -> fp32 is
// exact: a shift (low half) or a mask (high half). On compute capability 10.0 and
// later, x - k on a bf16 input is one mixed-precision add (add.rn.f32.bf16, SASS
// FHADD.BF16 with a free half selector) instead of a conversion plus a subtraction.
template <typename T> struct Pair;

template <> struct Pair<float> {
  using Raw = float2;
  __device__ static float2 to_f2(Raw r) { return r; }
  __device__ static float2 minus(Raw r, float k) { return add2(r, f2(-k)); }
  __device__ static Raw from_f2(float2 v) { return v; }
  __device__ static Raw pack(float lo, float hi) { return make_float2(lo, hi); }
  __device__ static float scalar(float v) { return v; }
};

template <> struct Pair<__nv_bfloat16> {
  using Raw = uint32_t;  // low element in bits 0-15
  __device__ static float2 to_f2(Raw r) {
    return make_float2(__uint_as_float(r << 16), __uint_as_float(r & 0xffff0000u));
  }
  __device__ static float2 minus(Raw r, float k) {
#if LNG_PACKED_F32
    float lo, hi;
    asm("{.reg .b16 l, h;\n\tmov.b32 {l, h}, %2;\n\t"
        "add.rn.f32.bf16 %0, l, %3;\n\tadd.rn.f32.bf16 %1, h, %3;}"
        : "=f"(lo), "=f"(hi) : "r"(r), "f"(-k));
    return make_float2(lo, hi);
#else
    return add2(to_f2(r), f2(-k));
#endif
  }
  __device__ static Raw from_f2(float2 v) {
    const __nv_bfloat162 b = __float22bfloat162_rn(v);
    return *reinterpret_cast<const Raw*>(&b);
  }
  __device__ static Raw pack(__nv_bfloat16 lo, __nv_bfloat16 hi) {
    return static_cast<Raw>(__bfloat16_as_ushort(lo)) | (static_cast<Raw>(__bfloat16_as_ushort(hi)) << 16);
  }
  __device__ static float scalar(__nv_bfloat16 v) { return __bfloat162float(v); }
};

}  // namespace lng
