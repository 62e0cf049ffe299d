"""Eval check: answer.py's layernorm_gelu(x, weight, bias, eps, approximate), a CPU reference, against torch.

Hard inputs, as the skill's tests use them: hidden sizes that are not multiples of the
vector width (17, 1023, 4097), rows with a large offset (mean 1e4, unit spread), bf16
and fp32, both GELU forms. Exit 0 when every comparison holds.
"""

import sys

import torch
import torch.nn.functional as F

from answer import layernorm_gelu


def expected(x, weight, bias, eps, approximate):
    y = F.layer_norm(x.double(), (x.shape[-1],), weight.double(), bias.double(), eps)
    return F.gelu(y, approximate=approximate)


def main() -> list[str]:
    generator = torch.Generator().manual_seed(16)
    failures = []
    for hidden in (17, 1023, 4097):
        for offset in (0.0, 1e4):
            for dtype in (torch.float32, torch.bfloat16):
                for approximate in ("none", "tanh"):
                    x = (torch.randn(3, hidden, generator=generator) + offset).to(dtype)
                    weight = (1 + 0.1 * torch.randn(hidden, generator=generator)).to(dtype)
                    bias = (0.1 * torch.randn(hidden, generator=generator)).to(dtype)
                    got = layernorm_gelu(x, weight, bias, 1e-5, approximate)
                    want = expected(x, weight, bias, 1e-5, approximate)
                    where = f"hidden={hidden} offset={offset:g} {dtype} approximate={approximate}"
                    if not isinstance(got, torch.Tensor) or got.dtype != dtype or got.shape != x.shape:
                        failures.append(f"{where}: want a {dtype} tensor of shape {tuple(x.shape)}")
                        continue
                    # a reference computes in float64 and rounds once to the input's dtype
                    rtol, atol = (2**-22, 2**-40) if dtype == torch.float32 else (2**-8, 2**-40)
                    if not torch.allclose(got.double(), want, rtol=rtol, atol=atol):
                        error = (got.double() - want).abs().max().item()
                        failures.append(f"{where}: max error {error:.3g}")
    return failures


if __name__ == "__main__":
    sys.exit("\n".join(main()) or None)  # exit status 1 with the failures, else 0
