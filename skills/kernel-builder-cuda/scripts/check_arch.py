"""Print the GPU's compute capability and which kernel-builder-cuda variant fits it.

    python scripts/check_arch.py                 # ask torch, else nvidia-smi
    python scripts/check_arch.py --capability 9.0

Rules (nvcc "GPU compilation" and the CUDA 12.9 family-specific features post,
see references/gpu-targets.md): an sm_XY cubin runs on major X with minor >= Y;
sm_90a code runs on 9.0 only; sm_100a code runs on 10.0 only. Everything else
uses the generic variant. Exit status: 0 when a capability was found, 1 if not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys


def variant_for(major: int, minor: int) -> str:
    if (major, minor) == (9, 0):
        return "sm_90a"
    if (major, minor) == (10, 0):
        return "sm_100a"
    if major == 8:
        return "sm_80"  # 8.0, 8.6, 8.7, 8.9: an sm_80 cubin runs on all of them
    return "generic"


def gencode_for(major: int, minor: int) -> str:
    variant = variant_for(major, minor)
    cc = f"{major}{minor}"
    if variant == "sm_90a":
        return "-gencode arch=compute_90a,code=sm_90a"
    if variant == "sm_100a":
        return "-gencode arch=compute_100a,code=sm_100a"
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
