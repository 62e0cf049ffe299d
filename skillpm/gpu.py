"""Find this machine's GPU compute capability: NVML, else nvidia-smi, else a torch already loaded.

The only module that probes hardware. Everything else takes a
:class:`~skillpm.targets.Capability`, so tests pass one instead of a GPU.

NVML (``libnvidia-ml.so.1``, which every NVIDIA driver installs) answers in milliseconds;
importing torch to ask it costs seconds, and without the driver torch sees no GPU either,
so torch is asked only when the calling program has already imported it. The first GPU is
the driver's first: ``CUDA_VISIBLE_DEVICES`` is not read (give ``--arch`` on a machine
whose GPUs differ).
"""

from __future__ import annotations

import sys

from skillpm.records import Record
from skillpm.targets import Capability


class DetectedGpu(Record):
    """The first GPU found, and which probe found it."""

    name: str
    capability: Capability
    source: str  # "torch", "nvidia-smi" or "nvml"


def detect_gpu() -> DetectedGpu | None:
    """The first GPU, or ``None`` when no probe finds one."""
    for probe in (_from_nvml, _from_nvidia_smi, _from_loaded_torch):
        found = probe()
        if found is not None:
            return found
    return None


def _from_loaded_torch() -> DetectedGpu | None:
    torch = sys.modules.get("torch")
    if torch is None:  # never imported here: seconds of start-up to learn what NVML already said
        return None
    try:
        if not torch.cuda.is_available():
            return None
        major, minor = torch.cuda.get_device_capability(0)
        return DetectedGpu(torch.cuda.get_device_name(0), Capability(major, minor), "torch")
    except Exception:  # a broken torch install must not stop skillpm: no GPU found
        return None


def nvidia_smi(*arguments: str) -> str | None:
    """What ``nvidia-smi ARGUMENTS`` prints, or ``None`` when it is missing, fails or hangs (15 s)."""
    import shutil

    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    import subprocess  # only once there is a program to run

    try:
        result = subprocess.run(
            [executable, *arguments],
            capture_output=True,
            text=True,
            timeout=15,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout


def _from_nvidia_smi() -> DetectedGpu | None:
    output = nvidia_smi("--query-gpu=name,compute_cap", "--format=csv,noheader")
    return None if output is None else parse_nvidia_smi(output)


def parse_nvidia_smi(output: str) -> DetectedGpu | None:
    """Read the first GPU from ``nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader``."""
    for line in output.splitlines():
        name, _, cap = line.rpartition(",")
        major, dot, minor = cap.strip().partition(".")
        if name.strip() and dot and major.isdigit() and minor.isdigit():
            return DetectedGpu(name.strip(), Capability(int(major), int(minor)), "nvidia-smi")
    return None


def _from_nvml() -> DetectedGpu | None:
    import ctypes

    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    device = ctypes.c_void_p()
    major, minor = ctypes.c_int(), ctypes.c_int()
    name = ctypes.create_string_buffer(96)
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        if (
            nvml.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(device)) != 0
            or nvml.nvmlDeviceGetCudaComputeCapability(device, ctypes.byref(major), ctypes.byref(minor)) != 0
        ):
            return None
        nvml.nvmlDeviceGetName(device, name, len(name))
        return DetectedGpu(name.value.decode(errors="replace"), Capability(major.value, minor.value), "nvml")
    finally:
        nvml.nvmlShutdown()
