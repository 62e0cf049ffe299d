"""Fused LayerNorm + GELU (erf or tanh form) for float32 and bfloat16 CUDA tensors.

Under kernel-builder, ``_ops`` is generated at build time and points at this
build's unique ``torch.ops`` namespace.
"""

import torch

from ._ops import ops

__all__ = ["layernorm_gelu"]


def layernorm_gelu(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    eps: float = 1e-5,
    approximate: str = "none",
) -> torch.Tensor:
    """Return gelu(layer_norm(x, [x.shape[-1]], weight, bias, eps), approximate) in x's dtype.

    ``approximate`` is "none" (erf form) or "tanh", as in torch.nn.functional.gelu.
    """
    return ops.layernorm_gelu(x, weight, bias, eps, approximate)
