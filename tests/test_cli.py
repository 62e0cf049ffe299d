"""Tests for the ``skillpm`` command line: the error contract, --json documents and --help.

The error contract runs the real console script in a subprocess: one ``error:``
line (and at most one ``hint:`` line) on stderr, no traceback, a non-zero exit,
and nothing written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from skillpm.cli import cli

KERNEL = "kernel-helper"


def assert_one_error(result, *, contains: str, hint: str | None = None, exit_code: int | None = None) -> None:
    """The error contract: ``error: ...`` (plus ``hint: ...``) on stderr, nothing else, non-zero exit."""
    lines = result.stderr.splitlines()
    assert result.returncode != 0
    if exit_code is not None:
        assert result.returncode == exit_code
    assert "Traceback" not in result.stderr
    assert lines and lines[0].startswith("error: "), result.stderr
    assert contains in lines[0], result.stderr
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:]), result.stderr
    if hint is not None:
        assert len(lines) == 2 and hint in lines[1], result.stderr
    assert result.stdout == ""


@pytest.fixture
def project_with_install(isolated, registry: Path, run_skillpm, snapshot):
    """A project with doc-writer installed; returns a function that snapshots it."""
    done = run_skillpm("install", "doc-writer", "--arch", "9.0", "--registry", registry)
    assert done.returncode == 0, done.stderr
    assert isolated.lockfile.is_file()
    return lambda: snapshot(isolated.tmp / "project")


def test_unknown_package_suggests_a_near_name(project_with_install, registry: Path, run_skillpm) -> None:
    before = project_with_install()
    result = run_skillpm("install", "kernel-helpr", "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="no package named 'kernel-helpr'", hint=f"did you mean {KERNEL}?", exit_code=1)
    assert project_with_install() == before


def test_no_variant_for_the_target_lists_variants(
    project_with_install, tmp_path: Path, registry: Path, make_source, publish, run_skillpm
) -> None:
    publish(registry, make_source(tmp_path, "hopper-tuning", {"sm_90a": {}}))
    before = project_with_install()
    result = run_skillpm("install", "hopper-tuning", "--arch", "8.0", "--registry", registry)
    assert_one_error(result, contains="no variant of hopper-tuning suits capability 8.0", hint="--arch")
    assert "sm_90a" in result.stderr.splitlines()[0]
    assert project_with_install() == before


def test_json_explain_when_no_variant_suits_gives_the_candidates_in_the_error_object(
    tmp_path: Path, registry: Path, make_source, publish, run_skillpm
) -> None:
    """--json --explain on a resolve that finds nothing: the error object holds the candidates and why each was
    skipped, as --explain prints them without --json (it held error, hint and code alone)."""
    publish(registry, make_source(tmp_path, "hopper-tuning", {"sm_90a": {}}))
    explained = run_skillpm("resolve", "hopper-tuning", "--arch", "8.0", "--registry", registry, "--json", "--explain")
    error = json.loads(explained.stdout)
    assert explained.returncode == 1 and error["code"] == 1
    assert error["error"].startswith("no variant of hopper-tuning suits capability 8.0")
    [candidate] = error["candidates"]
    assert (candidate["version"], candidate["target"], candidate["taken"]) == ("1.0.0", "sm_90a", False)
    assert candidate["reason"].startswith("skipped: ")
    plain = run_skillpm("resolve", "hopper-tuning", "--arch", "8.0", "--registry", registry, "--json")
    assert set(json.loads(plain.stdout)) == {"error", "hint", "code"}


def test_bad_version_specifier(project_with_install, registry: Path, run_skillpm) -> None:
    before = project_with_install()
    result = run_skillpm("install", f"{KERNEL}>>1", "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="invalid version specifier '>>1'", hint="PEP 440", exit_code=2)
    assert project_with_install() == before


def test_corrupt_index(project_with_install, registry: Path, run_skillpm) -> None:
    (registry / "index" / "ke" / "rn" / f"{KERNEL}.json").write_text("{ this is not json")
    before = project_with_install()
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="is corrupt: not valid JSON", hint="skillpm registry rebuild")
    assert project_with_install() == before


def test_unknown_index_format_version(project_with_install, registry: Path, run_skillpm) -> None:
    config = registry / "config.json"
    config.write_text(config.read_text().replace('"format-version": 1', '"format-version": 7'))
    before = project_with_install()
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="index format version 7 is not supported", hint="upgrade skillpm")
    assert project_with_install() == before


def test_digest_mismatch(project_with_install, isolated, registry: Path, run_skillpm) -> None:
    path = registry / "artifacts" / KERNEL / "1.0.0" / f"{KERNEL}-1.0.0-sm_90a.tar.gz"
    path.write_bytes(path.read_bytes() + b"\0")
    before = project_with_install()
    result = run_skillpm("install", KERNEL, "--arch", "9.0", "--registry", registry)
    assert_one_error(result, contains="digest mismatch", hint="tell its owner")
    assert project_with_install() == before
    cached = [p for p in (isolated.cache / "artifacts").rglob("*") if p.is_file()]
    assert len(cached) == 1  # doc-writer's artifact only; the bad download was not cached


def test_invalid_skill_on_pack(isolated, tmp_path: Path, make_source, run_skillpm) -> None:
    source = make_source(tmp_path, "broken-skill", {"generic": {"SKILL.md": "---\nname: other-name\n---\nbody\n"}})
    result = run_skillpm("pack", source, "-o", isolated.project / "dist")
    assert_one_error(result, contains="is not a valid skill", hint="skillpm validate")
    assert not (isolated.project / "dist").exists()
    assert sorted(p.name for p in isolated.project.iterdir()) == [".git"]


def test_validate_exit_code_from_the_console_script(isolated, tmp_path: Path, make_source, run_skillpm) -> None:
    bad = make_source(tmp_path, "bad-skill", {"generic": {"SKILL.md": "---\nname: Bad_Name\n---\n"}})
    good = make_source(tmp_path, "good-skill")
    failed = run_skillpm("validate", bad)
    assert failed.returncode == 1 and "invalid (" in failed.stdout and "Traceback" not in failed.stderr
    assert run_skillpm("validate", good).returncode == 0
    assert run_skillpm("validate", good, bad, "--json").returncode == 1


def test_an_os_error_is_one_line(isolated, run_skillpm) -> None:
    (isolated.project / "a-file").write_text("")
    result = run_skillpm("registry", "init", isolated.project / "a-file" / "reg")
    assert_one_error(result, contains="a-file", exit_code=1)


def test_verbose_shows_the_cause_chain_and_no_traceback(isolated, run_skillpm) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    assert run_skillpm("registry", "add-remote", "dead", dead).returncode == 0
    result = run_skillpm("-v", "install", "doc-writer", "--arch", "9.0")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: GET {dead}/config.json failed 1 time") and lines[1].startswith("hint: ")
    assert lines[2].startswith(f"cause: RegistryUnreachable: GET {dead}/config.json failed 1 time"), lines


def test_usage_errors_exit_2(isolated, run_skillpm) -> None:
    result = run_skillpm("install")
    assert_one_error(result, contains="missing argument 'REQUIREMENTS...'", hint="skillpm install --help", exit_code=2)


# --- --json documents -----------------------------------------------------------------------------


def json_of(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_resolve_json(isolated, registry: Path, run_cli) -> None:
    data = json_of(run_cli("resolve", KERNEL, "--arch", "8.6", "--registry", registry, "--json", "--explain"))
    assert (data["name"], data["version"], data["target"]) == (KERNEL, "1.0.0", "sm_80")
    assert len(data["sha256"]) == 64 and data["capability"] == "8.6"
    taken = [c["target"] for c in data["candidates"] if c["taken"]]
    assert taken == ["sm_80"]


def test_resolve_explain_text(isolated, registry: Path, run_cli) -> None:
    result = run_cli("resolve", KERNEL, "--arch", "9.0", "--registry", registry, "--explain")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{KERNEL} 1.0.0 sm_90a  sha256:")
    assert "usable, but sm_90a ranks higher" in result.stdout


def test_info_json_and_text(isolated, registry: Path, run_cli) -> None:
    data = json_of(run_cli("info", KERNEL, "--registry", registry, "--json"))
    assert data["name"] == KERNEL and data["registry"] == registry.resolve().as_uri()
    assert [v["target"] for v in data["versions"][0]["variants"]] == ["generic", "sm_80", "sm_90a"]
    text = run_cli("info", KERNEL, "--registry", registry).stdout
    assert "license: Apache-2.0" in text and "sm_90a" in text


def test_search_json(isolated, registry: Path, run_cli) -> None:
    assert [e["name"] for e in json_of(run_cli("search", "cuda", "--registry", registry, "--json"))] == [KERNEL]
    assert json_of(run_cli("search", "no-such-word", "--registry", registry, "--json")) == []
    assert "no package matches" in run_cli("search", "no-such-word", "--registry", registry).stderr


def test_list_json(isolated, registry: Path, run_cli) -> None:
    run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry)
    [row] = json_of(run_cli("list", "--json", "--arch", "9.0"))
    assert (row["name"], row["target"], row["suits"], row["present"]) == (KERNEL, "sm_90a", "yes", True)


def test_install_and_remove_json(isolated, registry: Path, run_cli) -> None:
    [installed] = json_of(run_cli("install", KERNEL, "--arch", "9.0", "--registry", registry, "--json"))
    assert (installed["target"], installed["changed"]) == ("sm_90a", True)
    [removed] = json_of(run_cli("remove", KERNEL, "--json"))
    assert removed["name"] == KERNEL


def test_pack_and_validate_json(isolated, tmp_path: Path, make_source, run_cli) -> None:
    source = make_source(tmp_path, "json-skill", {"generic": {}, "sm_90": {}})
    validated = json_of(run_cli("validate", source, "--json"))
    assert validated["valid"] is True and validated["results"][0]["path"] == str(source)

    packed = json_of(run_cli("pack", source, "-o", tmp_path / "dist", "--json"))
    assert [p["target"] for p in packed] == ["generic", "sm_90"]
    for item in packed:
        assert Path(item["path"]).stat().st_size == item["size"] and len(item["sha256"]) == 64


def test_validate_json_reports_errors(isolated, tmp_path: Path, make_source, run_cli) -> None:
    source = make_source(tmp_path, "bad-skill", {"generic": {"SKILL.md": "no front matter\n"}})
    result = run_cli("validate", source, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["results"][0]["findings"]


def test_the_hint_when_no_variant_suits_says_what_would(
    project_with_install, tmp_path: Path, registry: Path, make_source, publish, run_skillpm, run_cli
) -> None:
    """'pass --arch' was the hint whatever the cause: with --arch given it points at --explain, and when
    every variant that matches is yanked it says that pinning the version installs it anyway."""
    publish(registry, make_source(tmp_path, "hopper-tuning", {"sm_90a": {}}))
    other_gpu = run_skillpm("install", "hopper-tuning>=1", "--arch", "8.0", "--registry", registry)
    assert_one_error(other_gpu, contains="no variant of hopper-tuning suits capability 8.0",
                     hint="'skillpm resolve \"hopper-tuning>=1\" --arch 8.0 --explain' says why each was skipped")
    no_gpu = run_skillpm("resolve", "hopper-tuning", "--registry", registry)
    assert no_gpu.returncode == 1 and "suits a machine with no GPU detected" in no_gpu.stderr  # after the note
    assert no_gpu.stderr.splitlines()[-1] == "hint: pass --arch to choose a GPU, e.g. --arch 9.0 or --arch h100"

    assert run_cli("registry", "yank", registry, "hopper-tuning==1.0.0").exit_code == 0
    yanked = run_skillpm("install", "hopper-tuning", "--arch", "9.0", "--registry", registry)
    assert_one_error(yanked, contains="no variant of hopper-tuning suits capability 9.0 (variants: sm_90a)",
                     hint="every variant that matches is yanked; pin a version ('hopper-tuning==VERSION')")
    assert run_skillpm("install", "hopper-tuning==1.0.0", "--arch", "9.0", "--registry", registry).returncode == 0


def test_registry_commands(isolated, tmp_path: Path, make_source, run_cli) -> None:
    reg = tmp_path / "newreg"
    assert run_cli("registry", "init", reg).exit_code == 0
    packed = json_of(run_cli("pack", make_source(tmp_path, "cli-skill"), "-o", tmp_path / "d", "--json"))
    [added] = json_of(run_cli("registry", "add", reg, packed[0]["path"], "--json"))
    assert added["new"] is True and added["sha256"] == packed[0]["sha256"]
    assert "already published" in run_cli("registry", "add", reg, packed[0]["path"]).stdout
    assert "yanked cli-skill 1.0.0: generic" in run_cli("registry", "yank", reg, "cli-skill==1.0.0").stdout
    assert "1 package(s)" in run_cli("registry", "rebuild", reg).stdout
    assert json_of(run_cli("info", "cli-skill", "--registry", reg, "--json"))["versions"][0]["variants"][0]["yanked"]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    """Every command and group under ``group`` (itself included) by its path of names, lazy ones too."""
    found: dict[tuple[str, ...], click.Command] = {prefix: group}
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if isinstance(command, click.Group):
            found |= all_commands(command, (*prefix, name))
        elif command is not None:
            found[(*prefix, name)] = command
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=lambda path: " ".join(path) or "skillpm")
def test_help_of_every_command(path: tuple[str, ...], run_cli) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


def test_version_option(run_skillpm) -> None:
    result = run_skillpm("--version")
    assert result.returncode == 0 and result.stdout.startswith("skillpm, version ")


def test_help_lists_commands_with_their_own_first_line() -> None:
    """The one-line help in COMMANDS (used by --help without importing) matches each command's docstring."""
    from skillpm.cli import COMMANDS, cli

    for name, (_, summary) in COMMANDS.items():
        command = cli.get_command(None, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=500) == summary, name


def test_help_imports_no_command_module() -> None:
    code = "import sys; from skillpm.cli import main; sys.argv = ['skillpm', '--help']\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith('skillpm.cli.')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --- start-up: what the everyday commands import ------------------------------------------------------------

#: Imported only by the commands that need them, never by --help, resolve or install (start-up time).
HEAVY = ("pydantic", "sigstore", "httpx", "httpcore", "torch", "cryptography", "jsonschema", "jsonschema_rs", "yaml")


def _imported_by(args: list[str], packages: tuple[str, ...]) -> list[str]:
    """Run ``skillpm ARGS`` in a fresh interpreter; the modules of ``packages`` it imported."""
    code = (
        "import json, sys\nfrom skillpm.cli import main\n"
        f"sys.argv = {['skillpm', *args]!r}\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], ()),
        (["resolve", "kernel-builder-cuda", "--arch", "9.0"], ()),  # from the embedded registry
        (["resolve", KERNEL, "--arch", "9.0", "--registry", "REGISTRY"], ()),  # an unsigned one given by path
        (["install", KERNEL, "--arch", "9.0", "--registry", "REGISTRY"], ()),  # unsigned: nothing to verify
        (["validate", "SKILL"], ()),  # a plain SKILL.md folder: no manifest to check
        (["validate", "SOURCE"], ("jsonschema_rs",)),  # skillpm init's skeleton: its skillpm.toml, by its schema
        # the skeleton's skill_meta.json too (its test-set digest goes into the archive)
        (["pack", "SOURCE", "-o", "OUT"], ("jsonschema_rs",)),
        (["publish", "SOURCE", "--registry", "NEW_REGISTRY"], ("jsonschema_rs",)),
        # cases that name skillpm's validators: their validator_config is checked by its schema too
        (["pack", "CHECKED", "-o", "OUT"], ("jsonschema_rs",)),
        (["publish", "CHECKED", "--registry", "NEW_REGISTRY"], ("jsonschema_rs",)),
    ],
    ids=["--help", "resolve", "resolve --registry DIR", "install --registry DIR", "validate", "validate source", "pack",
         "publish", "pack with validators", "publish with validators"],
)
def test_everyday_commands_import_nothing_heavy(
    args: list[str], allowed: tuple[str, ...], isolated, registry: Path, tmp_path: Path, run_cli
) -> None:
    skill = tmp_path / "plain"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: plain\ndescription: A plain skill for a test.\n---\n# Plain\n")
    source = tmp_path / "source"
    assert run_cli("init", source).exit_code == 0
    assert (source / "skill_meta.json").is_file()
    checked = tmp_path / "checked"
    assert run_cli("init", checked).exit_code == 0
    (checked / "skill_meta.json").write_text(json.dumps({"tests": [
        {"input": "q", "expected": {"contains": "x"}, "validator": "regex", "validator_config": {"pattern": "x+"}},
        {"input": "k", "expected": {"contains": []}, "validator": "cuda_kernel",
         "validator_config": {"kernel": "k", "arch": "sm_90a", "timeout_s": 30, "elements_per_thread": 4,
                              "max_sass_per_element": 8, "max_sass_per_element.sm_100a": 6}},
    ]}))
    assert run_cli("registry", "init", tmp_path / "new-registry").exit_code == 0
    places = {"REGISTRY": registry, "SKILL": skill, "SOURCE": source, "CHECKED": checked, "OUT": tmp_path / "dist",
              "NEW_REGISTRY": tmp_path / "new-registry"}
    args = [str(places.get(arg, arg)) for arg in args]
    imported = _imported_by(args, (*HEAVY, "email"))
    assert "email.utils" not in imported  # which jsonschema-rs's init would load (schemacheck._jsonschema_rs)
    assert [name for name in imported if name.split(".")[0] not in (*allowed, "email")] == []


def test_installing_signed_evidence_imports_only_what_verifying_it_needs(isolated) -> None:
    """The embedded registry's evidence is signed (Ed25519): install loads cryptography's key and
    Ed25519 modules and jsonschema-rs for the predicate, but not ECDSA's, the PEM/SSH serialization package,
    the pure-Python jsonschema, sigstore, httpx or pydantic."""
    imported = _imported_by(["install", "kernel-builder-cuda", "--arch", "9.0"], (*HEAVY, "email"))
    assert "email.utils" not in imported  # a quarter of 'import click', for jsonschema-rs's own build date
    imported = [name for name in imported if not name.startswith("email")]
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in imported
    assert "cryptography.hazmat.primitives.serialization" not in imported
    assert "cryptography.hazmat.primitives.asymmetric.ec" not in imported  # the key is Ed25519
    assert [name for name in imported if name.split(".")[0] not in ("cryptography", "jsonschema_rs")] == []
    assert "jsonschema_rs" in imported


def test_syncing_what_is_already_in_place_verifies_nothing(isolated, run_skillpm) -> None:
    """sync of an up-to-date project (the embedded registry's signed evidence, no policy requirement) decides
    nothing, so it loads neither cryptography nor a schema validator."""
    assert run_skillpm("install", "kernel-builder-cuda", "--arch", "9.0").returncode == 0
    assert _imported_by(["sync"], HEAVY) == []
    assert "already up to date: kernel-builder-cuda" in run_skillpm("sync").stdout


@pytest.mark.parametrize("command", [["validate"], ["pack", "-o", "OUT"]], ids=["validate", "pack"])
def test_a_skeletons_plain_version_is_checked_without_packaging(isolated, run_cli, tmp_path: Path, command) -> None:
    """A version such as 0.1.0 is PEP 440 and public without compiling packaging's grammar (9 M instructions),
    which only reading an index needs (it orders versions)."""
    source = tmp_path / "source"
    assert run_cli("init", source).exit_code == 0
    args = [command[0], str(source), *(str(tmp_path / "dist") if arg == "OUT" else arg for arg in command[1:])]
    assert _imported_by(args, ("packaging",)) == []


def test_a_project_of_registry_skills_loads_no_source_module(isolated, run_skillpm) -> None:
    """outdated, sync and remove read skills.lock's registry labels; only a source's label (KIND+URL) needs the
    source modules, which cost outdated 0.03 of 'import click'."""
    assert run_skillpm("install", "kernel-builder-cuda", "--arch", "9.0").returncode == 0
    for args in (["outdated"], ["sync"]):
        assert [name for name in _imported_by(args, ("skillpm",)) if name.startswith("skillpm.sources.")] == []


@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs finds the user directories elsewhere")
def test_resolve_from_the_embedded_registry_imports_no_platformdirs(isolated) -> None:
    assert _imported_by(["resolve", "kernel-builder-cuda", "--arch", "9.0"], ("platformdirs",)) == []


# --- --arch takes what people type or paste --------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "target"),
    [
        ("NVIDIA H100 80GB HBM3", "sm_90a"),
        ("hopper", "sm_90a"),
        ("compute_90", "sm_90a"),
        ("NVIDIA RTX A6000", "sm_80"),
        ("ampere", "sm_80"),
        ("Tesla V100-SXM2-16GB", "generic"),
        ("rtx pro 6000", "generic"),
    ],
)
def test_arch_takes_nvidia_smi_names_products_and_generations(isolated, registry, run_skillpm, arch, target) -> None:
    result = run_skillpm("resolve", "kernel-helper", "--arch", arch, "--registry", registry, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["target"] == target


def test_an_arch_no_gpu_has_is_refused_naming_the_nearest(isolated, registry, run_skillpm) -> None:
    result = run_skillpm("resolve", "kernel-helper", "--arch", "9.1", "--registry", registry)
    assert_one_error(result, contains="no GPU has compute capability 9.1; the nearest known: 9.0 or 10.0")


# --- names as people type them, and the commands' other names ----------------------------------------------


@pytest.mark.parametrize("typed", ["kernel_helper", "Kernel-Helper", "KERNEL.HELPER", "kernel-helper/"])
def test_names_are_normalised_as_pep_503_says(isolated, registry, run_skillpm, typed: str) -> None:
    installed = run_skillpm("install", typed, "--arch", "9.0", "--registry", registry)
    assert installed.returncode == 0, installed.stderr
    assert (isolated.skills / "kernel-helper" / "SKILL.md").is_file()
    updated = run_skillpm("update", typed, "--arch", "9.0")
    assert updated.returncode == 0, updated.stderr
    removed = run_skillpm("remove", typed)
    assert removed.returncode == 0, removed.stderr
    assert not (isolated.skills / "kernel-helper").exists()


@pytest.mark.parametrize("alias", ["uninstall", "rm"])
def test_uninstall_and_rm_are_remove(isolated, registry, run_skillpm, alias: str) -> None:
    assert run_skillpm("install", "doc-writer", "--registry", registry).returncode == 0
    result = run_skillpm(alias, "doc-writer", "--json")
    assert result.returncode == 0, result.stderr
    assert [entry["name"] for entry in json.loads(result.stdout)] == ["doc-writer"]
    assert not (isolated.skills / "doc-writer").exists() and "doc-writer" not in isolated.lockfile.read_text()


@pytest.mark.parametrize(("typed", "versions"), [("Kernel_Helper", ["1.0.0", "2.0.0"]), ("kernel-helper==1.0.0", ["1.0.0"]), ("kernel-helper>1", ["2.0.0"])])
def test_info_takes_a_name_as_typed_and_a_specifier(
    isolated, registry, make_source, publish, tmp_path, run_skillpm, typed: str, versions: list[str]
) -> None:
    publish(registry, make_source(tmp_path, "kernel-helper", {"generic": {}}, version="2.0.0"))
    result = run_skillpm("info", typed, "--registry", registry, "--json")
    assert result.returncode == 0, result.stderr
    assert [entry["version"] for entry in json.loads(result.stdout)["versions"]] == versions


def test_info_of_a_version_not_published_says_so(isolated, registry, run_skillpm) -> None:
    result = run_skillpm("info", "kernel-helper==9.9", "--registry", registry)
    assert_one_error(result, contains="no version of kernel-helper matches 'kernel-helper==9.9'")


# --- the unattested warning: once per command, only for what was installed ---------------------------------


def test_the_unattested_warning_is_one_line_and_silent_when_nothing_changed(isolated, registry, run_skillpm) -> None:
    first = run_skillpm("install", "kernel-helper", "doc-writer", "--arch", "9.0", "--registry", registry)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [
        "warning: kernel-helper 1.0.0 (sm_90a), doc-writer 0.2.0 (generic) have no attestations: "
        "no signed evidence, installed unverified"
    ]
    for again in (["install", "kernel-helper", "--arch", "9.0", "--registry", registry], ["sync"]):
        result = run_skillpm(*again)
        assert result.returncode == 0, result.stderr
        assert "no attestations" not in result.stderr, result.stderr


def test_list_shows_a_skill_whose_folder_is_gone_as_missing(isolated, registry, run_skillpm) -> None:
    assert run_skillpm("install", "doc-writer", "--registry", registry).returncode == 0
    shutil.rmtree(isolated.skills / "doc-writer")
    result = run_skillpm("list")
    assert result.returncode == 0, result.stderr
    assert f"{isolated.skills / 'doc-writer'} (MISSING)" in result.stdout
    assert "doc-writer: recorded in skills.lock but missing on disk; 'skillpm sync' installs them again" in result.stderr
    assert json.loads(run_skillpm("list", "--json").stdout)[0]["present"] is False
