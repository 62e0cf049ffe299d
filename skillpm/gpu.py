"""Find this machine's GPU compute capability: NVML, else nvidia-smi, else a torch already loaded.

The only module that probes hardware. Everything else takes a
:class:`~skillpm.targets.Capability`, so tests pass one instead of a GPU.

NVML (``libnvidia-ml.so.1``, which every NVIDIA driver installs) answers in milliseconds;
importing torch to ask it costs seconds, and without the driver torch sees no GPU either,
so torch is asked only when the calling program has already imported it. The first GPU is
the driver's first: ``CUDA_VISIBLE_DEVICES`` is not read (give ``--arch`` on a machine
whose GPUs differ).

On a machine without the driver (most laptops, CI), the probes cost next to nothing: whether
NVML loads is asked of ctypes' loader before ctypes itself is imported, and nvidia-smi is
looked for on PATH without importing shutil, which loads three compression modules.
"""

from __future__ import annotations

import os
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
    executable = _on_path("nvidia-smi")
    if executable is None:
        return None
    import subprocess  # only once there is a program to run

    from skillpm.childenv import without_secrets

    try:
        result = subprocess.run(
            [executable, *arguments],
            capture_output=True,
            text=True,
            timeout=15,
            check=True,
            env=without_secrets(),  # a program from PATH: none of skillpm's secrets
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout


def _on_path(program: str) -> str | None:
    """Where ``program`` is on PATH, as :func:`shutil.which` finds it (which, on Windows, is asked)."""
    if os.name == "nt":  # PATHEXT and the current folder first: shutil's rules
        import shutil

        return shutil.which(program)
    for folder in os.get_exec_path():
        candidate = os.path.join(folder, program)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


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


#: NVML, as every NVIDIA driver for Linux installs it.
NVML = "libnvidia-ml.so.1"


def _loads(library: str) -> bool:
    """Whether the dynamic loader finds ``library``: what :class:`ctypes.CDLL` asks first, asked of the
    loader ctypes wraps (``_ctypes.dlopen``), so that no driver costs no import of ctypes' classes."""
    try:
        from _ctypes import RTLD_LOCAL, dlopen
    except ImportError:  # a Python whose ctypes has no dlopen (Windows): CDLL answers
        return True
    try:
        dlopen(library, RTLD_LOCAL)
    except OSError:
        return False
    return True


def _from_nvml() -> DetectedGpu | None:
    if not _loads(NVML):
        return None
    import ctypes

    try:
        nvml = ctypes.CDLL(NVML)
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
