"""Verify many variants of one package, reading each archive their evidence is checked against once.

``info``, ``verify`` and ``registry build`` check eval evidence against the test set its
variant's archive records, so they read archives. An index may name one archive (by path and
sha256) for many variants: a hostile one named an 80 MB archive for 100 variants, and ``info``
read 8 GB. :func:`verify_variants` verifies the variants naming one archive one after another and
reads it once for them, holding one archive at a time; the reports keep the variants' order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    from skillpm.attest.policy import Policy
    from skillpm.attest.variants import Registry, VariantReport
    from skillpm.attest.verify import SigstoreTrust
    from skillpm.index.model import Variant


def verify_variants(
    registry: Registry,
    name: str,
    variants: Sequence[tuple[str, Variant]],
    *,
    policy: Policy,
    archive: Callable[[Variant], bytes | None],
    wanted: Callable[[Variant], bool] = lambda _variant: True,
    sigstore: SigstoreTrust | None = None,
) -> list[VariantReport]:
    """:func:`~skillpm.attest.variants.verify_variant` of each (version, variant) of ``name``, in order.

    ``archive`` reads a variant's archive (``None``: not at hand); it is called once per archive
    path and sha256, for the variants ``wanted`` says their evidence needs it.
    """
    from skillpm.attest.variants import verify_variant

    reports: list[VariantReport | None] = [None] * len(variants)
    held: tuple[tuple[str, str], bytes | None] | None = None
    for index in sorted(range(len(variants)), key=lambda i: (variants[i][1].path, variants[i][1].sha256)):
        version, variant = variants[index]
        artifact = None
        if wanted(variant):
            key = (variant.path, variant.sha256)
            if held is None or held[0] != key:
                held = None  # the last archive is let go before the next is read
                held = (key, archive(variant))
            artifact = held[1]
        reports[index] = verify_variant(registry, name=name, version=version, variant=variant, policy=policy,
                                        artifact=artifact, sigstore=sigstore)
    return reports  # type: ignore[return-value]  (every index was filled)
