"""Benchmark the fused kernel against the unfused PyTorch reference (GPU only).

    python benchmarks/benchmark.py --dtype bf16 --rows 8192 --peak-gbps 3350

Prints median time, effective bandwidth (bytes that must move / time) and, if
--peak-gbps is given (the datasheet HBM bandwidth of your GPU, see
references/benchmarking.md of the skill), the percentage of that peak.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[2] / "scripts"))  # the skill's scripts/bench.py

import torch  # noqa: E402

from bench import benchmark, report  # noqa: E402
from build_ext import load  # noqa: E402
from tests.reference import TOLERANCES, reference_layernorm_gelu  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--hidden", type=int, nargs="+", default=[768, 4096, 8192, 16384])
    parser.add_argument("--peak-gbps", type=float, default=None)
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--approximate", choices=["none", "tanh"], default="none")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU: nothing to benchmark", file=sys.stderr)
        return 1
    ops = load()
    dtype = torch.float32 if args.dtype == "fp32" else torch.bfloat16
    print(f"implementation: {ops.implementation()}  GPU: {torch.cuda.get_device_name()}")
    for hidden in args.hidden:
        x = torch.randn(args.rows, hidden, device="cuda", dtype=dtype)
        w = torch.randn(hidden, device="cuda", dtype=dtype)
        b = torch.randn(hidden, device="cuda", dtype=dtype)
        # Minimum traffic: read x, write y, read weight and bias once.
        nbytes = (2 * x.numel() + 2 * hidden) * x.element_size()
        approx = args.approximate
        torch.testing.assert_close(  # never time a wrong kernel
            ops.layernorm_gelu(x, w, b, 1e-5, approx), reference_layernorm_gelu(x, w, b, 1e-5, approx),
            **TOLERANCES[dtype],
        )
        for name, fn in [
            ("fused", lambda: ops.layernorm_gelu(x, w, b, 1e-5, approx)),
            ("torch", lambda: torch.nn.functional.gelu(
                torch.nn.functional.layer_norm(x, (hidden,), w, b, 1e-5), approximate=approx)),
        ]:
            stats = benchmark(fn, iters=args.iters)
            print(report(f"{name:5s} rows={args.rows} hidden={hidden}", stats, nbytes, args.peak_gbps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
