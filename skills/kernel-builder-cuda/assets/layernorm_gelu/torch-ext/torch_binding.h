#pragma once

#include <torch/torch.h>

// out = gelu(layer_norm(x, [hidden], weight, bias, eps), approximate), approximate
// "none" (erf form) or "tanh", as torch.nn.functional.gelu names them.
// x: [..., hidden] float32 or bfloat16 on a CUDA device; weight and bias:
// [hidden], same dtype and device as x.
torch::Tensor layernorm_gelu(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps, c10::string_view approximate);
