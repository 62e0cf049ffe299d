"""The embedded default registry: built from skills/ by skillpm itself, current, and shipped."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from skillpm.attest.variants import EMBEDDED_KEY
from skillpm.registry.factory import embedded_registry_path, open_registry
from skillpm.registry.directory import EMBEDDED

from conftest import build_source

REPO = Path(__file__).resolve().parent.parent


def _skillpm() -> str:
    script = Path(sys.executable).with_name("skillpm")
    return str(script) if script.exists() else shutil.which("skillpm") or "skillpm"


def build_registry(repo: Path, out: Path | None, *, unsigned: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``repo``'s .ci/build-registry: into ``out`` (its public key in ``out``.pub), or in place when ``None``."""
    env = {k: v for k, v in os.environ.items() if k != "SKILLPM_INDEX_KEY"}
    env["SKILLPM"] = _skillpm()
    args = ["--unsigned"] if unsigned else []
    args += [str(out)] if out is not None else []
    return subprocess.run(
        ["bash", str(repo / ".ci" / "build-registry"), *args], env=env, capture_output=True, text=True, timeout=600
    )


def private_keys_under(*roots: Path) -> list[Path]:
    """Every file under ``roots`` holding a PEM private key."""
    return [path for root in roots for path in root.rglob("*") if path.is_file() and b"PRIVATE KEY" in path.read_bytes()]


def unsigned_view(root: Path) -> dict[str, object]:
    """A registry's files as a build without the signing key writes them.

    Attestation bundles are left out and each index document is compared parsed, with its
    attestation lists emptied: that is all a signed build adds (the index itself is never signed).
    Package pages (``pages/*.html``) show the evidence, so they are left out too: :func:`stale_parts`
    checks them against the index instead.
    """
    view: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or path.name.startswith(".") or relative.startswith("attestations/"):
            continue
        if relative.startswith("pages/") and relative.endswith(".html"):
            continue
        if relative.startswith("index/"):
            document = json.loads(path.read_bytes())
            for entry in document["versions"]:
                for variant in entry["variants"]:
                    variant["attestations"] = []
            view[relative] = document
        else:
            view[relative] = path.read_bytes()
    return view


def _attested_versions(root: Path) -> tuple[set[str], set[str]]:
    """The bundle paths the index documents list, and ``name==version`` of each version that has any."""
    listed: set[str] = set()
    attested: set[str] = set()
    for path in (root / "index").rglob("*.json"):
        document = json.loads(path.read_bytes())
        for entry in document["versions"]:
            for variant in entry["variants"]:
                for attestation in variant["attestations"]:
                    listed.add(attestation["path"])
                    attested.add(f"{document['name']}=={entry['version']}")
    return listed, attested


def stale_parts(registry: Path, built: Path, public_key: Path) -> list[str]:
    """Why ``registry`` is not what ``built`` (an unsigned build of the same sources) plus valid signed evidence is."""
    expected, actual = unsigned_view(built), unsigned_view(registry)
    problems = [
        f"{name}: " + ("missing" if name not in actual else "not built" if name not in expected else "differs")
        for name in sorted(expected.keys() | actual.keys())
        if expected.get(name) != actual.get(name)
    ]
    listed, attested = _attested_versions(registry)
    bundles = {p.relative_to(registry).as_posix() for p in (registry / "attestations").rglob("*") if p.is_file()}
    problems += [f"{path}: not listed in the index" for path in sorted(bundles - listed)]
    problems += [f"{path}: listed in the index but missing" for path in sorted(listed - bundles)]
    problems += _stale_pages(registry, public_key)
    with tempfile.TemporaryDirectory() as cache:  # a cold cache: every bundle is read from ``registry``
        env = {**os.environ, "SKILLPM_CACHE_DIR": cache}
        for requirement in sorted(attested):  # every attested variant's evidence verifies (others have none)
            verify = [_skillpm(), "verify", requirement, "--registry", str(registry), "--key", str(public_key), "--json"]
            result = subprocess.run(verify, capture_output=True, text=True, env=env, timeout=120)
            variants = json.loads(result.stdout)["variants"] if result.stdout.startswith("{") else [{"ok": False}]
            if not all(variant["ok"] for variant in variants if variant.get("attested", True)):
                problems.append(f"{requirement}: does not verify with {public_key.name}: {result.stdout}")
    return problems


def static_documents(registry: Path, evidence: Path) -> list[tuple[str, dict]]:
    """Every static-kernel evidence document: the files under ``evidence`` and the statements ``registry`` ships."""
    from skillpm.attest.statement import STATIC_KERNEL_EVIDENCE, STATIC_KERNEL_PREDICATE
    from skillpm.attest.verify import attested_statement

    found = []
    for path in sorted(evidence.rglob("*.json")):
        document = json.loads(path.read_bytes())
        if document.get("schema") == STATIC_KERNEL_EVIDENCE:
            found.append((path.name, document))
    for path in sorted((registry / "index").rglob("*.json")):
        for entry in json.loads(path.read_bytes())["versions"]:
            for variant in entry["variants"]:
                for attestation in variant["attestations"]:
                    if attestation["predicate-type"] == STATIC_KERNEL_PREDICATE:
                        statement = attested_statement((registry / attestation["path"]).read_bytes())
                        found.append((attestation["path"], dict(statement.predicate)))
    return found


def kernel_source_problems(documents: list[tuple[str, dict]], skills: Path) -> list[str]:
    """Why each static-kernel document does not name the kernel sources in ``skills`` as they are now:
    a file changed, removed, or added beside those it lists (a .cu, .cuh or .h file)."""
    from skillpm.benchmark.evidence import source_digest

    problems = []
    for where, document in documents:
        project = skills / document["skill"]["name"] / document["kernel"]["project"]
        listed = document["kernel"]["sources"]
        current = {}
        for folder in {(project / relative).parent for relative in listed}:
            for path in folder.iterdir():
                if path.suffix in (".cu", ".cuh", ".h") and path.is_file():
                    current[path.relative_to(project).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        if current != listed or source_digest(current) != document["kernel"]["source_digest"]:
            changed = sorted(name for name in listed.keys() | current.keys() if listed.get(name) != current.get(name))
            problems.append(f"{where}: the kernel sources changed since it was measured ({', '.join(changed)})")
    return problems


def _stale_pages(registry: Path, public_key: Path) -> list[str]:
    """The pages that 'registry build --trusted-key public_key' would change: they must show the index as it is."""
    from skillpm.errors import SkillpmError
    from skillpm.pages.writer import write_pages

    def pages(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "pages").glob("*.html")}

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(shutil.copytree(registry, Path(scratch) / "registry"))
        before = pages(copy)
        try:
            write_pages(copy, trusted_keys=[public_key])
        except SkillpmError as error:
            return [f"pages: cannot be built from the index: {error.message}"]
        after = pages(copy)
    return [f"{name}: not what 'registry build' writes from the index" for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)]


def test_registry_dir_is_what_build_registry_makes_from_skills(tmp_path: Path) -> None:
    """Fails when skills/ changed and registry/ was not rebuilt (run .ci/build-registry)."""
    built = build_registry(REPO, tmp_path / "registry", unsigned=True)
    assert built.returncode == 0, built.stderr
    problems = stale_parts(REPO / "registry", tmp_path / "registry", EMBEDDED_KEY)
    assert not problems, f"registry/ is stale; run .ci/build-registry: {problems}"


def test_shipped_static_evidence_names_the_current_kernel_source() -> None:
    """Fails when the kernel changed and its evidence was not measured again (and registry/ not rebuilt)."""
    documents = static_documents(REPO / "registry", REPO / "evidence")
    problems = kernel_source_problems(documents, REPO / "skills")
    assert not problems, f"run .ci/static-evidence and .ci/build-registry: {problems}"
    document = open_registry(str(REPO / "registry")).package("kernel-builder-cuda")
    targets = {variant.target for variant in document.versions[-1].variants}
    attested = {doc["skill"]["target"] for where, doc in documents if where.startswith("attestations/")}
    assert attested == targets, f"not every variant carries static-kernel evidence: run .ci/build-registry ({attested})"


@pytest.fixture
def signing_repo(tmp_path: Path, isolated) -> dict[str, Path]:
    """A checkout in miniature: the build script, one skill, its evidence, and a shipped key."""
    from test_publish import NAME, VARIANTS, digests, make_evidence, write_json, write_key

    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci" / "build-registry", repo / ".ci" / "build-registry")
    source = build_source(tmp_path, NAME, VARIANTS)
    shutil.copytree(source, repo / "skills" / NAME)
    for target, sha256 in digests(source, tmp_path).items():  # every variant of an embedded skill carries evidence
        write_json(repo / "evidence" / NAME / f"eval-{target}.json", make_evidence("eval", target=target, sha256=sha256))
    old = write_key(tmp_path / "keys" / "old")
    shipped = repo / "skillpm" / "trust" / "embedded-registry.pub"
    shipped.parent.mkdir(parents=True)
    shutil.copy2(old.with_name(old.name + ".pub"), shipped)
    (repo / "docs").mkdir()
    (repo / "docs" / "attestations.md").write_text(f"# Attestations\n\n{FINGERPRINT_LINE}`{'0' * 64}`\n\nmore\n")
    return {"repo": repo, "shipped": shipped, "out": tmp_path / "out", "pub": tmp_path / "out.pub"}


FINGERPRINT_LINE = "Fingerprint of the key that signed the shipped evidence: "


def test_a_signed_build_carries_verified_evidence_and_passes_the_staleness_check(
    signing_repo: dict[str, Path], tmp_path: Path
) -> None:
    repo, out, pub = signing_repo["repo"], signing_repo["out"], signing_repo["pub"]
    signed = build_registry(repo, out)
    assert signed.returncode == 0, signed.stderr
    assert "private half deleted" in signed.stderr
    listed, attested = _attested_versions(out)
    assert attested == {"layer-norm==1.0.0"} and len(listed) == 2
    assert private_keys_under(tmp_path) == [tmp_path / "keys" / "old"]  # the build's own private half is gone
    assert signing_repo["shipped"].read_bytes() != pub.read_bytes()  # built elsewhere: the shipped key is untouched
    unsigned = build_registry(repo, tmp_path / "unsigned", unsigned=True)
    assert unsigned.returncode == 0, unsigned.stderr
    assert not (tmp_path / "unsigned" / "attestations").exists() and not (tmp_path / "unsigned.pub").exists()
    assert stale_parts(out, tmp_path / "unsigned", pub) == []
    assert any("does not verify" in problem for problem in stale_parts(out, tmp_path / "unsigned", signing_repo["shipped"]))


def test_each_build_signs_with_a_fresh_key_and_in_place_ships_its_public_half_and_fingerprint(
    signing_repo: dict[str, Path], tmp_path: Path
) -> None:
    from skillpm.attest.keys import load_public_key

    repo, shipped = signing_repo["repo"], signing_repo["shipped"]
    fingerprints = []
    for _ in range(2):
        built = build_registry(repo, None)
        assert built.returncode == 0, built.stderr
        fingerprints.append(load_public_key(shipped).fingerprint)
        docs = (repo / "docs" / "attestations.md").read_text()
        assert f"{FINGERPRINT_LINE}`{fingerprints[-1]}`" in docs and docs.endswith("more\n")
        unsigned = build_registry(repo, tmp_path / "unsigned", unsigned=True)
        assert stale_parts(repo / "registry", tmp_path / "unsigned", shipped) == []
    assert fingerprints[0] != fingerprints[1]
    assert private_keys_under(repo) == []


def test_the_staleness_check_catches_tampered_stray_and_missing_bundles(
    signing_repo: dict[str, Path], tmp_path: Path
) -> None:
    repo, out, shipped = signing_repo["repo"], signing_repo["out"], signing_repo["pub"]
    assert build_registry(repo, out).returncode == 0
    assert build_registry(repo, tmp_path / "unsigned", unsigned=True).returncode == 0
    bundle = sorted((out / "attestations").rglob("*.json"))[0]
    original = bundle.read_bytes()
    bundle.write_bytes(original + b" ")
    assert any("does not verify" in problem for problem in stale_parts(out, tmp_path / "unsigned", shipped))
    bundle.write_bytes(original)
    stray = bundle.with_name("stray.sigstore.json")
    stray.write_bytes(original)
    assert any("stray.sigstore.json: not listed" in p for p in stale_parts(out, tmp_path / "unsigned", shipped))
    stray.unlink()
    page = out / "pages" / "layer-norm.html"
    page.write_bytes(page.read_bytes().replace(b"verified", b"unverified"))
    assert "pages/layer-norm.html: not what 'registry build' writes from the index" in stale_parts(
        out, tmp_path / "unsigned", shipped
    )
    bundle.unlink()
    assert any("listed in the index but missing" in p for p in stale_parts(out, tmp_path / "unsigned", shipped))
    (out / "search.json").write_bytes(b"{}")
    assert "search.json: differs" in stale_parts(out, tmp_path / "unsigned", shipped)


def test_an_in_place_build_whose_docs_cannot_name_the_key_writes_nothing(signing_repo: dict[str, Path]) -> None:
    repo = signing_repo["repo"]
    (repo / "docs" / "attestations.md").write_text("# Attestations\n")
    before = signing_repo["shipped"].read_bytes()
    result = build_registry(repo, None)
    assert result.returncode == 1
    assert "has no line 'Fingerprint of the key that signed the shipped evidence" in result.stderr
    assert not (repo / "registry").exists() and signing_repo["shipped"].read_bytes() == before


def test_embedded_registry_is_the_default_and_serves_kernel_builder_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKILLPM_REGISTRY", raising=False)
    registry = open_registry()
    assert registry.label == EMBEDDED
    assert registry.root == embedded_registry_path()
    document = registry.package("kernel-builder-cuda")
    assert document is not None
    targets = {variant.target for entry in document.versions for variant in entry.variants}
    assert {"generic", "sm_80", "sm_90", "sm_100f", "sm_120f"} <= targets


def test_wheel_ships_the_registry_and_schemas(tmp_path: Path) -> None:
    """The built wheel carries registry/ as skillpm/_registry, so installs work offline."""
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, timeout=600,
    )
    import zipfile

    (wheel,) = tmp_path.glob("skillpm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "skillpm/_registry/config.json" in names
    assert "skillpm/_registry/index/ke/rn/kernel-builder-cuda.json" in names
    assert "skillpm/_schemas/manifest.schema.json" in names
    assert not any(name.endswith(".lock") for name in names)


@pytest.mark.parametrize(
    ("arch", "target", "marker"),
    [
        ("8.0", "sm_80", "cp.async"),
        ("a10", "sm_80", "cp.async"),
        ("8.9", "sm_80", "cp.async"),
        ("h100", "sm_90", "Hopper"),
        ("sm_90a", "sm_90", "Hopper"),
        ("b200", "sm_100f", "sm_100f"),
        ("b300", "sm_100f", "B300"),
        ("rtx 5090", "sm_120f", "RTX 5090"),
        ("12.1", "sm_120f", "sm_120f"),
        ("7.5", "generic", "generic"),
    ],
)
def test_every_variant_installs_from_the_embedded_registry(
    tmp_path: Path, arch: str, target: str, marker: str
) -> None:
    """`skillpm install kernel-builder-cuda --arch ...` installs the variant written for that GPU."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLPM_REGISTRY", "SKILLPM_ARCH")}
    env["SKILLPM_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [_skillpm(), "install", "kernel-builder-cuda", "--arch", arch],
        cwd=project,
        env=env,
        capture_output=True,
        text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"({target})" in result.stdout
    skill_md = (project / ".claude" / "skills" / "kernel-builder-cuda" / "SKILL.md").read_text()
    assert marker in skill_md
    lock = (project / "skills.lock").read_text()
    assert f'target = "{target}"' in lock and 'registry = "embedded"' in lock
