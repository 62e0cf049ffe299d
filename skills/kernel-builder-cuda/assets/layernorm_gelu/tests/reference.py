"""PyTorch reference for the fused LayerNorm + GELU kernel.

Computed in float32 and cast back to the input dtype, which is what the CUDA
kernel does (it accumulates mean and variance in fp32). Runs on CPU and GPU.
"""

import torch
import torch.nn.functional as F


def reference_layernorm_gelu(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    hidden = x.shape[-1]
    y = F.layer_norm(x.float(), (hidden,), weight.float(), bias.float(), eps)
    return F.gelu(y, approximate="none").to(x.dtype)


# Tolerances for comparing the kernel with the reference. bfloat16 has an
# 8-bit significand: one rounding step is 2**-8 relative, and the kernel and
# the reference may round a value to neighbouring bf16 numbers.
TOLERANCES = {
    torch.float32: {"atol": 1e-4, "rtol": 1e-4},
    torch.bfloat16: {"atol": 1.6e-2, "rtol": 1.6e-2},
}
