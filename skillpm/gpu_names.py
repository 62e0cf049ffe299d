"""What people type or paste for ``--arch``, turned into a compute capability (pure data and logic).

Accepted: a capability (``9.0``, ``90``, ``9.0a``), an nvcc name (``sm_90``, ``sm90``, ``sm_90a``,
``compute_90``), a product name (``h100``, ``rtx 5090``, ``a6000``), what ``nvidia-smi`` prints
(``NVIDIA H100 80GB HBM3``, ``Tesla V100-SXM2-16GB``) and a generation (``hopper``). A capability
NVIDIA has not given any GPU (``9.1``) is refused with the nearest ones that exist.

Sources: NVIDIA, "CUDA GPUs - Compute Capability" (https://developer.nvidia.com/cuda-gpus), and the
targets ``nvcc --list-gpu-code`` prints for CUDA 13.0 (sm_75 ... sm_121); 10.1 is Jetson Thor's
capability under CUDA 12.9, which CUDA 13 calls 11.0.
"""

from __future__ import annotations

import bisect
import re

from skillpm.targets import KNOWN_CAPABILITIES

#: Product names, lower-cased with spaces, dashes and underscores removed, to compute capability.
GPU_CAPABILITIES: dict[str, tuple[int, int]] = {
    # Pascal
    "p100": (6, 0), "p40": (6, 1), "p4": (6, 1), "titanxp": (6, 1), "gtx1080": (6, 1), "gtx1080ti": (6, 1),
    # Volta
    "v100": (7, 0), "titanv": (7, 0), "xavier": (7, 2),
    # Turing
    "t4": (7, 5), "rtx6000": (7, 5), "rtx8000": (7, 5), "rtx5000": (7, 5), "rtx4000": (7, 5),
    "titanrtx": (7, 5), "rtx2080": (7, 5), "rtx2080ti": (7, 5), "rtx2070": (7, 5), "rtx2060": (7, 5),
    "gtx1660": (7, 5), "gtx1660ti": (7, 5),
    # Ampere
    "a100": (8, 0), "a800": (8, 0), "a30": (8, 0),
    "a10": (8, 6), "a10g": (8, 6), "a40": (8, 6), "a16": (8, 6), "a2": (8, 6),
    "a6000": (8, 6), "a5000": (8, 6), "a4500": (8, 6), "a4000": (8, 6), "a2000": (8, 6),
    "rtxa6000": (8, 6), "rtxa5000": (8, 6), "rtxa4500": (8, 6), "rtxa4000": (8, 6), "rtxa2000": (8, 6),
    "rtx3060": (8, 6), "rtx3060ti": (8, 6), "rtx3070": (8, 6), "rtx3070ti": (8, 6), "rtx3080": (8, 6),
    "rtx3080ti": (8, 6), "rtx3090": (8, 6), "rtx3090ti": (8, 6),
    "orin": (8, 7), "jetsonorin": (8, 7), "agxorin": (8, 7),
    # Ada
    "l4": (8, 9), "l40": (8, 9), "l40s": (8, 9), "l20": (8, 9),
    "rtx4060": (8, 9), "rtx4060ti": (8, 9), "rtx4070": (8, 9), "rtx4070ti": (8, 9), "rtx4080": (8, 9),
    "rtx4090": (8, 9), "rtx6000ada": (8, 9), "rtx5000ada": (8, 9), "rtx4500ada": (8, 9), "rtx4000ada": (8, 9),
    # Hopper
    "h100": (9, 0), "h200": (9, 0), "h800": (9, 0), "h20": (9, 0), "gh200": (9, 0),
    # Blackwell: data centre (10.x), Jetson Thor (11.0), RTX and DGX Spark (12.x)
    "b100": (10, 0), "b200": (10, 0), "gb200": (10, 0),
    "b300": (10, 3), "gb300": (10, 3),
    "thor": (11, 0), "jetsonthor": (11, 0),
    "rtx5050": (12, 0), "rtx5060": (12, 0), "rtx5060ti": (12, 0), "rtx5070": (12, 0), "rtx5070ti": (12, 0),
    "rtx5080": (12, 0), "rtx5090": (12, 0),
    "rtxpro6000": (12, 0), "rtxpro5000": (12, 0), "rtxpro4500": (12, 0), "rtxpro4000": (12, 0),
    "gb10": (12, 1), "dgxspark": (12, 1),
}  # fmt: skip

#: Generations, each as the capability of its data-centre flagship (RTX 50 is 12.0: say ``rtx 5090``).
GENERATIONS: dict[str, tuple[int, int]] = {
    "pascal": (6, 0),
    "volta": (7, 0),
    "turing": (7, 5),
    "ampere": (8, 0),
    "ada": (8, 9),
    "adalovelace": (8, 9),
    "lovelace": (8, 9),
    "hopper": (9, 0),
    "blackwell": (10, 0),
}

#: Words of an nvidia-smi name that say nothing about the GPU.
_VENDOR_WORDS = frozenset({"nvidia", "geforce", "tesla", "quadro"})

_NUMERIC_RE = re.compile(r"(?:sm_?|compute_?)?(?P<major>[1-9][0-9]?)\.?(?P<minor>[0-9])[af]?")


class UnknownCapability(ValueError):
    """A well-formed capability that no GPU has; ``nearest`` are the known ones around it."""

    def __init__(self, capability: tuple[int, int], nearest: tuple[tuple[int, int], ...]) -> None:
        super().__init__(capability)
        self.capability = capability
        self.nearest = nearest


def capability_from_text(text: str) -> tuple[int, int] | None:
    """The capability ``text`` names, or ``None`` when it names none.

    Raises :class:`UnknownCapability` for a well-formed capability no GPU has.
    """
    cleaned = text.strip().lower()
    numeric = _NUMERIC_RE.fullmatch(cleaned)
    if numeric:
        capability = (int(numeric["major"]), int(numeric["minor"]))
        if capability not in KNOWN_CAPABILITIES:
            raise UnknownCapability(capability, nearest_known(capability))
        return capability
    return _by_name(cleaned)


def _by_name(cleaned: str) -> tuple[int, int] | None:
    """A product or generation name, or the longest leading run of an nvidia-smi name's words that is one."""
    words = [word for word in re.split(r"[^a-z0-9]+", cleaned) if word and word not in _VENDOR_WORDS]
    for length in range(len(words), 0, -1):
        key = "".join(words[:length])
        found = GPU_CAPABILITIES.get(key) or GENERATIONS.get(key)
        if found:
            return found
    return None


def nearest_known(capability: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The known capabilities just below and just above ``capability`` (one at either end)."""
    index = bisect.bisect_left(KNOWN_CAPABILITIES, capability)
    return tuple(KNOWN_CAPABILITIES[max(index - 1, 0) : index + 1])
