"""Build the kernel as a standalone torch extension (no kernel-builder, no Nix).

    python build_ext.py            # compile (ninja) and print the loaded variant

Other scripts call ``load()``; it returns the ``torch.ops.layernorm_gelu``
namespace. The nvcc target comes from the ``// nvcc-gencode:`` line at the top
of layernorm_gelu_cuda/layernorm_gelu.cu; ``native`` means "the GPU in this
machine", plus PTX so newer GPUs can JIT-compile it.
Needs: torch (CUDA build), ninja, nvcc matching torch's CUDA major version.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNEL = HERE / "layernorm_gelu_cuda" / "layernorm_gelu.cu"
BINDING = HERE / "torch-ext" / "torch_binding.cpp"


def gencode_flags() -> list[str]:
    """The -gencode flags the kernel is meant to be built with."""
    match = re.search(r"^// nvcc-gencode: (.+)$", KERNEL.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no '// nvcc-gencode:' line in {KERNEL}")
    spec = match.group(1).strip()
    if spec != "native":
        return shlex.split(spec)
    import torch

    major, minor = torch.cuda.get_device_capability()
    cc = f"{major}{minor}"
    return [
        "-gencode", f"arch=compute_{cc},code=sm_{cc}",
        "-gencode", f"arch=compute_{cc},code=compute_{cc}",
    ]


def load(verbose: bool = False):
    """JIT-build (cached under ~/.cache/torch_extensions) and load the extension."""
    import torch
    from torch.utils.cpp_extension import load as _load, verify_ninja_availability

    verify_ninja_availability()  # raises with a clear message if ninja is missing
    _load(
        name="layernorm_gelu_ext",
        sources=[str(BINDING), str(KERNEL)],
        extra_cflags=["-O3", "-DLNG_STANDALONE"],
        # Passing -gencode ourselves stops torch from adding its own arch flags.
        extra_cuda_cflags=["-O3", "-std=c++17", *gencode_flags()],
        extra_include_paths=[str(KERNEL.parent)],
        is_python_module=False,
        verbose=verbose,
    )
    return torch.ops.layernorm_gelu


if __name__ == "__main__":
    ops = load(verbose=True)
    print("loaded layernorm_gelu, implementation:", ops.implementation())
