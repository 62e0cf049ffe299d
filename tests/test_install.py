"""Tests for skillpm.installing, skillpm.cache and skillpm.atomic, through the library and the CLI."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
import test_http_server
from test_cli import assert_one_error

from skillpm.installing import pipeline as installer, removal
from skillpm.installing.destinations import destination
from skillpm.atomic import atomic_write, discard, replace_dir, staging_dir
from skillpm.cache import ArtifactCache
from skillpm.archive import read_metadata
from skillpm.errors import ArchiveError, InstallError, LockfileError, RegistryError
from skillpm.locks import FolderLocks
from skillpm.registry import store
from skillpm.registry.store import entries
from skillpm.registry.factory import open_registry
from skillpm.requirements import parse_requirement
from skillpm.targets import Capability

served = test_http_server.served  # the fixtures, shared
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"
KERNEL_DOC = "index/ke/rn/kernel-helper.json"


def lock_entries(path: Path) -> list[dict[str, str]]:
    return tomllib.loads(path.read_text())["skill"]


def artifact(registry: Path, target: str, version: str = "1.0.0") -> Path:
    return registry / "artifacts" / KERNEL / version / f"{KERNEL}-{version}-{target}.tar.gz"


def install_lib(isolated, registry: Path, requirement: str = KERNEL, capability=Capability(9, 0), **options):
    dest = destination(project_root=isolated.project)
    return installer.install(
        parse_requirement(requirement),
        registry=open_registry(str(registry)),
        capability=capability,
        dest=dest,
        cache=ArtifactCache(),
        **options,
    )


# --- where skills go ------------------------------------------------------------------------------


def test_install_into_the_project_and_lock_it(isolated, registry: Path, run_cli) -> None:
    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry)

    assert result.exit_code == 0, result.output
    skill_dir = isolated.skills / KERNEL
    assert f"installed {KERNEL} 1.0.0 (sm_90a) -> {skill_dir} (for claude-code)" in result.stdout
    assert sorted(p.relative_to(skill_dir).as_posix() for p in skill_dir.rglob("*") if p.is_file()) == [
        "SKILL.md",
        "references/hopper.md",
        "scripts/check.sh",
    ]
    assert (skill_dir / "scripts" / "check.sh").stat().st_mode & 0o777 == 0o755
    [entry] = lock_entries(isolated.lockfile)
    assert entry == {
        "name": KERNEL,
        "version": "1.0.0",
        "target": "sm_90a",
        "sha256": entry["sha256"],
        "registry": registry.resolve().as_uri(),
        "path": f"artifacts/{KERNEL}/1.0.0/{KERNEL}-1.0.0-sm_90a.tar.gz",
        "directory": f".agents/skills/{KERNEL}",
        "capability": "9.0",
        "requirement": KERNEL,
        "agents": ["claude-code"],
        "links": [f".claude/skills/{KERNEL}"],
    }
    assert (isolated.claude_skills / KERNEL).resolve() == skill_dir
    assert json.loads((registry / KERNEL_DOC).read_text())["versions"][0]["variants"][2]["sha256"] == entry["sha256"]
    leftovers = [p.name for p in isolated.skills.iterdir() if p.name != KERNEL]
    assert leftovers == []


def test_install_from_a_subfolder_finds_the_project_root(isolated, registry: Path, run_cli, monkeypatch) -> None:
    nested = isolated.project / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()
    assert isolated.lockfile.is_file()


@pytest.mark.parametrize(
    ("options", "where", "directory"),
    [
        (["--dir", "vendor/skills"], "vendor/skills", "vendor/skills"),
        (["--agent", "codex"], ".agents/skills", ".agents/skills"),
        (["--agent", "windsurf"], ".windsurf/skills", ".agents/skills"),
        (["--agent", "copilot"], ".agents/skills", ".agents/skills"),  # skillpm's old name for github-copilot
        (["--agent", "openclaw"], "skills", ".agents/skills"),
        (["--agent", "windsurf", "--copy"], ".windsurf/skills", ".windsurf/skills"),
    ],
)
def test_install_destinations(isolated, registry: Path, run_cli, options: list[str], where: str, directory: str) -> None:
    """The agent sees the skill in ``where``; skills.lock records its one copy in ``directory``."""
    result = run_cli("install", KERNEL, "--arch", "8.0", "--registry", registry, *options)
    assert result.exit_code == 0, result.output
    assert (isolated.project / where / KERNEL / "references" / "ampere.md").is_file()
    assert not (isolated.claude_skills / KERNEL).exists()
    [entry] = lock_entries(isolated.lockfile)
    assert entry["directory"] == f"{directory}/{KERNEL}"


def test_install_global_uses_home_and_the_user_lockfile(isolated, registry: Path, run_cli) -> None:
    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--global")

    assert result.exit_code == 0, result.output
    skill_dir = isolated.home / ".agents" / "skills" / KERNEL
    assert (skill_dir / "SKILL.md").is_file()
    assert (isolated.home / ".claude" / "skills" / KERNEL).resolve() == skill_dir
    assert not isolated.lockfile.exists()
    [entry] = lock_entries(isolated.user_lockfile)
    assert Path(entry["directory"]) == skill_dir
    listed = json.loads(run_cli("list", "--global", "--json", "--arch", "9.0").stdout)
    assert [(row["name"], row["present"]) for row in listed] == [(KERNEL, True)]


# --- which variant --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "target"),
    [("8.6", "sm_80"), ("8.0", "sm_80"), ("9.0", "sm_90a"), ("h100", "sm_90a"), ("12.0", "generic"), ("7.5", "generic")],
)
def test_arch_picks_the_best_variant(isolated, registry: Path, run_cli, arch: str, target: str) -> None:
    result = run_cli("install", KERNEL, "--arch", arch, "--registry", registry)
    assert result.exit_code == 0, result.output
    assert lock_entries(isolated.lockfile)[0]["target"] == target
    skill_md = (isolated.skills / KERNEL / "SKILL.md").read_text()
    assert f"Written for the {target} target." in skill_md


def test_skillpm_arch_env_var_is_read(isolated, registry: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_ARCH", "8.6")
    assert run_cli("install", KERNEL, "--registry", registry).exit_code == 0
    assert lock_entries(isolated.lockfile)[0]["target"] == "sm_80"


def test_no_gpu_and_no_arch_installs_generic_with_a_notice(isolated, registry: Path, run_cli) -> None:
    from skillpm.gpu import detect_gpu

    if detect_gpu() is not None:
        pytest.skip("this machine has a GPU; the no-GPU path needs a machine without one")
    result = run_cli("install", KERNEL, "--registry", registry)
    assert result.exit_code == 0, result.output
    assert "no NVIDIA GPU detected" in result.stderr and "--arch" in result.stderr
    assert "no NVIDIA GPU" not in result.stdout
    entry = lock_entries(isolated.lockfile)[0]
    assert (entry["target"], entry["capability"]) == ("generic", "none")


# --- re-installing, and directories skillpm did not make ----------------------------------------------


def test_reinstall_is_idempotent(isolated, registry: Path, run_cli, snapshot) -> None:
    run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry)
    before = snapshot(isolated.project)

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry)

    assert result.exit_code == 0
    assert f"already up to date: {KERNEL} 1.0.0 (sm_90a)" in result.stdout
    assert snapshot(isolated.project) == before
    _, again = install_lib(isolated, registry)
    assert again.changed is False


def test_reinstall_repairs_a_modified_tree(isolated, registry: Path) -> None:
    install_lib(isolated, registry)
    skill_md = isolated.skills / KERNEL / "SKILL.md"
    original = skill_md.read_bytes()
    skill_md.write_text("tampered")
    (isolated.skills / KERNEL / "stray.txt").write_text("x")

    _, result = install_lib(isolated, registry)

    assert result.changed is True
    assert skill_md.read_bytes() == original
    assert not (isolated.skills / KERNEL / "stray.txt").exists()


def test_install_over_a_foreign_directory_needs_force(isolated, registry: Path, run_cli, snapshot) -> None:
    mine = isolated.skills / KERNEL
    mine.mkdir(parents=True)
    (mine / "notes.md").write_text("my own notes")
    before = snapshot(isolated.project)

    with pytest.raises(InstallError, match="not installed by skillpm") as caught:
        install_lib(isolated, registry)
    assert "--force" in caught.value.hint
    assert snapshot(isolated.project) == before

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--force")
    assert result.exit_code == 0, result.output
    assert not (mine / "notes.md").exists() and (mine / "SKILL.md").is_file()


# --- the cache and digests ------------------------------------------------------------------------


def cache_file(isolated, sha256: str) -> Path:
    return isolated.cache / "artifacts" / "sha256" / sha256[:2] / sha256


def test_second_install_reads_the_cache(isolated, registry: Path) -> None:
    _, first = install_lib(isolated, registry)
    assert cache_file(isolated, first.sha256).is_file()
    artifact(registry, "sm_90a").unlink()
    removal.remove(isolated.lockfile, KERNEL)

    _, second = install_lib(isolated, registry)

    assert second.changed and (isolated.skills / KERNEL / "SKILL.md").is_file()


def test_a_corrupt_cache_entry_is_dropped_and_fetched_again(isolated, registry: Path) -> None:
    _, first = install_lib(isolated, registry)
    cached = cache_file(isolated, first.sha256)
    good = cached.read_bytes()
    cached.write_bytes(b"garbage")
    removal.remove(isolated.lockfile, KERNEL)

    install_lib(isolated, registry)

    assert cached.read_bytes() == good
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()


def test_artifact_cache_get_and_put(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "c")
    digest = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"  # sha256("foo")
    assert cache.get(digest) is None
    cache.put(digest, b"foo")
    assert cache.get(digest) == b"foo"
    path = tmp_path / "c" / "artifacts" / "sha256" / "2c" / digest
    path.write_bytes(b"bar")
    assert cache.get(digest) is None
    assert not path.exists()


def tamper(path: Path) -> None:
    """Change one byte in the middle, keeping the size."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_digest_mismatch_installs_nothing_and_keeps_the_previous_install(isolated, registry: Path, snapshot) -> None:
    install_lib(isolated, registry, capability=Capability(12, 0))  # generic
    before = snapshot(isolated.project)
    tamper(artifact(registry, "sm_90a"))

    with pytest.raises(ArchiveError, match="digest mismatch"):
        install_lib(isolated, registry, capability=Capability(9, 0))

    assert snapshot(isolated.project) == before
    assert lock_entries(isolated.lockfile)[0]["target"] == "generic"
    assert len([p for p in (isolated.cache / "artifacts").rglob("*") if p.is_file()]) == 1  # generic only


def test_a_hostile_archive_in_the_registry_leaves_nothing(
    isolated, tmp_path: Path, registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip
    import hashlib
    import io
    import tarfile

    skill_md = b"---\nname: evil-skill\ndescription: d\n---\n"
    members = {"skill/SKILL.md": skill_md, "skill/../escape.txt": b"gotcha"}
    metadata = {
        "format-version": 1, "name": "evil-skill", "version": "1.0.0", "target": "generic", "description": "d",
        "files": {name.removeprefix("skill/"): hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, data in {"skillpm-variant.json": json.dumps(metadata).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    evil = tmp_path / "evil-skill-1.0.0-generic.tar.gz"
    evil.write_bytes(raw.getvalue())
    with pytest.raises(RegistryError, match="unsafe path"):
        store.add(registry, [evil])  # registry add scans every member
    # A hostile registry need not have used skillpm to write itself: plant it past the scan.
    monkeypatch.setattr(entries, "scan", read_metadata)
    store.add(registry, [evil])

    with pytest.raises(ArchiveError, match="unsafe path"):
        install_lib(isolated, registry, "evil-skill")

    assert list(tmp_path.rglob("escape.txt")) == []
    assert not isolated.skills.exists() or list(isolated.skills.iterdir()) == []
    assert not isolated.lockfile.exists()


# --- several requirements: all or nothing ----------------------------------------------------------


def test_install_of_several_locks_once_and_records_them_all(
    isolated, registry: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = []
    take = FolderLocks._take
    monkeypatch.setattr(
        FolderLocks, "_take", lambda locks, key, folder, **how: taken.append(folder) or take(locks, key, folder, **how)
    )

    result = run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", registry, "--json")

    assert result.exit_code == 0, result.output
    assert [(r["name"], r["target"], r["changed"]) for r in json.loads(result.stdout)] == [
        (KERNEL, "sm_90a", True), ("doc-writer", "generic", True),
    ]
    # one lock on each folder for the whole command, not one per skill: the project's, and each skills folder's
    assert sorted(taken) == [isolated.project, isolated.skills, isolated.claude_skills]
    assert [(e["name"], e["target"]) for e in lock_entries(isolated.lockfile)] == [
        ("doc-writer", "generic"), (KERNEL, "sm_90a"),
    ]
    assert (isolated.skills / KERNEL / "references" / "hopper.md").is_file()
    assert (isolated.skills / "doc-writer" / "SKILL.md").is_file()


def test_install_of_several_installs_none_when_a_later_archive_fails_its_digest(
    isolated, registry: Path, run_skillpm
) -> None:
    tamper(registry / "artifacts" / "doc-writer" / "0.2.0" / "doc-writer-0.2.0-generic.tar.gz")

    result = run_skillpm("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", registry)

    assert result.returncode == 1 and "error: digest mismatch for artifacts/doc-writer" in result.stderr
    assert not (isolated.skills / KERNEL).exists() and not isolated.lockfile.exists()
    assert not isolated.skills.exists() or list(isolated.skills.iterdir()) == []


def test_install_of_several_keeps_the_previous_install_when_one_does_not_resolve(
    isolated, registry: Path, run_cli, run_skillpm, snapshot
) -> None:
    assert run_cli("install", KERNEL, "--arch", "8.0", "--registry", registry).exit_code == 0
    before = snapshot(isolated.project)

    result = run_skillpm("install", KERNEL, "doc-writer>=1", "--arch", "9.0", "--registry", registry)

    assert result.returncode == 1 and "error: no version of doc-writer matches >=1" in result.stderr
    assert snapshot(isolated.project) == before
    assert lock_entries(isolated.lockfile)[0]["target"] == "sm_80"


# --- sync, update, remove, list -----------------------------------------------------------------------


def test_sync_reinstalls_a_deleted_skill(isolated, registry: Path, run_cli, snapshot) -> None:
    run_cli("install", KERNEL, "doc-writer", "--arch", "8.6", "--registry", registry)
    before = snapshot(isolated.project)
    shutil.rmtree(isolated.skills / KERNEL)
    result = run_cli("sync")

    assert result.exit_code == 0, result.output
    assert f"installed {KERNEL} 1.0.0 (sm_80)" in result.stdout
    assert "already up to date: doc-writer 0.2.0 (generic)" in result.stdout
    assert snapshot(isolated.project) == before


def test_sync_with_an_empty_lockfile(isolated, run_cli) -> None:
    result = run_cli("sync")
    assert result.exit_code == 0
    assert "nothing to do" in result.stderr


def test_sync_refuses_a_changed_digest(isolated, tmp_path: Path, registry: Path, make_source, snapshot) -> None:
    install_lib(isolated, registry, capability=Capability(12, 0))
    (isolated.skills / KERNEL / "SKILL.md").unlink()
    before = snapshot(isolated.project)
    # The registry's owner swaps the published bytes and rebuilds the index.
    other = make_source(
        tmp_path / "rewritten", KERNEL, {"generic": {"new.md": "other bytes\n"}}, keywords=("cuda", "kernels")
    )
    from skillpm.pack import pack

    [built] = pack(other, tmp_path / "rewritten-dist")
    artifact(registry, "generic").write_bytes(built.path.read_bytes())
    store.rebuild(registry)

    with pytest.raises(LockfileError, match="digest mismatch") as caught:
        installer.sync(isolated.lockfile, cache=ArtifactCache())

    assert "skillpm update" in caught.value.hint
    assert snapshot(isolated.project) == before


def test_sync_refuses_a_lockfile_aimed_outside_the_skill_folder(isolated, registry: Path, snapshot) -> None:
    install_lib(isolated, registry)
    victim = isolated.home / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    text = isolated.lockfile.read_text()
    isolated.lockfile.write_text(text.replace(f".claude/skills/{KERNEL}", "../home/precious"))

    with pytest.raises(LockfileError, match="not a folder named"):
        installer.sync(isolated.lockfile, cache=ArtifactCache())
    with pytest.raises(LockfileError, match="not a folder named"):
        removal.remove(isolated.lockfile, KERNEL)

    assert snapshot(victim) == {"data.txt": b"keep me"}


def test_update_picks_a_newer_version(isolated, tmp_path: Path, registry: Path, make_source, publish, run_cli) -> None:
    install_lib(isolated, registry, capability=Capability(8, 6))
    assert run_cli("update").stdout.startswith(f"already up to date: {KERNEL} 1.0.0")
    publish(registry, make_source(tmp_path, KERNEL, {"generic": {}, "sm_86": {}}, version="1.1.0"))

    result = run_cli("update", KERNEL)

    assert result.exit_code == 0, result.output
    assert f"updated {KERNEL} 1.1.0 (sm_86)" in result.stdout
    [entry] = lock_entries(isolated.lockfile)
    assert (entry["version"], entry["target"], entry["capability"]) == ("1.1.0", "sm_86", "8.6")
    assert "sm_86 target" in (isolated.skills / KERNEL / "SKILL.md").read_text()
    assert not (isolated.skills / KERNEL / "references" / "ampere.md").exists()


def test_update_keeps_the_requirement(isolated, tmp_path: Path, registry: Path, make_source, publish) -> None:
    install_lib(isolated, registry, f"{KERNEL}<2")
    publish(registry, make_source(tmp_path, KERNEL, {"generic": {}}, version="2.0.0"))
    [(resolution, result)] = installer.update(isolated.lockfile, names=[], capability=None, cache=ArtifactCache())
    assert (resolution.version, result.changed) == ("1.0.0", False)


def test_update_of_a_skill_not_installed(isolated) -> None:
    with pytest.raises(InstallError, match="not installed: nope"):
        installer.update(isolated.lockfile, names=["nope"], capability=None, cache=ArtifactCache())


def test_remove_deletes_the_directory_and_the_entry(isolated, registry: Path, run_cli) -> None:
    run_cli("install", KERNEL, "doc-writer", "--arch", "9.0", "--registry", registry)

    result = run_cli("remove", KERNEL)

    assert result.exit_code == 0, result.output
    assert f"removed {KERNEL} 1.0.0" in result.stdout
    assert not (isolated.skills / KERNEL).exists()
    assert (isolated.skills / "doc-writer" / "SKILL.md").is_file()
    assert [entry["name"] for entry in lock_entries(isolated.lockfile)] == ["doc-writer"]
    with pytest.raises(InstallError, match="is not installed"):
        removal.remove(isolated.lockfile, KERNEL)


@pytest.mark.parametrize(
    ("installed_for", "listed_for", "suits"),
    [("9.0", "9.0", "yes"), ("9.0", "8.0", "no: "), ("8.6", "8.9", "yes"), ("8.6", "9.0", "no: "), ("12.0", "8.0", "yes")],
)
def test_list_says_whether_each_skill_suits_the_gpu(
    isolated, registry: Path, run_cli, installed_for: str, listed_for: str, suits: str
) -> None:
    run_cli("install", KERNEL, "--arch", installed_for, "--registry", registry)

    [row] = json.loads(run_cli("list", "--json", "--arch", listed_for).stdout)
    text = run_cli("list", "--arch", listed_for).stdout

    assert row["suits"].startswith(suits) and row["present"] is True
    assert row["suits"] in text and KERNEL in text


def test_list_with_nothing_installed(isolated, run_cli) -> None:
    result = run_cli("list", "--arch", "9.0")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no skills installed" in result.stderr


# --- which registry -------------------------------------------------------------------------------


def test_skillpm_registry_env_var(isolated, registry: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_REGISTRY", str(registry))
    result = run_cli("install", KERNEL, "--arch", "9.0")
    assert result.exit_code == 0, result.output
    assert lock_entries(isolated.lockfile)[0]["registry"] == registry.resolve().as_uri()


def test_file_urls_work_and_sync_reopens_them(isolated, registry: Path, run_cli) -> None:
    url = registry.resolve().as_uri()
    assert url.startswith("file:///")
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", url).exit_code == 0
    (isolated.skills / KERNEL / "SKILL.md").unlink()
    assert run_cli("sync").exit_code == 0
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()


# --- atomic writes and directory swaps ----------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.txt"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_write_failure_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def make_tree(root: Path, text: str) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "file.txt").write_text(text)


def test_replace_dir_puts_the_new_tree_in_place(tmp_path: Path, snapshot) -> None:
    final = tmp_path / "skills" / "demo"
    make_tree(final, "old")
    staged = staging_dir(final)
    assert staged.parent.parent == final.parent and staged.parent.name.startswith(".demo.")
    make_tree(staged, "new")

    replace_dir(staged, final)
    discard(staged)

    assert snapshot(tmp_path / "skills") == {"demo/sub/file.txt": b"new"}
    assert [p.name for p in (tmp_path / "skills").iterdir()] == ["demo"]


def test_replace_dir_into_an_absent_final(tmp_path: Path, snapshot) -> None:
    final = tmp_path / "skills" / "demo"
    staged = staging_dir(final)
    make_tree(staged, "new")
    replace_dir(staged, final)
    discard(staged)
    assert snapshot(tmp_path / "skills") == {"demo/sub/file.txt": b"new"}


def test_replace_dir_failure_keeps_the_old_tree(tmp_path: Path, snapshot) -> None:
    final = tmp_path / "skills" / "demo"
    make_tree(final, "old")
    before = snapshot(tmp_path / "skills")

    with pytest.raises(FileNotFoundError):
        replace_dir(tmp_path / "skills" / ".demo.missing.new", final)

    assert snapshot(tmp_path / "skills") == before
    assert [p.name for p in (tmp_path / "skills").iterdir()] == ["demo"]


# --- what install, sync, update and remove may change: --allow-outside and --force --------------------------------------


def hostile_lockfile(isolated, run_cli, make_source, publish, tmp_path: Path, directory: str) -> None:
    """A cloned repository: a registry folder inside it serving 'bin', and a skills.lock installing it at ``directory``."""
    inside = isolated.project / "vendor" / "registry"
    store.init(inside)
    publish(inside, make_source(tmp_path, "bin", {"generic": {"bin/tool": "#!/bin/sh\necho pwned\n"}}))
    assert run_cli("install", "bin", "--registry", inside, "--arch", "12.0", "--copy", "--agent", "claude-code").exit_code == 0
    shutil.rmtree(isolated.claude_skills / "bin")
    text = isolated.lockfile.read_text()
    isolated.lockfile.write_text(text.replace('directory = ".claude/skills/bin"', f"directory = {json.dumps(directory)}"))


def victim_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "tool").write_text("#!/bin/sh\necho mine\n")
    return folder


def test_sync_refuses_a_directory_outside_the_project(isolated, run_cli, make_source, publish, tmp_path, snapshot) -> None:
    victim = victim_folder(isolated.home / ".local" / "bin")
    hostile_lockfile(isolated, run_cli, make_source, publish, tmp_path, str(victim))
    before = snapshot(isolated.home)

    for command in (["sync"], ["update"], ["remove", "bin"]):
        result = run_cli(*command)
        assert result.exit_code == 1
        assert "outside the project" in result.exception.message and "--allow-outside" in result.exception.hint
    for command in (["sync"], ["remove", "bin"]):
        result = run_cli(*command, "--allow-outside")
        assert result.exit_code == 1
        assert "does not look like a skill skillpm installed" in result.exception.message
        assert "--force" in result.exception.hint
    assert snapshot(isolated.home) == before

    result = run_cli("sync", "--allow-outside", "--force")  # the user's explicit choice
    assert result.exit_code == 0, result.output
    assert (victim / "SKILL.md").is_file() and not (victim / "tool").exists()


def test_sync_refuses_a_directory_reached_through_a_link_out_of_the_project(
    isolated, run_cli, make_source, publish, tmp_path, snapshot
) -> None:
    victim_folder(isolated.home / ".local" / "bin")
    (isolated.project / "tools").symlink_to(isolated.home / ".local")
    hostile_lockfile(isolated, run_cli, make_source, publish, tmp_path, "tools/bin")
    before = snapshot(isolated.home)

    result = run_cli("sync")

    assert result.exit_code == 1 and "outside the project" in result.exception.message
    assert snapshot(isolated.home) == before


def test_sync_replaces_only_folders_that_look_like_skills(isolated, run_cli, make_source, publish, tmp_path, snapshot) -> None:
    victim = victim_folder(isolated.project / "scripts" / "bin")
    hostile_lockfile(isolated, run_cli, make_source, publish, tmp_path, "scripts/bin")
    before = snapshot(victim)

    install = ["install", "bin", "--registry", "vendor/registry", "--dir", "scripts"]
    for command in (["sync"], ["update"], ["remove", "bin"], install):
        result = run_cli(*command)
        assert result.exit_code == 1, command
        assert "does not look like a skill skillpm installed (no SKILL.md)" in result.exception.message
        assert snapshot(victim) == before

    assert run_cli("sync", "--force").exit_code == 0
    assert (victim / "SKILL.md").is_file() and not (victim / "tool").exists()
    (victim / "SKILL.md").unlink()  # a damaged install (only files of the skill left) is repaired without --force
    assert run_cli("sync").exit_code == 0 and (victim / "SKILL.md").is_file()


def link_skills_folder(isolated, target: Path) -> Path:
    """Make the project's .agents/skills a link to ``target``, a new empty folder; returns ``target``."""
    target.mkdir(parents=True)
    isolated.skills.parent.mkdir()
    isolated.skills.symlink_to(target, target_is_directory=True)
    return target


def test_install_refuses_a_skills_folder_linked_out_of_the_project(
    isolated, registry: Path, run_cli, run_skillpm, snapshot
) -> None:
    assert run_cli("install", "doc-writer", "--registry", registry, "--copy").exit_code == 0
    outside = link_skills_folder(isolated, isolated.tmp / "outside")
    before = snapshot(isolated.project)

    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", registry)

    assert_one_error(result, contains="outside the project", hint="--allow-outside")
    with pytest.raises(InstallError, match="outside the project"):
        install_lib(isolated, registry)
    assert snapshot(isolated.project) == before and list(outside.iterdir()) == []


def test_install_allow_outside_follows_the_link_and_sync_needs_it_too(isolated, registry: Path, run_cli) -> None:
    outside = link_skills_folder(isolated, isolated.tmp / "outside")

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--allow-outside")

    assert result.exit_code == 0, result.output
    assert (outside / KERNEL / "SKILL.md").is_file()
    assert [entry["directory"] for entry in lock_entries(isolated.lockfile)] == [f".agents/skills/{KERNEL}"]
    assert (isolated.claude_skills / KERNEL).resolve() == outside / KERNEL
    shutil.rmtree(outside / KERNEL)
    assert "outside the project" in run_cli("sync").exception.message
    assert run_cli("sync", "--allow-outside").exit_code == 0
    assert (outside / KERNEL / "SKILL.md").is_file()


def test_install_through_a_link_inside_the_project_needs_no_flag(isolated, registry: Path, run_cli) -> None:
    inside = link_skills_folder(isolated, isolated.project / "shared" / "skills")

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry)

    assert result.exit_code == 0, result.output
    assert (inside / KERNEL / "SKILL.md").is_file()
    assert run_cli("sync").exit_code == 0


def test_install_dir_outside_the_project_keeps_its_own_lockfile(isolated, registry: Path, run_cli, monkeypatch) -> None:
    """--dir outside the project needs no flag and leaves the project's skills.lock alone: DIR gets its own
    (as `npm install --prefix DIR` does), where list and remove find the skill."""
    elsewhere = (isolated.tmp / "elsewhere").resolve()

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--dir", elsewhere)

    assert result.exit_code == 0, result.output
    assert not isolated.lockfile.exists()
    assert [entry["directory"] for entry in lock_entries(elsewhere / "skills.lock")] == [KERNEL]
    monkeypatch.chdir(elsewhere)
    assert KERNEL in run_cli("list").output
    assert run_cli("remove", KERNEL).exit_code == 0
    assert not (elsewhere / KERNEL).exists() and KERNEL not in (elsewhere / "skills.lock").read_text()


def test_install_dir_outside_the_project_with_save_is_recorded_in_the_project(isolated, registry: Path, run_cli) -> None:
    """--save asks for the project's skills.lock: an absolute path there, which sync checks."""
    elsewhere = (isolated.tmp / "elsewhere").resolve()

    result = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--dir", elsewhere, "--save")

    assert result.exit_code == 0, result.output
    assert [entry["directory"] for entry in lock_entries(isolated.lockfile)] == [str(elsewhere / KERNEL)]
    assert not (elsewhere / "skills.lock").exists()
    assert run_cli("sync").exit_code == 1
    assert run_cli("sync", "--allow-outside").exit_code == 0
    refused = run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--save")
    assert refused.exit_code == 2 and "give it with --dir" in refused.output


# --- sync and update: --offline, and the install policy ---------------------------------------------------------


def test_sync_and_update_take_offline(isolated, served, run_cli) -> None:
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    served.stop()
    (isolated.skills / KERNEL / "SKILL.md").unlink()

    result = run_cli("sync", "--offline")

    assert result.exit_code == 0, result.output
    assert (isolated.skills / KERNEL / "SKILL.md").is_file()
    result = run_cli("update", "--offline")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"already up to date: {KERNEL} 1.0.0")


def test_sync_checks_every_skill_s_attestations_before_installing_any(
    isolated, registry: Path, tmp_path: Path, make_source, run_cli
) -> None:
    """'attested' (signed eval evidence) sorts before kernel-helper (no attestations)."""
    from test_publish import digests, make_evidence, write_json

    from skillpm.attest.keys import generate
    from skillpm.publish import KeySigner, publish

    key = generate()
    public = tmp_path / "me.pub"
    public.write_bytes(key.public.pem())
    source = make_source(tmp_path, "attested")
    evidence = make_evidence("eval", name="attested", target="generic", sha256=digests(source, tmp_path)["generic"])
    publish(source, registry, evidence=[write_json(tmp_path / "eval.json", evidence)], signer=KeySigner(key))
    policy = ["--require-attestations", "--trusted-key", public]
    assert run_cli("install", "attested", "--arch", "9.0", "--registry", registry, *policy).exit_code == 0
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry).exit_code == 0
    for name in ("attested", KERNEL):
        shutil.rmtree(isolated.skills / name)

    for command in ("sync", "update"):
        result = run_cli(command, *policy)
        assert result.exit_code == 1
        assert f"{KERNEL} 1.0.0 (sm_90a) from" in result.exception.message
        assert not (isolated.skills / "attested").exists()  # not even the skill that passed

    assert run_cli("sync", *policy[1:]).exit_code == 0
    assert (isolated.skills / "attested" / "SKILL.md").is_file()


# --- an archive must hold what the index says it holds -------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "locked", "swapped_in"),
    [
        (("--arch", "9.0"), ("1.0.0", "sm_90a"), ("1.0.0", "generic")),  # another target of the same version
        (("--arch", "7.0"), ("1.0.0", "generic"), ("2.0.0", "generic")),  # another version of the same target
    ],
    ids=["target", "version"],
)
def test_an_index_entry_pointing_at_another_variant_s_archive_is_refused(
    isolated, registry: Path, make_source, publish, tmp_path: Path, run_skillpm, arch, locked, swapped_in
) -> None:
    """The index's path and digest are the registry's word; the archive's own metadata must agree on all three."""
    publish(registry, make_source(tmp_path, KERNEL, {"generic": {}}, version="2.0.0"))
    document_path = registry / KERNEL_DOC
    document = json.loads(document_path.read_text())
    entries = {
        (version["version"], variant["target"]): variant
        for version in document["versions"]
        for variant in version["variants"]
    }
    entries[locked].update({key: entries[swapped_in][key] for key in ("path", "sha256", "size")})
    document_path.write_text(json.dumps(document))

    result = run_skillpm("install", f"{KERNEL}==1.0.0", *arch, "--registry", registry)

    assert_one_error(result, contains=f"holds {KERNEL} {' '.join(swapped_in)}, not {KERNEL} {' '.join(locked)}")
    assert not isolated.skills.exists() and not isolated.lockfile.exists()


def test_sync_places_again_a_skill_nested_in_one_it_rewrites(isolated, registry: Path, run_cli) -> None:
    """A hand-made skills.lock may nest one skill's directory in another's: rewriting the outer tree
    takes the inner one with it, so the inner skill is placed again, not taken as already in place."""
    assert run_cli("install", KERNEL, "doc-writer", "--arch", "8.6", "--registry", registry, "--copy").exit_code == 0
    where = {entry["name"]: entry["directory"] for entry in lock_entries(isolated.lockfile)}
    outer = isolated.project / where["doc-writer"]
    inner = outer / KERNEL
    shutil.move(isolated.project / where[KERNEL], inner)
    text = isolated.lockfile.read_text()
    isolated.lockfile.write_text(text.replace(f'"{where[KERNEL]}"', f'"{where["doc-writer"]}/{KERNEL}"'))
    (outer / "SKILL.md").write_text("changed by hand\n")  # not the locked tree: sync rewrites the outer folder

    result = run_cli("sync")

    assert result.exit_code == 0, result.output
    assert f"installed {KERNEL} 1.0.0 (sm_80)" in result.stdout and "installed doc-writer" in result.stdout
    assert (inner / "SKILL.md").is_file() and (outer / "SKILL.md").read_text() != "changed by hand\n"
