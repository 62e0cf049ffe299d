"""Print the GPU's compute capability and which kernel-builder-cuda variant fits it.

    python scripts/check_arch.py                 # ask torch, else nvidia-smi
    python scripts/check_arch.py --capability 9.0

Rules (nvcc "GPU compilation" and the CUDA Programming Guide's family-specific
compatibility table, see references/gpu-targets.md): an sm_XY cubin runs on
major X with minor >= Y; sm_100f code runs on 10.0 and 10.3, sm_120f code on
12.0 and 12.1. Everything else uses the generic variant. Exit status: 0 when a
capability was found, 1 if not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys


def variant_for(major: int, minor: int) -> str:
    if major == 8:
        return "sm_80"  # 8.0, 8.6, 8.7, 8.9: an sm_80 cubin runs on all of them
    if major == 9:
        return "sm_90"
    if (major, minor) in ((10, 0), (10, 3)):
        return "sm_100f"  # the sm_100f family: B200, GB200, B300, GB300
    if (major, minor) in ((12, 0), (12, 1)):
        return "sm_120f"  # the sm_120f family: RTX 50, RTX PRO 6000, GB10
    return "generic"


def gencode_for(major: int, minor: int) -> str:
    """nvcc flags for this GPU: its own cubin plus PTX (the reference kernel needs no a/f target)."""
    cc = f"{major}{minor}"
    return f"-gencode arch=compute_{cc},code=sm_{cc} -gencode arch=compute_{cc},code=compute_{cc}"


def detect() -> list[tuple[str, int, int]]:
    """(name, major, minor) of every visible GPU."""
    try:
        import torch

        if torch.cuda.is_available():
            return [(torch.cuda.get_device_name(i), *torch.cuda.get_device_capability(i))
                    for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    if shutil.which("nvidia-smi"):
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"],
            capture_output=True, text=True, check=False,
        ).stdout
        gpus = []
        for line in out.strip().splitlines():
            name, _, cap = line.rpartition(",")
            major, _, minor = cap.strip().partition(".")
            if major.isdigit() and minor.isdigit():
                gpus.append((name.strip(), int(major), int(minor)))
        return gpus
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capability", help="e.g. 9.0; skips detection")
    args = parser.parse_args(argv)
    if args.capability:
        major, _, minor = args.capability.partition(".")
        gpus = [("(given)", int(major), int(minor or 0))]
    else:
        gpus = detect()
    if not gpus:
        print("no NVIDIA GPU found (torch.cuda and nvidia-smi); use the generic variant")
        return 1
    for name, major, minor in gpus:
        print(f"{name}: compute capability {major}.{minor} (__CUDA_ARCH__ {major * 100 + minor * 10})"
              f" -> variant {variant_for(major, minor)}; nvcc {gencode_for(major, minor)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
