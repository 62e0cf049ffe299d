"""The ``bench`` command: benchmark a skill variant's reference kernel and write evidence."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import arch_option, choose_capability, json_option, links_within_option
from skillpm.cli.output import emit_json, notice, say, table


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@arch_option()
@click.option("--target", metavar="TARGET", help="Bench this variant (sm_90a, generic...), not the one for --arch.")
@click.option(
    "--sizes",
    metavar="ROWSxHIDDEN,...",
    help="Problem sizes. Default: 2**27 elements at hidden 768 to 16384 (174762x768 ... 16384x8192, 8192x16384), "
    "well beyond L2 (64x768,64x2048 with --cpu).",
)
@click.option(
    "--dtype",
    "dtypes",
    type=click.Choice(["bf16", "fp32"]),
    multiple=True,
    help="Element type (repeatable). Default: bf16.",
)
@click.option(
    "--approximate",
    "forms",
    type=click.Choice(["none", "tanh"]),
    multiple=True,
    help="GELU form, as torch names it (repeatable). Default: both.",
)
@click.option("--with-tests", is_flag=True, help="Run the kernel project's own tests against the build before timing.")
@click.option("--runs", type=click.IntRange(min=1), help="Timed calls per size (default 200; 20 with --cpu).")
@click.option("--warmup", type=click.IntRange(min=0), help="Untimed calls first (default 25; 3 with --cpu).")
@click.option("--kernel", "kernel_project", metavar="PATH", help="The kernel project in the tree, when it has several.")
@click.option(
    "--peak-gbps",
    type=click.FloatRange(min=0, min_open=True),
    help="Peak memory bandwidth (GB/s) for percent of peak, for a GPU the built-in table lacks.",
)
@click.option("--cpu", is_flag=True, help="Check the harness on the CPU (tests only: never GPU evidence).")
@links_within_option
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Evidence file to write. Default: bench-<name>-<version>-<target>.json (-cpu.json with --cpu).",
)
@json_option
def bench(
    source: Path,
    arch: str | None,
    target: str | None,
    sizes: str | None,
    dtypes: tuple[str, ...],
    forms: tuple[str, ...],
    with_tests: bool,
    runs: int | None,
    warmup: int | None,
    kernel_project: str | None,
    peak_gbps: float | None,
    cpu: bool,
    links_within: Path | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Build SOURCE's reference kernel for a variant, check it, time it, and write evidence.

    The variant is the one 'install' would choose for --arch (default: this
    machine's GPU), or --target. Its archive is packed and extracted, and the
    kernel project in it is built with ninja, checked against the PyTorch
    reference, and timed with CUDA events (L2 flushed by reading a buffer twice
    its size, median of many runs) beside PyTorch eager and a device copy of the
    same bytes. Needs torch and ninja: pip install 'skillpm[kernels]'.

    Building and checking the kernel runs the project's own code as you (its
    build script and reference, and its tests with --with-tests), as building
    it by hand would: bench only sources whose code you would run.

    \b
    skillpm bench skills/kernel-builder-cuda --arch 9.0 --json
    skillpm bench skills/kernel-builder-cuda --cpu --sizes 64x768   # harness check only
    """
    from skillpm.benchmark.metrics import parse_sizes
    from skillpm.benchmark.run import (
        BenchOptions,
        default_out,
        run_bench,
        write_evidence,
    )

    options = BenchOptions(
        cpu=cpu,
        sizes=parse_sizes(sizes) if sizes else None,
        dtypes=dtypes or ("bf16",),
        forms=forms or ("none", "tanh"),
        with_tests=with_tests,
        runs=runs,
        warmup=warmup,
        kernel_project=kernel_project,
        links_within=links_within,
        peak_gbps=peak_gbps,
    )
    capability = choose_capability(arch, quiet=True) if target is None else None
    evidence = run_bench(source, capability=capability, target=target, options=options, progress=notice)
    path = out or default_out(evidence)
    document = write_evidence(path, evidence)
    if as_json:
        emit_json(document)
        return
    _print_summary(document)
    kind = "GPU evidence" if document["gpu_evidence"] else "not GPU evidence"
    say(f"wrote {path} ({kind})")


def _print_summary(document: dict) -> None:
    device, skill = document["device"], document["skill"]
    say(
        f"{skill['name']} {skill['version']} {skill['target']} on {device['name']}"
        + (f" ({device['capability']}, peak {device['peak_gbps']:.0f} GB/s)" if device["peak_gbps"] else "")
        + f", torch {device['torch']}"
    )
    rows = []
    for result in document["results"]:
        kernel, eager = result["kernel"], result["eager"]
        pct = "-" if kernel["pct_of_peak"] is None else f"{kernel['pct_of_peak']:.1f}%"
        rows.append(
            [
                f"{result['rows']}x{result['hidden']}",
                f"{result['dtype']} {result['gelu']}",
                _path(result["code_path"]),
                f"{kernel['median_ms']:.4f} ({kernel['p10_ms']:.4f}-{kernel['p90_ms']:.4f})",
                f"{kernel['gbps']:.1f}",
                pct,
                f"{result['pct_of_copy']:.1f}%",
                f"{eager['median_ms']:.4f}",
                f"{result['speedup_vs_eager']:.2f}x",
                f"{result['max_abs_error']:.2g}",
            ]
        )
    table(
        ["size", "dtype gelu", "code path", "kernel ms (p10-p90)", "GB/s", "% peak", "% copy", "eager ms", "vs eager", "max err"],
        rows,
    )


def _path(path: dict) -> str:
    """The reference kernel's template as ``cta x32 vec16-exact``; ``-`` for anything else."""
    if path["elements_per_thread"] is None:
        return "-"
    return f"{path['rows']} x{path['elements_per_thread']} {path['access']}"
