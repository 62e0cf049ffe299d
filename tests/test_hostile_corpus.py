"""The hostile-input corpus: malicious or malformed skills, manifests, archives, index documents
and lockfiles, each fed to the real ``skillpm`` command line in a subprocess.

Every case is one row of :data:`CASES`: an id, a builder that writes the hostile thing under the
test's folder and returns the command's arguments, the outcome expected, and a phrase the message
must hold. A case passes when the command

* exits non-zero with exactly one ``error:`` line (or, for ``validate``, exit 1 with findings),
* prints no traceback and only a short message (hostile strings are cut, not echoed whole),
* finishes within :data:`TIMEOUT` seconds under the address-space limit of tests/security/conftest.py, and
* writes nothing outside the places that command may write (the install target, the cache, the
  pack output folder): every other file under the test's folder is unchanged, and no
  ``escaped`` file appears anywhere.

docs/security.md describes the threat model and the limits these cases exercise. The hostile
archives of tests/test_archive.py and tests/test_extraction_hostile.py go through ``extract`` and
``scan`` directly; the ones here are those whose harm (memory, time, disk, a traceback) shows only
in a real process at full size, and one of each kind of refusal.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from test_archive import SKILL, digests, metadata_member, regular, tar_gz
from security.conftest import TIMEOUT, limit_memory, tree_state
from test_extraction_hostile import header_chain, pax_sparse_with_corrupt_map

from skillpm.archive import METADATA_NAME

NAME = "evil-skill"
PASSWD = "/etc/passwd"


@dataclass(frozen=True)
class World:
    """The folders of one case: ``work`` holds the hostile inputs; the rest is skillpm's world."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def installed(self) -> Path:
        return self.project / ".claude" / "skills" / NAME

    def writable(self) -> list[Path]:
        """Where a command may write: the install target, cache, home, pack output."""
        return [self.project / ".claude", self.root / "cache", self.root / "home", self.root / "dist"]


Builder = Callable[[World], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # skill, manifest, archive, index, lockfile
    build: Builder
    expect: str  # "error": one error line; "invalid": validate's findings, exit 1
    match: str


# --- skills and skill sources -------------------------------------------------------------------

FRONT = f"---\nname: {NAME}\ndescription: Does evil things. Use never.\n"


def skill_dir(world: World, skill_md: bytes | str | None = None, **extra: bytes | str) -> Path:
    """A plain Agent Skills directory named after the package, with ``SKILL.md`` and ``extra`` files."""
    root = world.work / NAME
    root.mkdir(parents=True)
    files = {"SKILL.md": FRONT + "---\n\n# Evil\n" if skill_md is None else skill_md, **extra}
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


MANIFEST = f'[package]\nname = "{NAME}"\nversion = "1.0.0"\ndescription = "Does evil things."\n\n[variants.generic]\n'


def source_dir(world: World, manifest: bytes | str = MANIFEST) -> Path:
    """A skill source: a valid plain skill plus ``skillpm.toml``."""
    root = skill_dir(world)
    (root / "skillpm.toml").write_bytes(manifest.encode() if isinstance(manifest, str) else manifest)
    return root


def validate(build: Callable[[World], Path]) -> Builder:
    return lambda world: ["validate", str(build(world))]


def pack(build: Callable[[World], Path]) -> Builder:
    return lambda world: ["pack", str(build(world)), "-o", str(world.root / "dist")]


def evaluate(build: Callable[[World], Path]) -> Builder:
    """``eval``, which reads the test cases first (no model is reached: port 9 answers nothing)."""
    return lambda world: ["eval", str(build(world)), "-m", "m", "--base-url", "http://127.0.0.1:9/v1"]


def case_clash_source(world: World) -> Path:
    """A source whose variant overlay adds ``NOTES.md`` beside the common ``notes.md``."""
    root = source_dir(world)
    (root / "notes.md").write_text("common\n")
    (root / "variants" / "generic").mkdir(parents=True)
    (root / "variants" / "generic" / "NOTES.md").write_text("generic\n")
    return root


def front_matter(yaml: str) -> Callable[[World], Path]:
    return lambda world: skill_dir(world, FRONT + yaml + "\n---\n\n# Evil\n")


def sparse_skill_md(world: World) -> Path:
    """A 100 MB SKILL.md that takes no disk space and is never held in memory here."""
    root = skill_dir(world)
    with (root / "SKILL.md").open("r+b") as handle:
        handle.truncate(100 * 1024 * 1024)
    return root


def sparse_source(world: World) -> Path:
    root = sparse_skill_md(world)
    (root / "skillpm.toml").write_text(MANIFEST)
    return root


def big_skill_md(world: World) -> Path:
    """A 2 MiB SKILL.md: under the archive's file limit, over the SKILL.md limit."""
    return skill_dir(world, FRONT + "---\n" + ("Do the evil thing now.\n" * 96 * 1024))


def linked(name: str, target: str | Callable[[World], str], *, source: bool = False) -> Callable[[World], Path]:
    """A skill (a source with ``source``) holding the symlink ``name`` -> ``target``."""

    def build(world: World) -> Path:
        root = source_dir(world) if source else skill_dir(world)
        link = root / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(target(world) if callable(target) else target)
        return root

    return build


def with_fifo(name: str, *, source: bool = False) -> Callable[[World], Path]:
    def build(world: World) -> Path:
        root = source_dir(world) if source else skill_dir(world)
        (root / name).unlink(missing_ok=True)
        os.mkfifo(root / name)
        return root

    return build


def manifest_case(text: bytes | str) -> Callable[[World], Path]:
    return lambda world: source_dir(world, text)


def with_tests(text: str) -> Callable[[World], Path]:
    """A skill source whose upskill test cases (``skill_meta.json``) are ``text``."""

    def build(world: World) -> Path:
        root = source_dir(world)
        (root / "skill_meta.json").write_text(text)
        return root

    return build


def sentinel(world: World) -> str:
    return str(world.root / "escaped")


SKILL_CASES = [
    Case("skill-md-100mb-sparse", "skill", validate(sparse_skill_md), "invalid", "tree.file-size"),
    Case("pack-skill-md-100mb-sparse", "skill", pack(sparse_source), "error", "tree.file-size"),
    Case("skill-md-2mib", "skill", validate(big_skill_md), "invalid", "spec.skill-md.size"),
    Case("skill-md-invalid-utf8", "skill", validate(lambda w: skill_dir(w, FRONT.encode() + b"---\n\xc3\x28\xff")),
         "invalid", "spec.skill-md.encoding"),
    Case("skill-md-utf8-bom", "skill", validate(lambda w: skill_dir(w, "\ufeff" + FRONT + "---\n")),
         "invalid", "spec.frontmatter.missing"),
    Case("skill-md-nul-bytes", "skill", validate(lambda w: skill_dir(w, FRONT + "license: a\x00b\n---\n")),
         "invalid", "control characters"),
    Case("yaml-alias-bomb", "skill", validate(front_matter(
        "metadata:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]"
    )), "invalid", "anchors and aliases"),
    Case("yaml-python-object-apply", "skill", lambda w: validate(front_matter(
        f"license: !!python/object/apply:os.system ['touch {sentinel(w)}']"
    ))(w), "invalid", "!!python/object/apply:os.system"),
    Case("yaml-python-name", "skill", validate(front_matter("license: !!python/name:os.system ''")),
         "invalid", "!!python/name:os.system"),
    Case("yaml-binary-tag", "skill", validate(front_matter("license: !!binary aGVsbG8=")), "invalid", "!!binary"),
    Case("yaml-set-tag", "skill", validate(front_matter("metadata: !!set {a, b}")), "invalid", "!!set"),
    Case("yaml-merge-key", "skill", validate(front_matter("metadata: {<<: {a: b}}")), "invalid", "!!merge"),
    Case("yaml-nested-999", "skill", validate(front_matter("metadata: " + "[" * 999 + "]" * 999)),
         "invalid", "nested deeper than"),
    Case("yaml-nested-100k", "skill", validate(front_matter("metadata: " + "{a: " * 100_000 + "b" + "}" * 100_000)),
         "invalid", "spec.frontmatter.yaml"),
    Case("yaml-duplicate-top-key", "skill", validate(front_matter(f"name: other-{NAME}")), "invalid", "duplicate key"),
    Case("yaml-duplicate-nested-key", "skill", validate(front_matter("metadata: {owner: me, owner: you}")),
         "invalid", "duplicate key 'owner'"),
    Case("yaml-int-5000-digits", "skill", validate(front_matter("license: " + "9" * 5000)),
         "invalid", "more than 18 digits"),
    Case("yaml-impossible-date", "skill", validate(front_matter("license: 2024-02-30")),
         "invalid", "invalid YAML value"),
    Case("symlink-to-etc-passwd", "skill", validate(linked("SKILL.md", PASSWD)), "invalid", "tree.link-escape"),
    Case("symlink-to-dev-zero", "skill", validate(linked("references/zero.md", "/dev/zero")),
         "invalid", "tree.link-escape"),
    Case("symlink-out-of-tree", "skill", validate(linked("references/x.md", sentinel)), "invalid", "tree.link-escape"),
    Case("symlink-self-loop", "skill", validate(linked("references/loop", "loop")), "invalid", "tree.unreadable"),
    Case("symlink-dir-cycle-in-source", "skill", validate(linked("references/up", "..", source=True)),
         "invalid", "tree.special-file"),
    Case("fifo-as-skill-md", "skill", validate(with_fifo("SKILL.md")), "invalid", "tree.special-file"),
    Case("pack-fifo-in-tree", "skill", pack(with_fifo("notes.md", source=True)), "error", "tree.special-file"),
    Case("pack-names-differing-in-case", "skill", pack(case_clash_source), "error", "clashes with another"),
]


# --- skillpm.toml ----------------------------------------------------------------------------------

MANIFEST_CASES = [
    Case("manifest-version-512k", "manifest", validate(manifest_case(MANIFEST.replace("1.0.0", "1.0.0x" * 100_000))),
         "invalid", "is not a PEP 440 version"),
    Case("manifest-version-5000-digits", "manifest", validate(manifest_case(MANIFEST.replace("1.0.0", "9" * 5000))),
         "invalid", "manifest.schema"),
    Case("manifest-10mb", "manifest", validate(manifest_case(MANIFEST + "# pad\n" * (2 * 1024 * 1024))),
         "invalid", "larger than"),
    Case("manifest-dotted-key-bomb", "manifest", validate(manifest_case(MANIFEST + "a" + ".a" * 100_000 + " = 1\n")),
         "invalid", "dotted more than"),
    Case("manifest-dotted-header-bomb", "manifest", pack(manifest_case(MANIFEST + "[a" + ".a" * 100_000 + "]\n")),
         "error", "dotted more than"),
    Case("manifest-nested-inline-tables", "manifest",
         validate(manifest_case(MANIFEST + "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n")),
         "invalid", "nested too deeply"),
    Case("manifest-nested-arrays", "manifest", pack(manifest_case(MANIFEST + "x = " + "[" * 5000 + "]" * 5000 + "\n")),
         "error", "nested too deeply"),
    Case("manifest-unknown-keys", "manifest",
         validate(manifest_case(MANIFEST + "[hooks]\npost-install = 'rm -rf ~'\n")),
         "invalid", "hooks"),
    Case("manifest-variant-dotdot", "manifest", validate(manifest_case(MANIFEST + '[variants."../x"]\n')),
         "invalid", "invalid GPU target"),
    Case("manifest-name-path-separator", "manifest",
         validate(manifest_case(MANIFEST.replace(f'name = "{NAME}"', 'name = "../../escaped"'))),
         "invalid", "package.name"),
    Case("manifest-invalid-utf8", "manifest", validate(manifest_case(MANIFEST.encode() + b"# \xff\xfe\n")),
         "invalid", "not valid TOML"),
    Case("manifest-fifo", "manifest", pack(with_fifo("skillpm.toml", source=True)), "error", "not a regular file"),
    Case("skill-meta-nested-5000", "manifest", evaluate(with_tests('{"tests": [{"input": "q", "expected": {"contains": '
                                                             + "[" * 5000 + "]" * 5000 + "}}]}")),
         "error", "nested more than"),
    Case("skill-meta-nan", "manifest", evaluate(with_tests('{"tests": [{"input": "q", "expected": {"contains": []}, '
                                                   '"validator_config": {"x": NaN}}]}')),
         "error", "not finite"),
    # refused as a link out of the skill's folder, before it is opened (skillpm.reading.read_inside)
    Case("manifest-symlink-dev-zero", "manifest", pack(linked("skillpm.toml", "/dev/zero", source=True)),
         "error", "a link that leads out of the skill's folder"),
]

# --- archives, served by a registry and installed --------------------------------------------------


def registry_with(
    world: World,
    artifact: bytes | None = None,
    *,
    document: bytes | None = None,
    config: bytes | None = None,
    variant: dict | None = None,
) -> Path:
    """A registry serving ``evil-skill`` 1.0.0 (generic) whose archive is ``artifact``.

    ``variant`` overrides fields of the variant entry; ``document`` and ``config`` replace
    the package document and config.json with raw bytes.
    """
    root = world.registry
    path = f"artifacts/{NAME}/1.0.0/{NAME}-1.0.0-generic.tar.gz"
    artifact = artifact if artifact is not None else tar_gz(metadata_member(digests(SKILL)), SKILL)
    (root / path).parent.mkdir(parents=True)
    (root / path).write_bytes(artifact)
    entry = {"target": "generic", "sha256": hashlib.sha256(artifact).hexdigest(), "size": len(artifact),
             "path": path, "yanked": False, "attestations": [], **(variant or {})}
    package = {"format-version": 1, "name": NAME,
               "versions": [{"version": "1.0.0", "description": "d", "variants": [entry]}]}
    shard = root / "index" / "ev" / "il" / f"{NAME}.json"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(document if document is not None else json.dumps(package).encode())
    search = {"format-version": 1, "packages": [{"name": NAME, "version": "1.0.0"}]}
    (root / "search.json").write_text(json.dumps(search))
    default_config = {"format": "skillpm-index", "format-version": 1, "name": "hostile"}
    (root / "config.json").write_bytes(config if config is not None else json.dumps(default_config).encode())
    return root


def install(**registry: object) -> Builder:
    """``skillpm install evil-skill`` from a registry built by :func:`registry_with`."""

    def build(world: World) -> list[str]:
        artifact = registry.get("artifact")
        others = {key: value for key, value in registry.items() if key != "artifact"}
        root = registry_with(world, artifact() if callable(artifact) else artifact, **others)
        return ["install", NAME, "--registry", str(root), "--arch", "9.0"]

    return build


def archive(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT,
            metadata: tuple[tarfile.TarInfo, bytes] | None = None) -> bytes:
    """A gzip-compressed tar of the metadata (listing the regular members) and ``members``."""
    head = metadata or metadata_member(digests(SKILL, *members))
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=fmt) as tar:
            for info, data in (head, SKILL, *members):
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def gzip_bomb() -> bytes:
    """About 120 KB that inflate to 8 members of 15 MiB zeros: 120 MiB, past the 64 MiB total."""
    raw = io.BytesIO()
    size = 15 * 1024 * 1024
    names = [f"zero{i}.bin" for i in range(8)]
    zero_digest = hashlib.sha256(bytes(size)).hexdigest()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info, data = metadata_member({name: zero_digest for name in names})
            tar.addfile(info, io.BytesIO(data))
            for name in names:
                info = tarfile.TarInfo(f"skill/{name}")
                info.size = size
                tar.addfile(info, io.BufferedReader(_Zeros(size), 1 << 20))
    return raw.getvalue()


def long_name_bomb() -> bytes:
    """About 600 KB whose GNU long-name header claims 600 MiB of zeros, which tarfile reads into memory
    whole: gzip members of 1 MiB of zeros each, one after another."""
    info, data = metadata_member(digests(SKILL))
    long_name = tarfile.TarInfo("././@LongLink")
    long_name.type, long_name.size = tarfile.GNUTYPE_LONGNAME, 600 << 20
    head = info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512) + long_name.tobuf(tarfile.GNU_FORMAT)
    return gzip.compress(head, mtime=0) + gzip.compress(bytes(1 << 20), mtime=0) * 600


def folder_bomb() -> bytes:
    """About 60 KB making 7000 chains of 30 folders: 217,000 folders, 850 MB of disk on ext4."""
    return archive(*(regular(f"skill/{i}/" + "d/" * 29 + "f", b"") for i in range(7000)))


def many_members() -> bytes:
    members = [regular(f"skill/f/{i}.md", b"") for i in range(10_001)]
    return archive(*members)


def zip_archive() -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as bundle:
        bundle.writestr(METADATA_NAME, metadata_member(digests(SKILL))[1])
        bundle.writestr("../escaped", b"x")
    return raw.getvalue()


def pax_member(name: str, headers: dict[str, str], data: bytes = b"x\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.pax_headers = headers
    return info, data


def gnu_sparse() -> tuple[tarfile.TarInfo, bytes]:
    info, data = regular("skill/sparse.bin", b"x\n")
    info.type = tarfile.GNUTYPE_SPARSE
    return info, data


def global_pax_path() -> bytes:
    """A pax global header whose ``path`` record would rename every later member."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT,
                          pax_headers={"path": "../../escaped"}) as tar:
            for info, data in (metadata_member(digests(SKILL)), SKILL):
                tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def symlink_with_pax() -> bytes:
    """A symlink member whose target comes from a pax ``linkpath`` record."""
    info = tarfile.TarInfo("skill/l.md")
    info.type = tarfile.SYMTYPE
    info.pax_headers = {"linkpath": PASSWD}
    return archive((info, None))


def metadata_with(document: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return regular(METADATA_NAME, document)


ARCHIVE_CASES = [
    Case("gzip-bomb-120mib", "archive", install(artifact=lambda: gzip_bomb()), "error", "too large"),
    Case("many-members-10001", "archive", install(artifact=lambda: many_members()), "error", "more than 10000 files"),
    Case("folder-bomb-217k", "archive", install(artifact=folder_bomb), "error", "more than 1000 folders"),
    Case("gnu-long-name-600mib", "archive", install(artifact=long_name_bomb), "error", "inflates to more than"),
    Case("pax-global-header-chain", "archive", install(artifact=lambda: header_chain(tarfile.XGLTYPE, 5000)),
         "error", "corrupt archive"),
    Case("pax-sparse-map-not-numbers", "archive", install(artifact=pax_sparse_with_corrupt_map),
         "error", "corrupt archive"),
    Case("windows-drive-in-a-later-part", "archive",
         install(artifact=lambda: archive(regular("skill/a/C:/escaped"))), "error", "unsafe path"),
    Case("names-differing-in-case", "archive",
         install(artifact=lambda: archive(regular("skill/Refs/a.md"), regular("skill/refs/b.md"))),
         "error", "clashes with another"),
    Case("zip-instead-of-tar-gz", "archive", install(artifact=lambda: zip_archive()), "error", "not a valid archive"),
    Case("plain-tar-not-gzip", "archive", install(artifact=lambda: gzip.decompress(archive())),
         "error", "not a valid archive"),
    Case("pax-path-record-traversal", "archive",
         install(artifact=lambda: archive(pax_member("skill/ok.md", {"path": "skill/../../../escaped"}))),
         "error", "unsafe path"),
    Case("pax-global-header-path", "archive", install(artifact=lambda: global_pax_path()),
         "error", "does not start with"),
    Case("pax-linkpath-symlink", "archive", install(artifact=symlink_with_pax), "error", "is a link"),
    Case("gnu-longname-dotdot", "archive",
         install(artifact=lambda: archive(regular("skill/" + "a/" * 60 + "../" * 62 + "escaped"),
                                            fmt=tarfile.GNU_FORMAT)),
         "error", "unsafe path"),
    Case("gnu-sparse-member", "archive", install(artifact=lambda: archive(gnu_sparse(), fmt=tarfile.GNU_FORMAT)),
         "error", "sparse file"),
    Case("member-path-2000-deep", "archive",
         install(artifact=lambda: archive(regular("skill/" + "d/" * 2000 + "x.md"))), "error", "deeper than"),
    Case("member-path-64k-long", "archive", install(artifact=lambda: archive(regular("skill/" + "n" * 65536))),
         "error", "longer than"),
    Case("metadata-json-nested-500k", "archive",
         install(artifact=lambda: archive(metadata=metadata_with(b"[" * 500_000))), "error", "not valid JSON"),
    Case("metadata-claims-1gib", "archive",
         install(artifact=lambda: archive(metadata=pax_member(METADATA_NAME, {"size": str(1 << 30)}, b"{}"))),
         "error", "is too large"),
    Case("metadata-nan-format-version", "archive",
         install(artifact=lambda: archive(metadata=metadata_with(b'{"format-version": NaN}'))),
         "error", "NaN is not finite"),
    Case("metadata-impersonates-other-package", "archive",
         install(artifact=lambda: archive(metadata=metadata_member(digests(SKILL), name="kernel-builder-cuda"))),
         "error", "holds kernel-builder-cuda"),
    Case("registry-add-zip", "archive", lambda w: _registry_add(w, zip_archive()), "error", "not a skillpm variant"),
    Case("registry-add-long-name-bomb", "archive", lambda w: _registry_add(w, long_name_bomb()),
         "error", "inflates to more than"),
    Case("registry-add-metadata-bomb", "archive",
         lambda w: _registry_add(w, archive(metadata=metadata_with(b"{" * 500_000))), "error", "not valid JSON"),
]



def _registry_add(world: World, data: bytes) -> list[str]:
    root = registry_with(world)
    hostile = world.work / f"{NAME}-1.0.1-generic.tar.gz"
    hostile.parent.mkdir(parents=True, exist_ok=True)
    hostile.write_bytes(data)
    return ["registry", "add", str(root), str(hostile)]


# --- index documents ------------------------------------------------------------------------------


def package_document(**version: object) -> bytes:
    """A package document whose one version has ``version``'s fields (variant fields under 'variant')."""
    variant = {"target": "generic", "sha256": "0" * 64, "size": 1,
               "path": f"artifacts/{NAME}/1.0.0/{NAME}-1.0.0-generic.tar.gz", **version.pop("variant", {})}
    entry = {"version": "1.0.0", "description": "d", "variants": [variant], **version}
    return json.dumps({"format-version": 1, "name": NAME, "versions": [entry]}).encode()


def sparse_document(world: World) -> list[str]:
    args = install()(world)
    shard = world.registry / "index" / "ev" / "il" / f"{NAME}.json"
    with shard.open("r+b") as handle:
        handle.truncate(1 << 30)
    return args


INDEX_CASES = [
    Case("index-json-nested-100k", "index", install(document=b"[" * 100_000 + b"]" * 100_000),
         "error", "not valid JSON"),
    Case("index-1gib-sparse-document", "index", sparse_document, "error", "larger than"),
    Case("index-version-5mb", "index", install(document=package_document(version="1" * 5_000_000)),
         "error", "longer than 256 characters"),
    Case("index-target-1mb", "index", install(variant={"target": "sm_" + "9" * 1_000_000, "sha256": "X"}),
         "error", "sha256 is not 64 lowercase"),
    Case("index-not-utf8", "index", install(document=b'{"format-version": 1, "name": "\xff\xfe"}'),
         "error", "not valid JSON"),
    Case("index-number-1e999999", "index", install(variant={"size": float("inf")}), "error", "Infinity is not finite"),
    Case("index-nan-size", "index", install(variant={"size": float("nan")}), "error", "NaN is not finite"),
    Case("index-int-5000-digits", "index", install(document=b'{"format-version": ' + b"9" * 5000 + b"}"),
         "error", "not valid JSON"),
    Case("index-format-version-2", "index",
         install(document=package_document().replace(b'"format-version": 1', b'"format-version": 2')),
         "error", "not supported"),
    Case("config-not-skillpm", "index", install(config=b'{"format": "npm", "format-version": 1}'),
         "error", "not a skillpm index"),
    Case("index-sha256-uppercase", "index", install(variant={"sha256": "A" * 64}), "error", "64 lowercase hex"),
    Case("index-path-traversal", "index", install(variant={"path": "../../escaped"}), "error", "unsafe path"),
    Case("index-path-absolute", "index", install(variant={"path": PASSWD}), "error", "unsafe path"),
    Case("index-path-file-url", "index", install(variant={"path": f"file://{PASSWD}"}), "error", "unsafe path"),
    Case("index-path-https-url", "index", install(variant={"path": "https://evil.example/x.tar.gz"}),
         "error", "unsafe path"),
    Case("index-wrong-types", "index", install(document=b'{"format-version": 1, "name": "evil-skill", "versions": {}}'),
         "error", "wrong type"),
    Case("index-yanked-as-string", "index", install(variant={"yanked": "false"}), "error", "field 'yanked'"),
    Case("index-describes-other-package", "index", install(document=package_document().replace(
        b'"name": "evil-skill"', b'"name": "kernel-builder-cuda"')), "error", "describes"),
    Case("index-size-understates-artifact", "index", install(variant={"size": 10}), "error", "digest mismatch"),
    Case("index-size-over-the-archive-limit", "index", install(variant={"size": 300 * 1024 * 1024}), "error",
         "over the 84934656-byte limit of an archive"),
]

# --- skills.lock ----------------------------------------------------------------------------------


def lock_entry(**fields: str) -> str:
    """A skills.lock entry for NAME, with ``fields`` changed (the requirement follows a changed name)."""
    name = fields.get("name", NAME)
    entry = {"name": name, "version": "1.0.0", "target": "generic", "sha256": "0" * 64, "registry": "embedded",
             "path": f"artifacts/{NAME}/1.0.0/{NAME}-1.0.0-generic.tar.gz",
             "directory": f".claude/skills/{NAME}", "capability": "none", "requirement": name, **fields}
    return "[[skill]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry.items())


def sync(text: str | bytes | None = None, *, fifo: bool = False) -> Builder:
    def build(world: World) -> list[str]:
        lockfile = world.project / "skills.lock"
        if fifo:
            os.mkfifo(lockfile)
        else:
            lockfile.write_bytes(text.encode() if isinstance(text, str) else text)
        return ["sync"]

    return build


LOCKFILE_CASES = [
    Case("lockfile-traversal", "lockfile", sync("version = 1\n" + lock_entry(directory=f"../../escaped/{NAME}")),
         "error", "not a folder named"),
    Case("lockfile-git-hooks", "lockfile", sync("version = 1\n" + lock_entry(name="hooks", directory=".git/hooks")),
         "error", "not a folder named"),
    Case("lockfile-empty-name-is-project-root", "lockfile", sync("version = 1\n" + lock_entry(name="", directory="")),
         "error", "has a name that is empty"),
    Case("lockfile-5mib", "lockfile", sync("version = 1\n" + "# pad\n" * (900 * 1024)), "error", "larger than"),
    Case("lockfile-dotted-key-bomb", "lockfile", sync("version = 1\n" + "a" + ".a" * 100_000 + " = 1\n"),
         "error", "dotted more than"),
    Case("lockfile-nested-arrays", "lockfile", sync("version = 1\nskill = " + "[" * 5000 + "]" * 5000 + "\n"),
         "error", "nested too deeply"),
    Case("lockfile-skill-not-array", "lockfile", sync('version = 1\nskill = "everything"\n'),
         "error", "'skill' is not an array of tables"),
    Case("lockfile-sha256-wrong-type", "lockfile",
         sync("version = 1\n" + lock_entry().replace(f'sha256 = "{"0" * 64}"', "sha256 = 0")), "error",
         "has a sha256 that is empty, too long, not text, or with a control character"),
    Case("lockfile-invalid-utf8", "lockfile", sync(b"version = 1\n# \xff\n"), "error", "not a readable lockfile"),
    Case("lockfile-fifo", "lockfile", sync(fifo=True), "error", "not a regular file"),
    Case("lockfile-nul-in-directory", "lockfile", sync("version = 1\n" + lock_entry(directory=f"a\x00b/{NAME}")),
         "error", "has a directory that is empty, too long, not text, or with a control character"),
    Case("lockfile-escape-sequence", "lockfile", sync("version = 1\n" + lock_entry(version="1\x1b]0;pwned\x07")),
         "error", "has a version that is empty, too long, not text, or with a control character"),
    Case("lockfile-backslash-traversal", "lockfile",
         sync("version = 1\n" + lock_entry(directory=f"..\\..\\escaped/{NAME}")), "error", "not a folder named"),
]

CASES = SKILL_CASES + MANIFEST_CASES + ARCHIVE_CASES + INDEX_CASES + LOCKFILE_CASES


# --- running a case ------------------------------------------------------------------------------


def make_world(tmp_path: Path) -> World:
    world = World(tmp_path)
    for folder in (world.work, world.project / ".git", tmp_path / "home", tmp_path / "cache"):
        folder.mkdir(parents=True, exist_ok=True)
    return world


def run_skillpm(world: World, args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    home = world.root / "home"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "SKILLPM_CACHE_DIR": str(world.root / "cache"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "NO_COLOR": "1",
        "LC_ALL": "C.UTF-8",
        # A worktree's tests set PYTHONPATH to run its own code, in this subprocess too.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
    }
    start = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "skillpm", *args],
        cwd=world.project,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
        preexec_fn=limit_memory,
    )
    return completed, time.monotonic() - start


def changed_outside(world: World, before: dict, after: dict) -> list[str]:
    allowed = [os.path.relpath(path, world.root) for path in world.writable()]

    def outside(relative: str) -> bool:
        return not any(relative == top or relative.startswith(top + os.sep) for top in allowed)

    return sorted(
        relative
        for relative in set(before) | set(after)
        if outside(relative) and before.get(relative) != after.get(relative)
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_refused(case: Case, tmp_path: Path) -> None:
    world = make_world(tmp_path)
    args = case.build(world)
    before = tree_state(tmp_path)

    completed, seconds = run_skillpm(world, args)

    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output[-3000:]
    assert completed.returncode != 0, output[-3000:]
    if case.expect == "invalid":
        assert completed.returncode == 1
        assert completed.stdout.rstrip().splitlines()[-1].endswith(")"), completed.stdout[-500:]
        assert "invalid (" in completed.stdout and case.match in completed.stdout, completed.stdout[-2000:]
        assert len(completed.stdout) < 20_000
    else:
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and case.match in errors[0], completed.stderr[-2000:]
        assert len(completed.stderr) < 2_000
    assert seconds < TIMEOUT
    assert changed_outside(world, before, tree_state(tmp_path)) == []
    assert not world.installed.exists()
    assert escapes(tmp_path) == []


def escapes(root: Path) -> list[str]:
    """Every ``escaped`` entry a traversal could have made: anywhere under ``root``, or beside any of its ancestors.

    The cases' traversals (``../`` any number of times, absolute paths) aim at a file named
    ``escaped``; from a folder under ``root`` they land under it or in one of its ancestors, up to ``/``.
    """
    under = [relative for relative in tree_state(root) if os.path.basename(relative) == "escaped"]
    beside = [str(folder / "escaped") for folder in root.parents if os.path.lexists(folder / "escaped")]
    return under + beside


def test_the_escape_check_sees_a_traversal_to_any_depth(tmp_path: Path) -> None:
    """``escapes`` is what makes the corpus's traversal cases able to fail: it must see each landing place."""
    deep = tmp_path / "project" / ".claude" / "skills" / "x"
    deep.mkdir(parents=True)
    assert escapes(tmp_path) == []
    (deep / "escaped").write_text("x")
    assert escapes(tmp_path) == ["project/.claude/skills/x/escaped"]
    (deep / "escaped").unlink()
    beside = tmp_path.parent / "escaped"
    beside.write_text("x")
    try:
        assert escapes(tmp_path) == [str(beside)]
    finally:
        beside.unlink()


def test_the_corpus_is_large_and_distinct() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) >= 50
    assert {case.kind for case in CASES} == {"skill", "manifest", "archive", "index", "lockfile"}


# --- documented choices (docs/security.md) --------------------------------------------------------


def test_validation_and_archives_share_the_file_size_limit() -> None:
    from skillpm import archive as archive_module
    from skillpm.validation import tree

    assert tree.MAX_FILE_SIZE == archive_module.MAX_FILE_SIZE


def test_pack_refuses_an_oversized_file_from_its_size_alone(tmp_path: Path) -> None:
    from skillpm.archive import MAX_FILE_SIZE, build_archive
    from skillpm.errors import ArchiveError

    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_SIZE + 1)
    fields = {"name": NAME, "version": "1.0.0", "target": "generic", "description": "d", "license": None,
              "authors": (), "keywords": (), "agents": ()}
    with pytest.raises(ArchiveError, match="too large"):
        build_archive(fields, {"big.bin": big})


def test_a_hard_link_is_packed_as_its_content(tmp_path: Path) -> None:
    """Hard links are accepted: the archive holds a regular file with the content, never a link."""
    from skillpm.archive import extract
    from skillpm.pack import pack as pack_source

    world = make_world(tmp_path)
    root = source_dir(world)
    outside = tmp_path / "outside.md"
    outside.write_text("shared notes\n")
    os.link(outside, root / "notes.md")
    built = pack_source(root, tmp_path / "dist")[0]
    destination = tmp_path / "dest"
    destination.mkdir()
    extract(built.path.read_bytes(), destination)
    copy = destination / "notes.md"
    assert copy.read_text() == "shared notes\n" and copy.stat().st_nlink == 1


def test_names_differing_only_in_case_are_refused_on_every_file_system(tmp_path: Path) -> None:
    from skillpm.archive import extract
    from skillpm.errors import ArchiveError

    upper, lower = regular("skill/NOTES.md", b"upper\n"), regular("skill/notes.md", b"lower\n")
    destination = tmp_path / "dest"
    destination.mkdir()
    with pytest.raises(ArchiveError, match="clashes with another"):
        extract(archive(upper, lower), destination)
    assert sorted(p.name for p in destination.iterdir()) == ["NOTES.md", "SKILL.md"]  # never notes.md over it


def test_toml_guard_counts_dots_outside_strings_only() -> None:
    from skillpm.tomlfile import parse_toml

    text = ('description = """Many. Dots. In. A. Multi. Line. String. Are. Fine.\nStill. Fine."""\n'
            "authors = ['j.r.r.t@e.x.a.m.p.l.e.org'] # a.b.c.d.e.f.g.h.i.j\n[variants.sm_90a]\n")
    assert parse_toml(text.encode())["variants"] == {"sm_90a": {}}
