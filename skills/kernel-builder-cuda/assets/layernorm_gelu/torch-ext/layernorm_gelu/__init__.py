"""Fused LayerNorm + GELU (erf form) for float32 and bfloat16 CUDA tensors.

Under kernel-builder, ``_ops`` is generated at build time and points at this
build's unique ``torch.ops`` namespace.
"""

import torch

from ._ops import ops

__all__ = ["layernorm_gelu"]


def layernorm_gelu(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Return gelu(layer_norm(x, [x.shape[-1]], weight, bias, eps)) in x's dtype."""
    return ops.layernorm_gelu(x, weight, bias, eps)
