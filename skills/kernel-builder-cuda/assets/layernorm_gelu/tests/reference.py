"""PyTorch reference for the fused LayerNorm + GELU kernel, and the tolerances.

The reference computes in float64 from the same (possibly bf16) inputs and rounds
once to the input dtype, so it is the correctly rounded result up to float64 error.
Runs on CPU and GPU.
"""

import torch
import torch.nn.functional as F


def reference_layernorm_gelu(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5,
    approximate: str = "none",
) -> torch.Tensor:
    hidden = x.shape[-1]
    y = F.layer_norm(x.double(), (hidden,), weight.double(), bias.double(), eps)
    return F.gelu(y, approximate=approximate).to(x.dtype)


# Tolerances (|got - want| <= atol + rtol |want|), derived in the skill's
# references/correctness.md:
# - rtol: bf16 keeps 8 significant bits, so one step (ulp) is at most 2^-7 of the value.
#   The kernel's fp32 result is within 2^-12 relative of the exact GELU
#   (references/gelu-approximation.md) and the reference is exact; each is rounded once
#   to bf16, so they differ by at most one ulp plus that 2^-12: 2^-7 + 2^-12. For fp32
#   outputs the GELU approximation dominates: 2^-12 plus the statistics' few ulps.
# - atol: near a zero of the output the relative bound says nothing; there the error is
#   that of v = n w + b in fp32: a few (<= 4) ulps of |n w| + |b|, times gelu' <= 1.13.
#   For |n w| + |b| < 2^6 (normalised inputs, unit-scale weights) that is below 2^-15.
TOLERANCES = {
    torch.float32: {"atol": 2.0**-15, "rtol": 2.0**-12 + 2.0**-16},
    torch.bfloat16: {"atol": 2.0**-15, "rtol": 2.0**-7 + 2.0**-12},
}
