"""skillpm.gpu: the GPU is found through the driver (NVML, then nvidia-smi), never by importing torch.

This machine has no NVIDIA driver, so the driver's two interfaces are stood in for by real
ones built here: a shared library exporting NVML's five functions (compiled with the C
compiler, loaded by ctypes as the real one is) and an ``nvidia-smi`` script, each placed
where the process finds the real one (LD_LIBRARY_PATH, PATH).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FAKE_NVML = r"""
#include <string.h>
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device) { *device = (void *)1; return index ? 2 : 0; }
int nvmlDeviceGetCudaComputeCapability(void *device, int *major, int *minor) { *major = 9; *minor = 0; return 0; }
int nvmlDeviceGetName(void *device, char *name, unsigned int length) {
    strncpy(name, "NVIDIA H100 80GB HBM3", length); return 0;
}
"""
PROBE = (
    "import sys\nfrom skillpm.gpu import detect_gpu\nfound = detect_gpu()\n"
    "print(found and (found.name, str(found.capability), found.source), 'torch' in sys.modules)"
)


def _driver_installed() -> bool:
    """Whether this machine's loader finds a real NVML (an NVIDIA driver), which would answer first."""
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


without_a_driver = pytest.mark.skipif(
    _driver_installed(), reason="this machine has an NVIDIA driver, whose NVML answers before the paths tested here"
)


def _probe(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _without_driver(tmp_path: Path) -> dict[str, str]:
    """The environment with no NVML on the loader path and only this interpreter's folder on PATH."""
    return {**os.environ, "PATH": str(Path(sys.executable).parent), "LD_LIBRARY_PATH": str(tmp_path / "none")}


@pytest.fixture
def nvml(tmp_path: Path) -> Path:
    """A folder holding a libnvidia-ml.so.1 that reports one H100."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the stand-in NVML")
    folder = tmp_path / "driver"
    folder.mkdir()
    (folder / "nvml.c").write_text(FAKE_NVML)
    subprocess.run([compiler, "-shared", "-fPIC", "-o", folder / "libnvidia-ml.so.1", folder / "nvml.c"],
                   check=True, timeout=120)
    return folder


def test_nvml_answers_first_and_torch_is_never_imported(nvml: Path, tmp_path: Path) -> None:
    env = {**_without_driver(tmp_path), "LD_LIBRARY_PATH": str(nvml)}
    assert _probe(env) == "('NVIDIA H100 80GB HBM3', '9.0', 'nvml') False"


@without_a_driver
def test_nvidia_smi_answers_without_nvml(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    smi = tools / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA RTX PRO 6000 Blackwell Workstation Edition, 12.0'\n")
    smi.chmod(0o755)
    env = _without_driver(tmp_path)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    assert _probe(env) == "('NVIDIA RTX PRO 6000 Blackwell Workstation Edition', '12.0', 'nvidia-smi') False"


@without_a_driver
def test_without_a_driver_no_gpu_is_found_and_torch_stays_unloaded(tmp_path: Path) -> None:
    """torch is installed with the kernels extra; asking it would cost seconds and find nothing here."""
    assert _probe(_without_driver(tmp_path)) == "None False"


def test_install_without_arch_chooses_the_variant_of_the_gpu_nvml_reports(nvml: Path, isolated, run_skillpm,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", str(nvml))
    monkeypatch.delenv("SKILLPM_ARCH", raising=False)
    done = run_skillpm("install", "kernel-builder-cuda")
    assert done.returncode == 0, done.stderr
    assert "note: detected NVIDIA H100 80GB HBM3 (compute capability 9.0) via nvml" in done.stderr
    assert "kernel-builder-cuda 0.2.0a1 (sm_90)" in done.stdout


@without_a_driver
def test_a_program_that_loaded_torch_is_asked_through_it(tmp_path: Path) -> None:
    """Inside a program that imported torch, with no driver interface found, torch is asked. torch here is
    a CPU build, so its CUDA answers are set to a GPU's (torch's functions; skillpm's code runs as is)."""
    pytest.importorskip("torch")
    code = (
        "import torch\n"
        "torch.cuda.is_available = lambda: True\n"
        "torch.cuda.get_device_capability = lambda index: (8, 6)\n"
        "torch.cuda.get_device_name = lambda index: 'NVIDIA RTX A6000'\n"
    ) + PROBE
    env = _without_driver(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('NVIDIA RTX A6000', '8.6', 'torch') True"


@without_a_driver
def test_without_a_driver_the_probes_import_neither_ctypes_nor_shutil(tmp_path: Path) -> None:
    """What every 'list' and 'install' without --arch pays on a machine with no NVIDIA driver: ctypes' classes
    and shutil's three compression modules cost a tenth of 'import click' between them, to learn nothing."""
    code = "import sys\nfrom skillpm.gpu import detect_gpu\nprint(detect_gpu(), 'ctypes' in sys.modules, 'shutil' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], env=_without_driver(tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None False False"


@pytest.mark.skipif(os.name == "nt", reason="on Windows, shutil.which itself answers")
def test_nvidia_smi_is_found_on_path_as_shutil_finds_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillpm.gpu import _on_path

    plain, folder, runnable = tmp_path / "plain", tmp_path / "folder", tmp_path / "runnable"
    for place in (plain, folder, runnable):
        place.mkdir()
    (plain / "nvidia-smi").write_text("not executable\n")
    (folder / "nvidia-smi").mkdir()
    (runnable / "nvidia-smi").write_text("#!/bin/sh\n")
    (runnable / "nvidia-smi").chmod(0o755)
    for path in ([plain, folder, runnable], [plain, folder], [runnable, plain], []):
        monkeypatch.setenv("PATH", os.pathsep.join(map(str, path)))
        assert _on_path("nvidia-smi") == shutil.which("nvidia-smi")
    monkeypatch.setenv("PATH", os.pathsep.join(map(str, [plain, folder, runnable])))
    assert _on_path("nvidia-smi") == str(runnable / "nvidia-smi")
