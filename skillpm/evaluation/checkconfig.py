"""The ``validator_config`` each of skillpm's validators takes (:mod:`skillpm.evaluation.checks`).

pydantic models, strict: imported only when a case names one of skillpm's validators, so
reading cases that name none (the skeleton ``skillpm init`` makes) imports no pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    """A validator's settings: no key it does not know, no value of another type taken."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RegexConfig(Config):
    """``regex``."""

    pattern: str
    ignore_case: bool = False


class ArchConfig(Config):
    """What the compiling validators share: the architecture and the time limit."""

    arch: str | None = None
    generic_arch: str | None = None
    timeout_s: float = Field(default=120.0, gt=0, allow_inf_nan=False)


class NvccConfig(ArchConfig):
    """``nvcc_compile``."""

    gencode: str | None = None


class KernelConfig(ArchConfig):
    """``cuda_kernel`` (less its per-architecture ``max_sass_per_element.<arch>`` keys)."""

    kernel: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    max_spill_bytes: int = Field(default=0, ge=0)
    allow_local_memory: bool = False
    sass_opcodes: str = Field(default="", pattern=r"^[A-Z0-9_. ]*$")
    elements_per_thread: int | None = Field(default=None, gt=0)
    max_sass_per_element: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class PythonTestConfig(Config):
    """``python_test``."""

    script: str = Field(min_length=1)
    timeout_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
