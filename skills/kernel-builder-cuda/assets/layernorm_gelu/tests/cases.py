"""Inputs that reach every code path and every numerical hazard of the kernel.

Shared by the CPU model test (test_model.py) and the GPU test (test_layernorm_gelu.py).
"""

from __future__ import annotations

import torch

# Hidden sizes: rows shorter than a warp (17), not a multiple of the 16-byte vector
# (1000, 1023, 4097), warp rows (768, 1024), exact CTA rows (4096, 8192, 16384), ragged
# CTA rows with vectors (5000 for bf16: multiple of 8, not of 1024).
HIDDEN = [17, 768, 1000, 1023, 1024, 4096, 4097, 5000, 8192, 16384]
APPROXIMATE = ["none", "tanh"]


def make_inputs(rows: int, hidden: int, dtype: torch.dtype, *, mean: float = 0.5, std: float = 3.0,
                seed: int = 0, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(rows, hidden, generator=g, dtype=torch.float64) * std + mean
    w = torch.randn(hidden, generator=g)
    b = torch.randn(hidden, generator=g)
    return tuple(t.to(device=device, dtype=dtype) for t in (x, w, b))


def large_offset(rows: int, hidden: int, dtype: torch.dtype, device: str = "cpu"):
    """Mean 1e4, spread 1 (fp32) or 100 (bf16, whose step at 1e4 is 64): E[x^2] - E[x]^2
    in fp32 cancels catastrophically here."""
    return make_inputs(rows, hidden, dtype, mean=1e4, std=1.0 if dtype == torch.float32 else 100.0,
                       seed=1, device=device)
