"""One command on a machine with an NVIDIA GPU: build, test, bench, and sign bench evidence.

    python bench/gpu_evidence.py --sign key:~/.skillpm/keys/me            # or --sign sigstore
    python bench/gpu_evidence.py --dry-run                                # the plan, no GPU needed

Steps, each with its own time budget, 8 minutes in all:

1. preflight: nvidia-smi must list a GPU (else one ``error:`` line, at once), nvcc must
   be on PATH, the GPU needs a datasheet peak (or ``--peak-gbps``), the signer must load;
2. bench: ``skillpm bench SKILL --with-tests``: the variant for this GPU is packed and
   extracted, its kernel built with the project's build_ext.py (ninja), the project's
   own tests run against that build (every one must pass, none skip), and the kernel,
   PyTorch eager and a device copy timed at the default sizes (beyond L2, both GELU forms);
3. sign: the evidence must be GPU evidence; it is wrapped in an in-toto statement about
   the variant's archive and signed (``--sign key:PATH`` or ``sigstore``, as ``skillpm
   publish`` signs), next to the evidence as ``<archive>.bench.sigstore.json``;
4. attest: prints the ``skillpm attest`` command that attaches the evidence to the
   published variant, or runs it when ``--registry`` is given.

Needs: the NVIDIA driver, a CUDA toolkit whose nvcc matches torch's CUDA, and skillpm
installed with its kernels extra (``pip install -e '.[kernels]'``) plus pytest.
docs/benchmarking.md describes the method and the evidence.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from skillpm.display import clean

if TYPE_CHECKING:
    from skillpm.publish import Signer

REPO = Path(__file__).resolve().parent.parent
SKILL = REPO / "skills" / "kernel-builder-cuda"
TOTAL_BUDGET = 480.0  # seconds: the whole run must end within 8 minutes
EVIDENCE_NAME = "bench-evidence.json"


@dataclass(frozen=True)
class Step:
    """One step of the run: what it does, its time budget, and the command it runs (if any)."""

    name: str
    budget: float  # seconds
    what: str
    command: tuple[str, ...] = ()


def bench_command(skill: Path, evidence: Path, peak_gbps: float | None) -> tuple[str, ...]:
    """The ``skillpm bench`` run: the variant for this GPU, its tests first, default sizes and forms."""
    peak = ("--peak-gbps", str(peak_gbps)) if peak_gbps else ()
    return (sys.executable, "-m", "skillpm", "bench", str(skill), "--with-tests", *peak, "--out", str(evidence))


def attest_command(
    name: str, version: str, target: str, evidence: Path, sign: str, registry: str | None
) -> tuple[str, ...]:
    """The ``skillpm attest`` command that attaches the evidence to the published variant."""
    where = ("--registry", registry) if registry else ()
    requirement = f"{name}=={version}"
    return ("skillpm", "attest", requirement, "--target", target, "--evidence", str(evidence), "--sign", sign, *where)


def plan(skill: Path, out: Path, sign: str, *, peak_gbps: float | None, registry: str | None) -> list[Step]:
    """The steps and their budgets; they add up to at most :data:`TOTAL_BUDGET`."""
    evidence = out / EVIDENCE_NAME
    attest = attest_command("NAME", "VERSION", "TARGET", evidence, sign, registry)
    return [
        Step("preflight", 20, "nvidia-smi lists a GPU; nvcc on PATH; a peak for the GPU; the signer loads"),
        Step(
            "bench",
            420,
            "pack and extract the variant for this GPU, build its kernel (build_ext.py, ninja), run the kernel "
            "project's tests against that build, time kernel, eager and copy, write the evidence",
            bench_command(skill, evidence, peak_gbps),
        ),
        Step("sign", 20, f"refuse anything but GPU evidence; sign an in-toto statement of it with {sign}"),
        Step("attest", 20, f"{'run' if registry else 'print'} this, with the evidence's NAME, VERSION, TARGET", attest),
    ]


class Refused(Exception):
    """A step cannot go on: printed as one ``error:`` line (and a ``hint:``), exit 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def gpu_name() -> str:
    """The first GPU nvidia-smi lists; :class:`Refused` at once when there is none."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        raise Refused("an NVIDIA GPU is needed: nvidia-smi is not on PATH (no NVIDIA driver here)",
                      "run this on a machine with an NVIDIA GPU; --dry-run shows the plan anywhere")
    try:
        query = [smi, "--query-gpu=name", "--format=csv,noheader"]
        done = subprocess.run(query, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError) as error:
        raise Refused(f"an NVIDIA GPU is needed: nvidia-smi failed ({error})") from None
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode or not names:
        said = (done.stdout.strip() or done.stderr.strip() or "no output").splitlines()[0]
        raise Refused(f"an NVIDIA GPU is needed: nvidia-smi lists none ({clean(said, 200)})")
    return clean(names[0], 200)


def preflight(name: str, sign: str, peak_gbps: float | None) -> Signer:
    """Check, for the GPU ``name``, everything that can be checked before minutes of work; return the signer."""
    for module, why in (("torch", "pip install -e '.[kernels]'"), ("pytest", "pip install pytest")):
        if importlib.util.find_spec(module) is None:
            raise Refused(f"{module} is not installed, and the bench needs it", why)
    if shutil.which("nvcc") is None:
        raise Refused("building the kernel needs nvcc, which is not on PATH",
                      "install the CUDA toolkit whose version matches torch.version.cuda")
    from skillpm.benchmark.peaks import match_peak

    if peak_gbps is None and match_peak(name) is None:
        raise Refused(f"no datasheet peak for {name!r}, so the run could not be GPU evidence",
                      "pass --peak-gbps with the datasheet memory bandwidth of this GPU")
    from skillpm.publish import parse_signer

    return parse_signer(sign)


def sign_evidence(evidence: Path, signer: Signer) -> tuple[dict, Path]:
    """Sign the GPU evidence at ``evidence``; write the bundle beside it; return the document and its path."""
    from skillpm.archive import archive_name
    from skillpm.atomic import atomic_write
    from skillpm.attest.statement import statement_for_evidence

    document = json.loads(evidence.read_text(encoding="utf-8"))
    if document.get("gpu_evidence") is not True:
        raise Refused(f"{evidence} is not GPU evidence (gpu_evidence is not true); nothing was signed")
    skill = document["skill"]
    name = archive_name(skill["name"], skill["version"], skill["target"])
    statement = statement_for_evidence(document, artifact_name=name, artifact_sha256=skill["artifact_sha256"])
    bundle = evidence.with_name(f"{name}.bench.sigstore.json")
    (signed,) = signer.sign_all([statement])
    atomic_write(bundle, signed)
    return document, bundle


def run_step(command: Sequence[str], deadline: float, step: str) -> None:
    """Run ``command`` (its output streams through) within the time left before ``deadline``."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise Refused(f"out of time before the {step} step (the run is budgeted to {TOTAL_BUDGET / 60:.0f} minutes)")
    try:
        done = subprocess.run(list(command), timeout=left)
    except subprocess.TimeoutExpired:
        raise Refused(f"the {step} step did not finish in its {left:.0f} s; nothing was signed") from None
    if done.returncode:
        raise Refused(f"the {step} step failed (exit {done.returncode}); see its error above")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sign", metavar="key:PATH|sigstore", help="how to sign the evidence (unless --dry-run)")
    parser.add_argument("--skill", type=Path, default=SKILL, help="the skill source (default: kernel-builder-cuda)")
    parser.add_argument("--out", type=Path, default=Path("gpu-evidence"), help="folder for the evidence and bundle")
    parser.add_argument("--registry", help="run 'skillpm attest' against this registry instead of printing it")
    parser.add_argument("--peak-gbps", type=float, help="datasheet memory bandwidth, for a GPU skillpm has no row for")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit; needs no GPU")
    args = parser.parse_args(argv)
    steps = plan(args.skill, args.out, args.sign or "key:PATH", peak_gbps=args.peak_gbps, registry=args.registry)
    if args.dry_run:
        print(f"plan ({sum(step.budget for step in steps):.0f} s budgeted, {TOTAL_BUDGET:.0f} s at most):")
        for number, step in enumerate(steps, 1):
            print(f"{number}. {step.name} ({step.budget:.0f} s): {step.what}")
            if step.command:
                print("   $ " + " ".join(step.command))
        return 0
    try:
        return _run(args, steps)
    except Refused as refused:
        print(f"error: {refused.message}", file=sys.stderr)
        if refused.hint:
            print(f"hint: {refused.hint}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, steps: list[Step]) -> int:
    from skillpm.errors import SkillpmError

    started = time.monotonic()
    deadline = started + TOTAL_BUDGET
    name = gpu_name()  # first: without a GPU nothing else matters
    if not args.sign:
        raise Refused("--sign is required: key:PATH or sigstore", "or pass --dry-run to see the plan")
    try:
        signer = preflight(name, args.sign, args.peak_gbps)
        print(f"[1/4] preflight: {name}, nvcc, torch, pytest; signing with {signer.describe()}", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"[2/4] bench ({steps[1].budget:.0f} s): " + " ".join(steps[1].command), flush=True)
        run_step(steps[1].command, min(deadline, time.monotonic() + steps[1].budget), "bench")
        print(f"[3/4] sign ({steps[2].budget:.0f} s)", flush=True)
        document, bundle = sign_evidence(args.out / EVIDENCE_NAME, signer)
        skill = document["skill"]
        command = attest_command(skill["name"], skill["version"], skill["target"], args.out / EVIDENCE_NAME,
                                 args.sign, args.registry)
        print(f"wrote {args.out / EVIDENCE_NAME} and {bundle} (signed by {signer.describe()})")
        print(f"[4/4] attest ({steps[3].budget:.0f} s)", flush=True)
        if args.registry:
            run_step((sys.executable, "-m", "skillpm", *command[1:]), deadline, "attest")
        else:
            print("attach the evidence to the published variant with:\n  " + " ".join(command))
    except SkillpmError as error:
        raise Refused(error.message, error.hint) from None
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
