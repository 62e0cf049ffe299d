"""``run_bench``: choose the variant, extract its artifact, build, check, time, and describe it all.

Orchestration only: the variant and workspace come from
:mod:`~skillpm.benchmark.workspace`, the torch work from
:mod:`~skillpm.benchmark.harness`, the document from
:mod:`~skillpm.benchmark.evidence`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from skillpm import __version__
from skillpm.atomic import atomic_write
from skillpm.benchmark import BenchError, harness, timing
from skillpm.benchmark.evidence import Device, Evidence, Method, dumps, schema_errors
from skillpm.benchmark.metrics import DEFAULT_CPU_SIZES, DEFAULT_GPU_SIZES, Size, flush_bytes
from skillpm.benchmark.observe import NO_CLOCKS, CodePath
from skillpm.benchmark.peaks import match_peak, user_peak
from skillpm.benchmark.workspace import open_workspace
from skillpm.manifest import SkillSource, choose_variant
from skillpm.targets import Capability, parse_target, why_unusable

EPS = 1e-5
CPU_IMPLEMENTATION = "cpu-composed-reference"


@dataclass(frozen=True)
class BenchOptions:
    """What to measure. ``None`` sizes, runs or warm-up mean the defaults for the device."""

    cpu: bool = False
    sizes: Sequence[Size] | None = None
    dtypes: Sequence[str] = ("bf16",)
    forms: Sequence[str] = ("none", "tanh")  # GELU forms, as torch's approximate= names them
    runs: int | None = None
    warmup: int | None = None
    kernel_project: str | None = None
    links_within: Path | None = None  # a folder the source's links to files may lead into (pack's)
    peak_gbps: float | None = None
    with_tests: bool = False  # run the kernel project's own tests against the build first
    tests_timeout: float = 300.0

    def resolved(self) -> tuple[Sequence[Size], int, int]:
        """Sizes, runs and warm-up calls, with each device's defaults filled in."""
        sizes, runs, warmup = (DEFAULT_CPU_SIZES, 20, 3) if self.cpu else (DEFAULT_GPU_SIZES, 200, 25)
        return (
            self.sizes or sizes,
            runs if self.runs is None else self.runs,
            warmup if self.warmup is None else self.warmup,
        )


def run_bench(
    source_dir: Path,
    *,
    capability: Capability | None,
    target: str | None = None,
    options: BenchOptions = BenchOptions(),
    progress: Callable[[str], None] = lambda message: None,
) -> Evidence:
    """Benchmark the reference kernel of the variant of ``source_dir`` chosen for ``capability``.

    ``target`` names the variant instead. With ``options.cpu`` the harness runs
    on the CPU against a composed-op stand-in for the kernel; its evidence is
    never GPU evidence.
    """
    source = SkillSource.load(source_dir)
    chosen = choose_variant(source.targets, capability, target=target)
    torch = harness.import_torch()
    sizes, runs, warmup = options.resolved()
    flush: int | None = None
    ninja: str | None = None
    if options.cpu:
        device = Device("cpu", harness.cpu_name(), None, None, None, str(torch.__version__), None)
    else:
        harness.require_cuda(torch)
        gpu = harness.probe_gpu(torch)
        why = why_unusable(parse_target(chosen), gpu.capability)
        if why:
            raise BenchError(
                f"variant {chosen} cannot run on this {gpu.name} ({gpu.capability}): {why}",
                hint="leave out --arch and --target to bench the variant for this GPU",
            )
        ninja = harness.ninja_dir()
        peak = user_peak(options.peak_gbps) if options.peak_gbps else match_peak(gpu.name)
        if peak is None:
            progress(f"note: no datasheet peak for {gpu.name!r}; pass --peak-gbps for percent of peak")
        device = Device(
            "gpu",
            gpu.name,
            str(gpu.capability),
            gpu.driver,
            gpu.cuda,
            str(torch.__version__),  # a TorchVersion, a str subclass JSON tools need not take
            peak,
            l2_bytes=gpu.l2_bytes,
            sm_count=gpu.sm_count,
            max_clocks=gpu.max_clocks,
        )
        flush = flush_bytes(gpu.l2_bytes)

    with open_workspace(source_dir, chosen, project=options.kernel_project, links_within=options.links_within) as workspace:
        reference = harness.load_reference(torch, workspace.project_dir)
        progress(f"benchmarking variant {chosen} of {source.name} {source.version} on {device.name}")
        if options.cpu:
            kernel, implementation = harness.composed_layernorm_gelu(torch), CPU_IMPLEMENTATION
            probes = harness.Probes(
                timing.cpu_timer(warmup=warmup, runs=runs),
                lambda call, approximate: CodePath(CPU_IMPLEMENTATION, gelu=approximate),
                lambda: NO_CLOCKS,
            )
        else:
            progress(f"building {workspace.kernel_project} of {workspace.skill.name} {chosen} (ninja)")
            ops = harness.build_kernel(workspace.project_dir, workspace.build_root, ninja=ninja)
            kernel, implementation = ops.layernorm_gelu, str(ops.implementation())
            probes = harness.Probes(
                timing.cuda_timer(torch, flush_bytes=flush or 0, warmup=warmup, runs=runs),
                harness.gpu_code_path(torch),
                harness.sample_clocks,
            )
        tests = None
        if options.with_tests:
            progress(f"running the tests of {workspace.kernel_project} against this build")
            tests = harness.run_project_tests(
                workspace.project_dir,
                workspace.build_root,
                ninja=ninja,
                gpu=not options.cpu,
                timeout=options.tests_timeout,
            )
            progress(f"tests: {tests.passed} passed, {tests.skipped} skipped")
        results = harness.run_sizes(
            torch,
            device="cpu" if options.cpu else "cuda",
            kernel=kernel,
            reference=reference,
            sizes=sizes,
            dtypes=options.dtypes,
            forms=options.forms,
            probes=probes,
            eps=EPS,
            peak_gbps=None if device.peak is None else device.peak.gbps,
            progress=progress,
        )
        method = Method(
            timer="perf_counter" if options.cpu else "cuda-events",
            warmup=warmup,
            runs=runs,
            l2_flush=not options.cpu,
            eps=EPS,
            l2_flush_bytes=flush,
        )
        return Evidence(
            skill=workspace.skill,
            kernel=workspace.kernel_ref(implementation),
            device=device,
            method=method,
            results=results,
            created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            tool_version=__version__,
            tests=tests,
        )


def default_out(evidence: Evidence) -> Path:
    """``bench-<name>-<version>-<target>.json`` (``-cpu`` before the suffix for a ``--cpu`` run)."""
    skill = evidence.skill
    suffix = "-cpu" if evidence.device.kind == "cpu" else ""
    return Path(f"bench-{skill.name}-{skill.version}-{skill.target}{suffix}.json")


def write_evidence(path: Path, evidence: Evidence) -> dict[str, object]:
    """Check the document against the schema and write it atomically; returns the document."""
    document = evidence.to_json()
    try:
        data = dumps(document)
    except ValueError as error:
        raise BenchError(f"{error}; nothing was written", hint="a measurement failed: run the bench again") from None
    problems = schema_errors(json.loads(data))  # what is written, as a reader will parse it
    if problems:  # a bug in skillpm, not in the user's input: say so plainly
        raise BenchError(f"the evidence does not match its schema: {problems[0]}")
    atomic_write(path, data)
    return document
