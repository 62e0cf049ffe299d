"""Eval check: answer.py's gelu_tanh_fast and gelu_erf_fast, computed without tanh, erf or gelu.

Both take and return float32 tensors. torch's tanh, erf and gelu (and math's) are
replaced by functions that fail before the answer runs, so the answer must build GELU
from exponentials, reciprocals and polynomials, as a fast kernel does. On a dense grid
over [-12, 12] the error against torch's float64 GELU (approximate="tanh" and "none")
must stay below bf16 rounding: 2^-9 of the value, plus 2^-20 absolute near zero.
"""

import math
import sys

import torch
import torch.nn.functional as F

reference = F.gelu


def refuse(*args, **kwargs):
    raise RuntimeError("tanh, erf and gelu are not allowed in this answer")


for module, names in ((torch, ("tanh", "erf", "erfc")), (torch.special, ("erf", "erfc")),
                      (F, ("gelu", "tanh")), (math, ("tanh", "erf", "erfc")), (torch.Tensor, ("tanh", "erf", "erfc"))):
    for name in names:
        setattr(module, name, refuse)

from answer import gelu_erf_fast, gelu_tanh_fast  # noqa: E402


def main() -> list[str]:
    v = torch.linspace(-12, 12, 200_001, dtype=torch.float32)
    failures = []
    for function, approximate in ((gelu_tanh_fast, "tanh"), (gelu_erf_fast, "none")):
        got = function(v)
        if not isinstance(got, torch.Tensor) or got.shape != v.shape:
            failures.append(f"{function.__name__} must return a tensor shaped like its input")
            continue
        want = reference(v.double(), approximate=approximate)
        excess = (got.double() - want).abs() - (2**-9 * want.abs() + 2**-20)
        if not torch.isfinite(got).all() or excess.max().item() > 0:
            worst = int(excess.argmax())
            failures.append(f"{function.__name__}({v[worst].item():g}) = {got[worst].item():g}, want {want[worst].item():g}")
    return failures


if __name__ == "__main__":
    sys.exit("\n".join(main()) or None)  # exit status 1 with the failures, else 0
