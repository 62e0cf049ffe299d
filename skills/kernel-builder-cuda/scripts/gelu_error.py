"""Fit the kernel's erf-GELU approximation and bound both GELU forms' error (CPU, torch).

    python scripts/gelu_error.py            # fit, print constants and the error bounds
    python scripts/gelu_error.py --check    # also check the constants in common.cuh

What it proves (references/gelu-approximation.md): the fp32 evaluation of the kernel's
GELU, as written in assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh (every
operation rounded to fp32, FMAs rounded once, ex2/rcp results off by up to the
relative errors given below in the worst direction), has a relative error below
2^-12 against the exact GELU for every input whose exact GELU has magnitude >= 2^-120
(smaller results may flush to zero: absolute error below 2^-120), on a grid of inputs over [-14, 14] dense enough that
the bound's estimate is stable, plus every value outside: beyond |v| = 14 the erf form
returns v or 0 within 2^-120 and the tanh form likewise.

erf form:  gelu(v) = max(v, 0) - z R(z) 2^(-log2(e) z^2 / 2),  z = |v|,
           R(z) = Phi(-z) exp(z^2 / 2) ~ quartic in u = 1 / (1 + P z)   (fitted here)
tanh form: gelu(v) = v / (1 + 2^(v (T1 + T3 v^2)))                     (exact identity)
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import torch

COMMON = Path(__file__).resolve().parents[1] / "assets/layernorm_gelu/layernorm_gelu_cuda/common.cuh"
# Worst-case relative errors assumed for the MUFU approximations ex2.approx.ftz.f32 and
# rcp.approx.ftz.f32: deliberately looser than the PTX ISA's documented figures.
EX2_ERR = 2.0**-21
RCP_ERR = 2.0**-21
LOG2E = 1.0 / math.log(2.0)
F32 = torch.float32
F64 = torch.float64
TINY = 2.0**-120  # below this, results may flush to zero (ftz MUFU results and products)


def fit(degree: int = 4, grid: int = 50_000) -> tuple[float, list[float], float]:
    """(P, coefficients c0..c4 of R(u), max relative fit error): minimax in relative error
    by Lawson's iteration, P scanned on a 0.01 grid around the optimum."""
    z = torch.cat([torch.linspace(0, 1, grid // 10, dtype=F64), torch.linspace(1, 14, grid, dtype=F64)[1:]])
    target = (torch.special.log_ndtr(-z) + z * z / 2).exp()
    best = None
    for p in [round(0.44 + 0.01 * i, 2) for i in range(7)]:
        u = 1 / (1 + p * z)
        basis = torch.stack([u**k for k in range(degree + 1)], 1)
        weight = torch.ones_like(z)
        for _ in range(80):
            scale = weight.sqrt() / target
            coef = torch.linalg.lstsq(basis * scale[:, None], (target * scale)[:, None]).solution[:, 0]
            err = (basis @ coef - target) / target
            weight = weight * err.abs().clamp_min(1e-20)
            weight = weight / weight.sum()
        worst = float(err.abs().max())
        if best is None or worst < best[2]:
            best = (p, [float(c) for c in coef], worst)
    return best


def f32(t: torch.Tensor) -> torch.Tensor:
    return t.to(F32)


def fma(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """fp32 fused multiply-add: exact product and sum in fp64, one rounding to fp32
    (the fp64 sum may round first: at most 2^-29 relative more, covered by the margin)."""
    return f32(a.to(F64) * b.to(F64) + c.to(F64))


def mufu(exact: torch.Tensor, err: float, sign: int) -> torch.Tensor:
    """A MUFU result: the exact value off by err relative, in direction sign (0: none)."""
    return f32(exact.to(F64) * (1 + sign * err))


def kernel_erf(v: torch.Tensor, p: float, coef: list[float], s_rcp: int, s_ex2: int) -> torch.Tensor:
    """common.cuh gelu_erf_half on h = v / 2 (exact: the kernel folds 1/2 into gamma/beta)."""
    h = f32(v.to(F64) / 2)
    a = h.abs()
    q = fma(a, torch.tensor(2 * p, dtype=F32), torch.tensor(1.0, dtype=F32))
    u = mufu(1 / q.to(F64), RCP_ERR, s_rcp)
    c2 = [torch.tensor(2 * c, dtype=F32) for c in coef]  # R2 = 2 R
    r = fma(u, c2[4], c2[3])
    for c in (c2[2], c2[1], c2[0]):
        r = fma(r, u, c)
    m = f32(a.to(F64) * r.to(F64))
    x = f32(h.to(F64) * f32(h.to(F64) * torch.tensor(-2 * LOG2E, dtype=F32).to(F64)).to(F64))
    e = mufu(torch.exp2(x.to(F64)), EX2_ERR, s_ex2)
    e = torch.where(e.abs() < 2.0**-126, torch.zeros_like(e), e)  # ftz
    return fma(-m, e, f32(h.to(F64) + a.to(F64)))


T1 = -2 * LOG2E * math.sqrt(2 / math.pi)
T3 = 0.044715 * T1


def kernel_tanh(v: torch.Tensor, s_rcp: int, s_ex2: int) -> torch.Tensor:
    """common.cuh gelu_tanh."""
    s = f32(v.to(F64) * v.to(F64))
    a = f32(v.to(F64) * fma(s, torch.tensor(T3, dtype=F32), torch.tensor(T1, dtype=F32)).to(F64))
    e = mufu(torch.exp2(a.to(F64)), EX2_ERR, s_ex2)
    d = f32(1.0 + e.to(F64))
    r = mufu(1 / d.to(F64), RCP_ERR, s_rcp)
    r = torch.where(r.abs() < 2.0**-126, torch.zeros_like(r), r)  # ftz
    return f32(v.to(F64) * r.to(F64))


def exact(v: torch.Tensor, form: str) -> torch.Tensor:
    v = v.to(F64)
    if form == "none":
        # v Phi(v), with Phi(v) = exp(log_ndtr(v)): accurate in the far negative tail too
        return v * torch.special.log_ndtr(v).exp()
    inner = math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)
    return v * torch.sigmoid(2 * inner)  # = 0.5 v (1 + tanh(inner)), without cancellation


def inputs(points: int) -> torch.Tensor:
    """fp32 inputs: uniform on [-16, 16], plus magnitudes from 2^-40 to 2^4 log-spaced."""
    uniform = torch.linspace(-16, 16, points, dtype=F64)
    mags = torch.logspace(-40, 4, points // 4, base=2.0, dtype=F64)
    return f32(torch.cat([uniform, mags, -mags]))


def bound(form: str, p: float, coef: list[float], points: int) -> tuple[float, float]:
    """(max relative error where |gelu| >= 2^-120, max absolute error where it is smaller)."""
    v = inputs(points)
    want = exact(v, form)
    rel, tiny = 0.0, 0.0
    for s_rcp in (-1, 1):
        for s_ex2 in (-1, 1):
            got = (kernel_erf(v, p, coef, s_rcp, s_ex2) if form == "none" else kernel_tanh(v, s_rcp, s_ex2))
            err = (got.to(F64) - want).abs()
            big = want.abs() >= TINY
            rel = max(rel, float((err[big] / want[big].abs()).max()))
            if (~big).any():
                tiny = max(tiny, float(err[~big].max()))
    return rel, tiny


def source_constants() -> dict[str, float]:
    text = COMMON.read_text()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"constexpr float (k\w+) = ([-0-9.e]+)f;", text)}


def kernel_constants() -> tuple[float, list[float]]:
    """(P, R coefficients) as common.cuh declares them."""
    consts = source_constants()
    return consts["kP"], [consts[f"kR{i}"] for i in range(5)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_001, help="uniform grid points on [-16, 16]")
    parser.add_argument("--check", action="store_true", help="compare with the constants in common.cuh")
    args = parser.parse_args(argv)
    p, coef, fit_err = fit()
    print(f"fit: P = {p}, R(u) relative error {fit_err:.3e} (2^{math.log2(fit_err):.2f})")
    for name, value in [("kP", p)] + [(f"kR{i}", c) for i, c in enumerate(coef)]:
        print(f"constexpr float {name} = {value!r}f;")
    status = 0
    if args.check:
        consts = source_constants()
        for name, value in [("kP", p)] + [(f"kR{i}", c) for i, c in enumerate(coef)]:
            if name not in consts or abs(consts[name] - value) > 1e-7 * max(1.0, abs(value)):
                print(f"common.cuh: {name} = {consts.get(name)} differs from the fit {value!r}")
                status = 1
        p, coef = consts.get("kP", p), [consts.get(f"kR{i}", c) for i, c in enumerate(coef)]
    for form in ("none", "tanh"):
        rel, tiny = bound(form, p, coef, args.points)
        print(f"gelu approximate={form!r}: max relative error {rel:.3e} (2^{math.log2(rel):.2f}) "
              f"for |gelu| >= 2^-120; max absolute error below that {tiny:.1e}")
        if not rel < 2.0**-12:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
