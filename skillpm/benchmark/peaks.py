"""Datasheet peak memory bandwidth of NVIDIA GPUs, and matching a GPU's name to it.

Pure logic. Percent of peak is achieved GB/s divided by these figures
(10**9 bytes per second, as NVIDIA's datasheets count them). The figure
depends on the SKU (memory size, SXM or PCIe), which is why a name such as
``NVIDIA H100 80GB HBM3`` (SXM) and ``NVIDIA H100 PCIe`` match different rows.
A GPU that matches no row gets no percent of peak unless the user gives one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Peak:
    """One GPU's datasheet peak memory bandwidth and where the figure comes from."""

    key: str
    name: str
    gbps: float
    source: str
    url: str | None

    def __post_init__(self) -> None:
        if self.gbps <= 0:
            raise ValueError(f"peak bandwidth must be positive, got {self.gbps!r}")

    def source_json(self) -> dict[str, object]:
        """Where the figure comes from, as the evidence's ``device.peak_source``."""
        return {"gpu": self.name, "title": self.source, "url": self.url}


_A100 = ("NVIDIA A100 Tensor Core GPU datasheet", "https://www.nvidia.com/en-us/data-center/a100/")
_H100 = ("NVIDIA H100 Tensor Core GPU datasheet", "https://www.nvidia.com/en-us/data-center/h100/")

PEAKS: dict[str, Peak] = {
    peak.key: peak
    for peak in (
        Peak("a100-40gb", "A100 40GB", 1555.0, *_A100),
        Peak("a100-80gb-pcie", "A100 80GB PCIe", 1935.0, *_A100),
        Peak("a100-80gb-sxm", "A100 80GB SXM", 2039.0, *_A100),
        Peak("h100-sxm", "H100 SXM", 3350.0, *_H100),
        Peak("h100-pcie", "H100 PCIe", 2000.0, *_H100),
        Peak("h100-nvl", "H100 NVL", 3900.0, *_H100),
        Peak(
            "h200",
            "H200",
            4800.0,
            "NVIDIA H200 Tensor Core GPU datasheet",
            "https://www.nvidia.com/en-us/data-center/h200/",
        ),
        Peak(
            "b200",
            "B200",
            8000.0,
            "NVIDIA DGX B200 datasheet (64 TB/s for 8 GPUs)",
            "https://www.nvidia.com/en-us/data-center/dgx-b200/",
        ),
        Peak(
            "b300",
            "B300",
            8000.0,
            "NVIDIA HGX platform page (HGX B300: up to 8 TB/s per GPU)",
            "https://www.nvidia.com/en-us/data-center/hgx/",
        ),
        Peak(
            "rtx-5090",
            "GeForce RTX 5090",
            1792.0,
            "NVIDIA GeForce RTX 5090 specifications",
            "https://www.nvidia.com/en-us/geforce/graphics-cards/50-series/rtx-5090/",
        ),
        Peak(
            "rtx-pro-6000",
            "RTX PRO 6000 Blackwell",
            1792.0,
            "NVIDIA RTX PRO 6000 Blackwell specifications",
            "https://www.nvidia.com/en-us/products/workstations/professional-desktop-gpus/rtx-pro-6000/",
        ),
        Peak("l4", "L4", 300.0, "NVIDIA L4 Tensor Core GPU datasheet", "https://www.nvidia.com/en-us/data-center/l4/"),
        Peak("l40s", "L40S", 864.0, "NVIDIA L40S GPU datasheet", "https://www.nvidia.com/en-us/data-center/l40s/"),
        Peak(
            "a10",
            "A10",
            600.0,
            "NVIDIA A10 Tensor Core GPU datasheet",
            "https://www.nvidia.com/en-us/data-center/products/a10-gpu/",
        ),
    )
}

#: Rules tried in order on the upper-cased GPU name (as torch.cuda.get_device_name or
#: nvidia-smi print it). Word boundaries keep GH200 from matching H200, GB200 from
#: B200, L40 from L4 and A100 from A10.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"\bH100\b.*\bPCIE\b", "h100-pcie"),
        (r"\bH100\b.*\bNVL\b", "h100-nvl"),
        (r"\bH100\b", "h100-sxm"),  # "NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM5 80GB"
        (r"\bH200\b", "h200"),
        (r"\bA100\b.*\bPCIE\b.*\b80GB\b|\bA100\b.*\b80GB\b.*\bPCIE\b", "a100-80gb-pcie"),
        (r"\bA100\b.*\b80GB\b", "a100-80gb-sxm"),
        (r"\bA100\b", "a100-40gb"),
        (r"\bB200\b", "b200"),
        (r"\bB300\b", "b300"),  # not GB300, whose name differs
        (r"\bRTX 5090\s*$", "rtx-5090"),  # not the 5090 D parts, whose memory may differ
        (r"\bRTX PRO 6000\b", "rtx-pro-6000"),  # not "RTX 6000 Ada Generation"
        (r"\bL40S\b", "l40s"),
        (r"\bL4\b", "l4"),
        (r"\bA10\b", "a10"),
    )
)


def match_peak(gpu_name: str) -> Peak | None:
    """The datasheet peak for a GPU named ``gpu_name``, or ``None`` when the table has no row for it."""
    upper = gpu_name.upper()
    for pattern, key in _RULES:
        if pattern.search(upper):
            return PEAKS[key]
    return None


def user_peak(gbps: float) -> Peak:
    """A peak the user gave with ``--peak-gbps``; the evidence names it as such."""
    return Peak("user", "given with --peak-gbps", gbps, "user-supplied figure (--peak-gbps)", None)
