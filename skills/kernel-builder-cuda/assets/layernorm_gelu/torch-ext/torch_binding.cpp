// Torch binding of the fused LayerNorm + GELU kernel. This is the only file
// that includes torch headers; the CUDA side is reached through the plain C
// launcher declared in layernorm_gelu_cuda/layernorm_gelu.h.
#include <torch/library.h>
#include <torch/torch.h>

#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>

#include "../layernorm_gelu_cuda/layernorm_gelu.h"
#include "torch_binding.h"

torch::Tensor layernorm_gelu(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps, c10::string_view approximate) {
  TORCH_CHECK(x.is_cuda(), "layernorm_gelu: x must be a CUDA tensor");
  TORCH_CHECK(x.dim() >= 1, "layernorm_gelu: x must have at least one dimension");
  TORCH_CHECK(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16,
              "layernorm_gelu: dtype must be float32 or bfloat16, got ", x.scalar_type());
  const int64_t hidden = x.size(-1);
  TORCH_CHECK(hidden >= 1 && hidden <= LAYERNORM_GELU_MAX_HIDDEN,
              "layernorm_gelu: hidden size must be in [1, ", LAYERNORM_GELU_MAX_HIDDEN,
              "], got ", hidden);
  for (const torch::Tensor* t : {&weight, &bias}) {
    TORCH_CHECK(t->device() == x.device(), "layernorm_gelu: weight/bias on another device");
    TORCH_CHECK(t->scalar_type() == x.scalar_type(),
                "layernorm_gelu: weight/bias dtype must match x");
    TORCH_CHECK(t->dim() == 1 && t->size(0) == hidden,
                "layernorm_gelu: weight/bias must have shape [", hidden, "]");
  }

  TORCH_CHECK(approximate == "none" || approximate == "tanh",
              "layernorm_gelu: approximate must be 'none' or 'tanh', got '", approximate, "'");
  const int gelu = approximate == "tanh" ? LAYERNORM_GELU_TANH : LAYERNORM_GELU_NONE;

  const c10::cuda::CUDAGuard guard(x.device());
  const torch::Tensor xc = x.contiguous();
  const torch::Tensor wc = weight.contiguous();
  const torch::Tensor bc = bias.contiguous();
  torch::Tensor out = torch::empty_like(xc);
  const int64_t rows = xc.numel() / hidden;
  const int dtype = x.scalar_type() == torch::kFloat32 ? LAYERNORM_GELU_F32 : LAYERNORM_GELU_BF16;

  const int err = layernorm_gelu_launch(out.data_ptr(), xc.data_ptr(), wc.data_ptr(),
                                        bc.data_ptr(), rows, hidden, static_cast<float>(eps),
                                        dtype, gelu, c10::cuda::getCurrentCUDAStream().stream());
  TORCH_CHECK(err == 0, "layernorm_gelu (", layernorm_gelu_variant(),
              ") failed: ", cudaGetErrorString(static_cast<cudaError_t>(err)));
  return out;
}

std::string layernorm_gelu_impl() { return layernorm_gelu_variant(); }

// Under kernel-builder, registration.h is generated and TORCH_EXTENSION_NAME
// carries the unique per-build namespace. The standalone build (build_ext.py)
// defines LNG_STANDALONE and registers the ops as torch.ops.layernorm_gelu.
#ifndef LNG_STANDALONE
#include "registration.h"
TORCH_LIBRARY_EXPAND(TORCH_EXTENSION_NAME, ops) {
  ops.def("layernorm_gelu(Tensor x, Tensor weight, Tensor bias, float eps, str approximate=\"none\") -> Tensor");
  ops.impl("layernorm_gelu", torch::kCUDA, &layernorm_gelu);
  ops.def("implementation() -> str", &layernorm_gelu_impl);
}
REGISTER_EXTENSION(TORCH_EXTENSION_NAME)
#else
TORCH_LIBRARY(layernorm_gelu, ops) {
  ops.def("layernorm_gelu(Tensor x, Tensor weight, Tensor bias, float eps, str approximate=\"none\") -> Tensor");
  ops.impl("layernorm_gelu", torch::kCUDA, &layernorm_gelu);
  ops.def("implementation() -> str", &layernorm_gelu_impl);
}
#endif
