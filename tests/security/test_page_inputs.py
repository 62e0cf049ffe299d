"""What a registry write draws its pages from is hostile: text far longer than a page shows, and signed
figures at the ends of the floats (third-pass hostile review). Each case runs the real command line on a
registry made with it and checks it ends in time, without a traceback, with the index and pages written.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from conftest import build_source
from test_publish import digests, write_key

from security.conftest import Hostile

EVIDENCE = Path(__file__).resolve().parents[2] / "evidence" / "kernel-builder-cuda" / "static-kernel-sm_90.json"


def with_description(archive: Path, description: str) -> None:
    """Rewrite the archive's skillpm-variant.json with ``description``, as a hostile publisher's archive holds it."""
    with tarfile.open(archive, "r:gz") as source:
        members = [(member, source.extractfile(member).read()) for member in source.getmembers()]  # type: ignore[union-attr]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            if member.name == "skillpm-variant.json":
                metadata = json.loads(data)
                metadata["description"] = description
                data = json.dumps(metadata, ensure_ascii=False).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    archive.write_bytes(gzip.compress(out.getvalue(), mtime=0))


def test_a_description_of_many_combining_marks_is_drawn_in_time(hostile: Hostile) -> None:
    """'registry add' of an archive whose description is a run of 160,000 combining marks: the pages
    normalised it whole (quadratic) before cutting it to 300 and 2,000 characters, a minute a page under
    the registry's lock; now at most twice what a page shows is normalised."""
    root = hostile.work / "reg"
    hostile.ok(hostile.run("registry", "init", root))
    source = build_source(hostile.work, "demo", {"generic": {}})
    hostile.ok(hostile.run("pack", source, "-o", hostile.work / "dist"))
    archive = hostile.work / "dist" / "demo-1.0.0-generic.tar.gz"
    with_description(archive, "Helps. " + "\u0300\u0316" * 80_000)

    hostile.ok(hostile.run("registry", "add", root, archive))

    assert hostile.seconds < 15
    page = (root / "pages" / "demo.html").read_text(encoding="utf-8")
    assert "Helps. " in page and "\u2026" in page


def test_signed_figures_of_the_smallest_float_draw_a_page(hostile: Hostile) -> None:
    """Static-kernel evidence whose figures are all 5e-324 (the schema asks only that they be > 0), signed by
    a key the maintainer trusts: the chart's scale underflowed to 0 and the publish ended in a StopIteration
    traceback after the index was written, as did every 'registry build'."""
    from skillpm.attest.keys import load_public_key
    from skillpm.attest.policyfile import user_policy_path

    root = hostile.work / "reg"
    hostile.ok(hostile.run("registry", "init", root))
    source = build_source(hostile.work, "demo", {"sm_90": {}})
    key = write_key(hostile.work / "keys" / "me")
    public = key.with_name("me.pub")
    policy = user_policy_path()
    policy.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = load_public_key(public).fingerprint
    policy.write_text(f'[[trust.keys]]\nfingerprint = "{fingerprint}"\npublic-key = "{public}"\n')
    evidence = json.loads(EVIDENCE.read_text(encoding="utf-8"))
    evidence["skill"] = {"name": "demo", "version": "1.0.0", "target": "sm_90",
                         "artifact_sha256": digests(source, hostile.work)["sm_90"]}  # fmt: skip
    for kernel in evidence["kernels"]:
        kernel["sass_per_element"] = kernel["target_budget"] = 5e-324
        for gpu in kernel["gpus"]:
            gpu["budget_per_element"] = 5e-324
    (hostile.work / "static.json").write_text(json.dumps(evidence))

    hostile.ok(hostile.run("publish", source, "--registry", root, "--evidence", hostile.work / "static.json",
                           "--sign", f"key:{key}"))  # fmt: skip
    hostile.ok(hostile.run("registry", "build", root, "--trusted-key", public))

    page = (root / "pages" / "demo.html").read_text(encoding="utf-8")
    assert 'class="figures static-kernels"' in page and '<svg class="chart"' in page and "4.94e-324 SASS/elem" in page
    assert not (root / ".skillpm-journal").exists()
