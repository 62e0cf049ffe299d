"""Benchmark the fused kernel against PyTorch and a device copy of the same bytes (GPU only).

    python benchmarks/benchmark.py --dtype bf16 --peak-gbps 3350

Each problem has 2**27 elements by default (16384 rows at hidden 8192: 256 MiB of
bf16 in, as much out), far beyond any L2, so HBM is what is measured. Prints the
GPU, clocks, driver, CUDA and torch versions, then per size and GELU form the
kernel that ran (template: elements per thread, warp or CTA rows, access, GELU),
and median time, GB/s, % of --peak-gbps (your GPU's datasheet bandwidth, see
references/benchmarking.md of the skill) and % of the copy, for the fused
kernel and for PyTorch eager.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[2] / "scripts"))  # the skill's scripts/bench.py

from bench import benchmark, environment, kernel_names, report, require_cuda  # noqa: E402

ELEMENTS = 2**27


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--rows", type=int, default=None, help=f"default: {ELEMENTS} / hidden")
    parser.add_argument("--hidden", type=int, nargs="+", default=[768, 2048, 4096, 8192, 16384])
    parser.add_argument("--approximate", choices=["none", "tanh"], nargs="+", default=["none", "tanh"])
    parser.add_argument("--peak-gbps", type=float, default=None)
    parser.add_argument("--iters", type=int, default=200)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch = require_cuda()  # one error line and exit 1 without a GPU
    from build_ext import load
    from tests.reference import TOLERANCES, reference_layernorm_gelu

    ops = load()
    dtype = torch.float32 if args.dtype == "fp32" else torch.bfloat16
    print(environment())
    print(f"math path: {ops.implementation()}")
    functional = torch.nn.functional
    for hidden in args.hidden:
        rows = args.rows or ELEMENTS // hidden
        x = torch.randn(rows, hidden, device="cuda", dtype=dtype)
        w = torch.randn(hidden, device="cuda", dtype=dtype)
        b = torch.randn(hidden, device="cuda", dtype=dtype)
        out = torch.empty_like(x)
        nbytes = (2 * x.numel() + 2 * hidden) * x.element_size()  # read x, write y, gamma and beta once
        copy = (benchmark(lambda: out.copy_(x), iters=args.iters), 2 * x.numel() * x.element_size())
        for approx in args.approximate:
            torch.testing.assert_close(  # never time a wrong kernel
                ops.layernorm_gelu(x, w, b, 1e-5, approx), reference_layernorm_gelu(x, w, b, 1e-5, approx),
                **TOLERANCES[dtype],
            )
            fused = lambda: ops.layernorm_gelu(x, w, b, 1e-5, approx)  # noqa: E731
            eager = lambda: functional.gelu(functional.layer_norm(x, (hidden,), w, b, 1e-5), approximate=approx)  # noqa: E731
            print(f"rows={rows} hidden={hidden} gelu={approx}: ran {', '.join(kernel_names(fused))}")
            for name, fn in (("fused", fused), ("torch", eager)):
                stats = benchmark(fn, iters=args.iters)
                print(report(f"  {name:5s}", stats, nbytes, args.peak_gbps, copy=copy))
        print(report("  copy ", copy[0], copy[1], args.peak_gbps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
