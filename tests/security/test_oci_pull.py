"""``registry pull`` into the user's own (signed) mirror: what a hostile OCI registry can make it write.

The mirror holds layer-norm 1.0.0 already. The OCI registry serves the same archive with
"attestations" of its choosing: any bytes at a bundle-shaped path, a signed statement about
another archive, or a good bundle whose listing lies about its predicate type. Attestations
are append-only in a static registry, so one that fails its checks, once copied, would make
every install of the variant from the mirror fail; pull copies only bundles whose statement
publish would have signed for that archive, and says which it left out and which it attached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from skillpm.attest.bundle import sign_with_key
from skillpm.attest.keys import generate
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, Statement, Subject
from skillpm.index.model import Attestation, archive_name, shard_path
from skillpm.registry import store
from skillpm.registry.directory import LocalRegistry

from conftest import build_source
from oci.hostile_registry import HostileRegistry
from security.test_versions import serve_spelled
from test_publish import NAME, digests, make_evidence, write_json

PREFIX = f"attestations/{NAME}/1.0.0/{archive_name(NAME, '1.0.0', 'generic')}."


def _published(work: Path) -> tuple[LocalRegistry, Path]:
    """A static registry with layer-norm 1.0.0 (generic) and eval evidence signed by a key; and the archive."""
    from skillpm.publish import KeySigner, publish

    root = work / "static"
    store.init(root)
    source = build_source(work, NAME, {"generic": {}})
    sha256 = digests(source, work)["generic"]
    evidence = write_json(work / "eval.json", make_evidence("eval", target="generic", sha256=sha256))
    publish(source, root, evidence=[evidence], signer=KeySigner(generate()))
    static = LocalRegistry(root, root.as_uri())
    return static, root / static.require_package(NAME).versions[0].variants[0].path


def _listed(path: str, data: bytes, predicate_type: str = EVAL_PREDICATE) -> Attestation:
    return Attestation(path, hashlib.sha256(data).hexdigest(), predicate_type)


def test_pull_copies_into_a_mirror_only_bundles_about_the_archive_and_says_what_it_attached(hostile) -> None:
    static, archive = _published(hostile.work)
    entry = static.require_package(NAME).versions[0]
    variant = entry.variants[0]
    (good,) = variant.attestations
    files = {variant.path: archive.read_bytes(), good.path: (static.root / good.path).read_bytes()}
    junk = b'{"mediaType": "junk"}'
    about_another = sign_with_key(Statement((Subject(archive_name(NAME, "1.0.0", "generic"), "ab" * 32),),
                                            EVAL_PREDICATE, make_evidence("eval", target="generic", sha256="ab" * 32)),
                                  generate())
    files[PREFIX + "eval-0000000000000000.sigstore.json"] = junk
    files[PREFIX + "eval-1111111111111111.sigstore.json"] = about_another
    listed = (_listed(PREFIX + "eval-0000000000000000.sigstore.json", junk),
              _listed(PREFIX + "eval-1111111111111111.sigstore.json", about_another),
              good._replace(predicate_type=BENCH_PREDICATE))  # the statement is eval evidence
    mirror = hostile.work / "mirror"
    key = hostile.work / "index.key"
    hostile.ok(hostile.run("keygen", "-o", key))
    hostile.ok(hostile.run("registry", "init", mirror, "--key", key))
    hostile.ok(hostile.run("registry", "add", mirror, archive, "--key", key))
    with HostileRegistry() as registry:
        registry.put_version(NAME, entry._replace(variants=(variant._replace(attestations=listed),)), files)
        pulled = hostile.ok(hostile.run("registry", "pull", registry.url, mirror, NAME, "--key", key))
    warnings = [line for line in pulled.stderr.splitlines() if line.startswith("warning: not copied")]
    assert len(warnings) == 2, pulled.stderr
    assert "not a Sigstore bundle" in warnings[0] and "check 'subject' failed" in warnings[1]
    assert f"attached {good.path}  ({EVAL_PREDICATE})" in pulled.stdout
    (kept,) = LocalRegistry(mirror, mirror.as_uri()).require_package(NAME).versions[0].variants[0].attestations
    assert kept == good  # the statement's predicate type, not the listing's
    assert not (mirror / listed[0].path).exists() and not (mirror / listed[1].path).exists()
    assert (mirror / "index" / shard_path(NAME)).is_file()
    hostile.ok(hostile.run("install", NAME, "--registry", mirror))


def test_pull_of_one_version_tagged_in_two_spellings_writes_nothing(hostile) -> None:
    """Tags '1.0' and '1.0.0' (one PEP 440 version): the mirror's document listed it twice, signed, and every
    reader then refused the package, registry build and rebuild too."""
    with HostileRegistry() as registry:
        for version in ("1.0", "1.0.0"):
            serve_spelled(registry, hostile.work, version, name=NAME)
        mirror = hostile.work / "mirror"
        hostile.ok(hostile.run("registry", "init", mirror))
        before = hostile.state()
        pulled = hostile.run("registry", "pull", registry.url, mirror, NAME)
    hostile.refused(pulled, "tags '1.0' and '1.0.0' are one version")
    assert hostile.changed_outside(before, hostile.cache) == []
    hostile.ok(hostile.run("registry", "build", mirror))
