"""CPU model of the kernel's arithmetic, operation by operation in fp32 (torch).

It mirrors layernorm_gelu_cuda/layernorm_gelu.cu: statistics of d = x - x[0] in one
pass, m1 = sum(d) / H through the fp32 1/H, var = max(fma(sum(d^2), 1/H, -m1^2), 0),
n = fma(d, rstd, -m1 rstd), v = fma(n, w, b), and the GELU of common.cuh (from the skill's
scripts/gelu_error.py). Summation order differs from the GPU's tree, which changes
results by a few fp32 ulps, far inside the tolerances. The hardware approximations
(ex2, rcp, rsqrt) are taken as correctly rounded here; scripts/gelu_error.py bounds
their effect.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import gelu_error  # noqa: E402

F32, F64 = torch.float32, torch.float64


def _fma(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return (a.to(F64) * b.to(F64) + c.to(F64)).to(F32)


def model_layernorm_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                         eps: float = 1e-5, approximate: str = "none") -> torch.Tensor:
    hidden = x.shape[-1]
    xf = x.reshape(-1, hidden).to(F32)
    d = xf - xf[:, :1]
    s1 = d.sum(dim=1, keepdim=True, dtype=F32)
    s2 = (d * d).sum(dim=1, keepdim=True, dtype=F32)
    inv_h = torch.tensor(1.0 / hidden, dtype=F32)
    m1 = s1 * inv_h
    var = _fma(s2, inv_h, -(m1 * m1)).clamp_min(0)
    rstd = torch.rsqrt(var + torch.tensor(eps, dtype=F32))
    n = _fma(d, rstd, -(m1 * rstd))
    v = _fma(n, weight.to(F32), bias.to(F32))
    p, coef = gelu_error.kernel_constants()
    if approximate == "tanh":
        y = gelu_error.kernel_tanh(v, 0, 0)
    else:
        y = gelu_error.kernel_erf(v, p, coef, 0, 0)
    return y.reshape(x.shape).to(x.dtype)
