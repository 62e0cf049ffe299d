"""Real public skills as they are (issue #18, part 1), each class reproduced by a minimal fixture, through the CLI.

The classes were measured with bench/corpus.py on public skill repositories; no third-party
skill file is copied here.
"""

from __future__ import annotations

import json

import pytest
import shutil
import tarfile
from pathlib import Path

from skillpm.archive import METADATA_NAME

CLAUDE_CODE_FIELDS = """\
when_to_use: When the user asks for a release.
argument-hint: [issue-number]
arguments: [issue, branch]
disable-model-invocation: true
user-invocable: false
allowed-tools:
  - Read
  - Bash(git:*)
disallowed-tools: AskUserQuestion
model: sonnet
effort: high
context: fork
agent: Explore
hooks:
  PreToolUse:
    - matcher: Bash
paths:
  - "src/**/*.py"
shell: bash
"""


def skill(
    root: Path, name: str = "demo", *, front: str = "", body: str = "# Demo\n", files: dict | None = None
) -> Path:
    """A plain skill folder ``root/name`` with SKILL.md (name, description, ``front``) and ``files``."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Does one thing well.\n{front}---\n{body}")
    for path, text in (files or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def findings(run_cli, *args) -> tuple[int, list[dict]]:
    """``validate ARGS --json``: the exit code and every finding of every result."""
    result = run_cli("validate", *args, "--json")
    report = json.loads(result.stdout)
    return result.exit_code, [finding for item in report["results"] for finding in item["findings"]]


def published_and_installed(run_cli, folder: Path, name: str, tmp_path: Path, monkeypatch, *options) -> Path:
    """``publish`` the plain ``folder`` (with ``options``) into a new registry and ``install NAME --dir out``
    from it: the tree."""
    registry = tmp_path / "registry"
    assert run_cli("registry", "init", registry).exit_code == 0
    published = run_cli("publish", folder, "--registry", registry, *options)
    assert published.exit_code == 0, published.output
    monkeypatch.chdir(tmp_path)
    installed = run_cli("install", name, "--registry", registry, "--dir", tmp_path / "out")
    assert installed.exit_code == 0, installed.output
    return tmp_path / "out" / name


def test_claude_code_fields_are_valid_and_only_strict_warns(run_cli, tmp_path: Path) -> None:
    folder = skill(tmp_path, front=CLAUDE_CODE_FIELDS)
    assert findings(run_cli, folder) == (0, [])
    code, strict = findings(run_cli, folder, "--strict")
    assert code == 0
    assert {f["rule"] for f in strict} == {"extension.field"}
    assert all(f["severity"] == "warning" for f in strict)
    assert len(strict) == 14  # every field above, allowed-tools because it is a list
    assert all("code.claude.com/docs/en/skills" in f["message"] for f in strict)


def test_claude_code_field_of_the_wrong_type_is_an_error(run_cli, tmp_path: Path) -> None:
    folder = skill(tmp_path, front='user-invocable: "no"\nhooks: [x]\n')
    code, found = findings(run_cli, folder)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in found] == [("extension.field.type", 4), ("extension.field.type", 5)]


def test_a_field_no_one_documents_is_a_warning_and_strict_makes_it_an_error(run_cli, tmp_path: Path) -> None:
    """Agents load a skill with ``version:`` or ``author:`` at the top and ignore the field; skills-ref
    refuses it. One in ten skills of a held-out corpus had such a field (bench/corpus.py)."""
    folder = skill(tmp_path, front="version: 1.0.0\nauthor: me\n")
    code, found = findings(run_cli, folder)
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [
        ("spec.field.unknown", "warning", 4), ("spec.field.unknown", "warning", 5)
    ]
    assert "'metadata' (metadata.version)" in found[0]["message"]
    code, strict = findings(run_cli, folder, "--strict")
    assert code == 1 and [(f["rule"], f["severity"]) for f in strict] == [("spec.field.unknown", "error")] * 2


def test_a_compatibility_text_past_500_characters_is_a_warning_and_strict_makes_it_an_error(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    """PostHog/skills' signals-scout-replay-vision says what it needs in 524 characters (held-out batch of
    2026-12-07). No agent reads the field to decide whether to load a skill (Codex reads name, description and
    metadata; the specification's client guide asks clients not to block loading on cosmetic issues), so it is
    a warning, as for a field no one documents; --strict refuses it, as skills-ref does."""
    needs = "Needs the PostHog MCP server, a project with session replay on, " * 9
    folder = skill(tmp_path, front=f"compatibility: {needs.strip()}\n")
    code, found = findings(run_cli, folder)
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [("spec.compatibility.length", "warning", 4)]
    assert "agents load the skill" in found[0]["message"] and "shorten it" in found[0]["message"]
    assert "PostHog" not in found[0]["message"]  # its length, never the text, reaches the terminal
    code, strict = findings(run_cli, folder, "--strict")
    assert code == 1 and [(f["rule"], f["severity"]) for f in strict] == [("spec.compatibility.length", "error")]
    tree = published_and_installed(run_cli, folder, "demo", tmp_path, monkeypatch)
    assert (tree / "SKILL.md").read_bytes() == (folder / "SKILL.md").read_bytes()


def test_a_description_over_1024_characters_stays_an_error_that_says_why_and_how_to_fix_it(
    run_cli, tmp_path: Path
) -> None:
    """K-Dense-AI's database-lookup (1,929 characters) and Lbstrydom's persona-test (1,464), held-out batch of
    2026-12-07: Codex does not load such a skill (codex-rs/core/src/skills/loader.rs, MAX_DESCRIPTION_LEN)."""
    folder = skill(tmp_path, "long")
    (folder / "SKILL.md").write_text(f"---\nname: long\ndescription: {'Finds records. ' * 80}\n---\n# Long\n")
    code, found = findings(run_cli, folder)
    assert code == 1 and [(f["rule"], f["severity"]) for f in found] == [("spec.description.length", "error")]
    assert found[0]["message"] == (
        "'description' is 1199 characters; the limit is 1024: Codex does not load a skill whose description is "
        "longer; keep what the skill does and when to use it, and move the rest into SKILL.md's body"
    )


def test_a_plain_folder_named_otherwise_warns_and_installs_under_its_name(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    """vercel-labs/agent-skills keeps ``name: vercel-react-best-practices`` in ``react-best-practices/``; the
    skills CLI installs it under its name (src/installer.ts), and so does skillpm."""
    folder = tmp_path / "react-best-practices"
    skill(tmp_path, "vercel-react-best-practices").rename(folder)
    code, found = findings(run_cli, folder)
    assert code == 0 and [(f["rule"], f["severity"]) for f in found] == [("spec.name.directory", "warning")]
    assert findings(run_cli, folder, "--strict")[0] == 1
    tree = published_and_installed(run_cli, folder, "vercel-react-best-practices", tmp_path, monkeypatch)
    assert (tree / "SKILL.md").read_bytes() == (folder / "SKILL.md").read_bytes()


def test_a_plain_folder_with_a_display_name_installs_under_the_name_the_skills_cli_gives_it(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    """davila7/claude-code-templates has 319 skills such as ``name: SEO Optimizer`` in ``seo-optimizer/``;
    the skills CLI installs each under its sanitised name (src/installer.ts, sanitizeName)."""
    folder = tmp_path / "seo-optimizer"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: SEO Optimizer\ndescription: Optimizes pages.\n---\n# SEO\n")
    code, found = findings(run_cli, folder)
    assert code == 0 and [(f["rule"], f["severity"]) for f in found] == [("spec.name.format", "warning")]
    assert "installs it as 'seo-optimizer'" in found[0]["message"]
    assert findings(run_cli, folder, "--strict")[0] == 1
    tree = published_and_installed(run_cli, folder, "seo-optimizer", tmp_path, monkeypatch)
    assert (tree / "SKILL.md").read_bytes() == (folder / "SKILL.md").read_bytes()

    adopted = run_cli("init", "--from", folder, "--json")  # a skill source: SKILL.md takes the package's name
    assert adopted.exit_code == 0, adopted.output
    assert json.loads(adopted.stdout)["renamed"] == {"from": "SEO Optimizer", "to": "seo-optimizer"}
    assert (folder / "SKILL.md").read_text().startswith("---\nname: seo-optimizer\ndescription:")
    assert run_cli("validate", folder).exit_code == 0


def test_a_plain_folder_packs_with_its_top_level_version(run_cli, tmp_path: Path) -> None:
    folder = skill(tmp_path, front="version: 1.2.0\n")
    result = run_cli("pack", folder, "-o", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / "demo-1.2.0-generic.tar.gz").is_file()


def test_paths_under_the_skill_folder_placeholder_are_checked_as_the_skill_s_files(run_cli, tmp_path: Path) -> None:
    """``${CLAUDE_SKILL_DIR}`` (Claude Code) and ``{baseDir}`` (OpenClaw) are replaced by the skill's
    folder; a GitHub footnote is not a link; ``${CLAUDE_PLUGIN_ROOT}`` is outside the skill."""
    body = (
        "See [{baseDir}/references/guide.md]({baseDir}/references/guide.md).\n"
        "Run `${CLAUDE_SKILL_DIR}/scripts/check.py`, then [jobs](${CLAUDE_SKILL_DIR}/jobs/scan.md).\n"
        "Helpers live in [scripts](${CLAUDE_PLUGIN_ROOT}/scripts).\n"
        "\n[^1]: GitHub Blog. https://github.blog/\n"
    )
    files = {"references/guide.md": "x\n", "scripts/check.py": "print()\n"}
    code, found = findings(run_cli, skill(tmp_path, body=body, files=files))
    assert code == 1
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [
        ("link.missing", "error", 6), ("link.plugin", "warning", 7)
    ]
    assert "'${CLAUDE_SKILL_DIR}/jobs/scan.md'" in found[0]["message"]


def test_code_spans_that_do_not_clearly_name_a_skill_file_are_at_most_warnings(run_cli, tmp_path: Path) -> None:
    body = (
        "Write checks as `scripts/check_*.py`; run `scripts/build.{sh,ps1}`.\n"
        "Name each reference `references/filename.md`.\n"
        "Never run `./scripts/deploy.sh` from the user's project.\n"
    )
    code, found = findings(run_cli, skill(tmp_path, body=body))
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [
        ("link.mention", "warning", 6), ("link.mention", "warning", 7)
    ]


def test_real_links_and_case_typos_of_skill_files_stay_errors(run_cli, tmp_path: Path) -> None:
    body = "[guide](references/guide.md)\nRun `scripts/Check.py`.\n"
    code, found = findings(run_cli, skill(tmp_path, body=body, files={"scripts/check.py": "print()\n"}))
    assert code == 1
    assert [(f["rule"], f["line"]) for f in found] == [("link.missing", 5), ("link.missing", 6)]
    assert "'scripts/check.py' differs only in case" in found[1]["message"]


def test_a_link_to_a_missing_file_names_the_skill_s_file_it_may_mean(run_cli, tmp_path: Path) -> None:
    """Held-out batch of 2026-12-07: K-Dense-AI's neuropixels-analysis links ``reference/x.md`` beside its
    ``references/x.md``, and a PostHog skill ``references/trace.md.j2`` beside the ``references/trace.md`` the
    template became. The link is still broken (an error); the message says which file it may mean."""
    body = ("[workflow](reference/workflow.md), [trace](references/trace.md.j2),\n"
            "[notes](references/notes.md), [setup](setup.md)\n")
    files = {"references/workflow.md": "x\n", "references/trace.md": "x\n",
             "a/setup.md": "x\n", "b/setup.md": "x\n"}
    code, found = findings(run_cli, skill(tmp_path, body=body, files=files))
    assert code == 1
    assert [(f["rule"], f["line"]) for f in found] == [("link.missing", 5)] * 2 + [("link.missing", 6)] * 2
    by_target = {f["message"].split("'")[1]: f["message"] for f in found}
    assert by_target["reference/workflow.md"].endswith("; did you mean 'references/workflow.md'?")
    assert by_target["references/trace.md.j2"].endswith("; did you mean 'references/trace.md'?")
    assert "did you mean" not in by_target["references/notes.md"] + by_target["setup.md"]  # none, or two alike


def test_the_file_a_missing_link_may_mean_reaches_the_terminal_escaped(run_cli, tmp_path: Path) -> None:
    """The hint quotes a file name of a cloned skill: one holding a terminal escape is shown as ``\\x1b``."""
    folder = skill(tmp_path, body="[workflow](docs/workflow.md)\n", files={"ref\x1b[2J/workflow.md": "x\n"})
    result = run_cli("validate", folder)
    assert result.exit_code == 1
    assert "did you mean 'ref\\x1b[2J/workflow.md'?" in result.stdout and "\x1b" not in result.stdout


def test_a_link_from_the_repository_s_root_is_a_warning_as_it_names_no_file_of_the_skill(run_cli, tmp_path: Path) -> None:
    body = "See [the decision](/docs/adr/2026-01-22-polars.md).\n"
    code, found = findings(run_cli, skill(tmp_path, body=body))
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [("link.escape", "warning", 5)]
    assert "absolute path, so no file of the skill" in found[0]["message"]


def test_a_link_written_as_a_glob_or_placeholder_is_skipped_as_in_code_spans(run_cli, tmp_path: Path) -> None:
    body = "Read [the concepts](references/concepts/*.md); name it [task](./task.{id}.bug.md).\n"
    assert findings(run_cli, skill(tmp_path, body=body)) == (0, [])


def test_an_unquoted_colon_in_a_value_is_refused_with_how_to_quote_it(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "story"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: story\ndescription: Runs the cycle: branch, review, merge.\n---\n")
    code, found = findings(run_cli, folder)
    assert code == 1
    (problem,) = found
    assert problem["rule"] == "spec.frontmatter.yaml"
    assert "the value of 'description' holds ': ' unquoted" in problem["message"]
    assert "skillpm init --from DIR" in problem["message"]
    assert run_cli("init", "--from", folder).exit_code == 0
    assert findings(run_cli, folder) == (0, [])


def test_a_link_into_a_hidden_folder_the_skill_lacks_is_a_warning_as_a_path_of_the_user_s_project(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    """kouko/monkey-skills' wiki skills show the answers they give, linking the wiki they keep in the user's
    project (``[full lineage](.dbt-wiki/lineage.md)``, held-out batch of 2026-12-07): no file of the skill, which
    leaves its own hidden folders out unless SKILL.md names them. A missing file in a hidden folder the skill has
    (SKILL.md names another file of it), or in any folder it has, stays an error."""
    body = ("Answer, then say: see [the map](.notes-wiki/map.md) for the whole graph.\n"
            "> Stale claim in [Auth](.notes-wiki/entities/auth.md): fix it.\n")
    folder = skill(tmp_path, body=body)
    code, found = findings(run_cli, folder)
    assert code == 0
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [
        ("link.mention", "warning", 5), ("link.mention", "warning", 6)
    ]
    assert "'.notes-wiki'" in found[0]["message"] and "user's project" in found[0]["message"]
    tree = published_and_installed(run_cli, folder, "demo", tmp_path, monkeypatch)
    assert (tree / "SKILL.md").read_bytes() == (folder / "SKILL.md").read_bytes()

    body = "Run [the hook](.hooks/pre.sh), then [the next](.hooks/post.sh); read [the guide](references/guide.md).\n"
    kept = skill(tmp_path / "kept", body=body, files={".hooks/pre.sh": "x\n", "references/other.md": "x\n"})
    code, found = findings(run_cli, kept)
    assert code == 1
    assert [(f["rule"], f["severity"]) for f in found if f["severity"] == "error"] == [("link.missing", "error")] * 2


def test_a_link_to_a_sibling_skill_warns_that_the_sibling_is_needed(run_cli, tmp_path: Path) -> None:
    body = "See [review](../code-review/reviewer.md) and [flow](/plugin:other-skill).\n"
    code, found = findings(run_cli, skill(tmp_path, body=body))
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in found] == [("link.sibling", "warning")]
    assert "'code-review' is installed beside this one" in found[0]["message"]


def test_nested_metadata_is_a_warning_as_skills_ref_accepts_it(run_cli, tmp_path: Path) -> None:
    front = "metadata:\n  author: me\n  version: 1.0\n  links:\n    home: https://example.org\n"
    code, found = findings(run_cli, skill(tmp_path, front=front))
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in found] == [("spec.metadata.entry", "warning")] * 2


def test_hidden_files_are_reported_at_validate_and_pack_and_named_ones_are_kept(run_cli, tmp_path: Path) -> None:
    files = {
        ".gitignore": "*.pyc\n",
        ".maintenance/README.md": "notes\n",
        "scripts/.gitignore": "out/\n",
        "scripts/run.py": "print()\n",
    }
    folder = skill(tmp_path, body="`scripts/.gitignore` keeps outputs out of git.\n", files=files)
    code, found = findings(run_cli, folder)
    assert code == 0
    assert [(f["file"], f["rule"], f["severity"]) for f in found] == [
        (".gitignore", "tree.left-out", "warning"), (".maintenance", "tree.left-out", "warning")
    ]
    result = run_cli("pack", folder, "-o", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    assert "'.gitignore' is left out" in result.stderr and "'.maintenance' is left out" in result.stderr
    (archive,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"skill/scripts/.gitignore", "skill/scripts/run.py", "skill/SKILL.md"} <= names
    assert not any(".maintenance" in name or name == "skill/.gitignore" for name in names)


def test_pack_publish_and_install_a_plain_skill_folder(run_cli, tmp_path: Path, monkeypatch) -> None:
    folder = skill(
        tmp_path / "src", "pdf-tools", front="license: Complete terms in LICENSE.txt\n",
        files={"LICENSE.txt": "terms\n", "scripts/fill.py": "print()\n"},
    )
    result = run_cli("pack", folder, "-o", tmp_path / "dist", "--json")
    assert result.exit_code == 0, result.output
    (built,) = json.loads(result.stdout)
    with tarfile.open(built["path"]) as tar:
        metadata = json.load(tar.extractfile(METADATA_NAME))
    assert (metadata["name"], metadata["version"], metadata["target"]) == ("pdf-tools", "0.1.0", "generic")
    assert metadata["license"] == "SEE LICENSE IN LICENSE.txt"
    assert not (folder / "skillpm.toml").exists()  # pack derives the manifest, writes nothing into the folder

    tree = published_and_installed(run_cli, folder, "pdf-tools", tmp_path, monkeypatch)
    for path in ("SKILL.md", "LICENSE.txt", "scripts/fill.py"):
        assert (tree / path).read_bytes() == (folder / path).read_bytes()


def test_init_from_takes_any_skill_folder_and_writes_a_licence_reference(run_cli, tmp_path: Path) -> None:
    assert "any skill folder" in run_cli("init", "--help").stdout
    custom = skill(tmp_path, "custom", front="license: Proprietary. LICENSE.txt has complete terms\n",
                   files={"LICENSE.txt": "terms\n"})
    spdx = skill(tmp_path, "spdx", front="license: apache-2.0\n")
    for folder in (custom, spdx):
        result = run_cli("init", "--from", folder)
        assert result.exit_code == 0, result.output
    assert 'license = "SEE LICENSE IN LICENSE.txt"' in (custom / "skillpm.toml").read_text()
    assert 'license = "Apache-2.0"' in (spdx / "skillpm.toml").read_text()
    assert run_cli("validate", custom).exit_code == 0


def test_a_licence_word_too_long_for_a_file_name_is_no_licence_file(run_cli, tmp_path: Path) -> None:
    """The licence line is searched for a file name it mentions; a 300-character word is none, not an OSError
    (found in a hostile review: it made every other skill of the same repository fail to install)."""
    folder = skill(tmp_path, front=f"license: See {'x' * 300} for terms\n")
    result = run_cli("pack", folder, "-o", tmp_path / "dist")
    assert result.exit_code == 0, result.output


def test_validate_a_folder_of_many_skills_checks_each(run_cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    skill(repo / "skills", "alpha")
    skill(repo / "skills", "beta", front="user-invocable: maybe\n")  # a Claude Code field of the wrong type
    skill(repo / ".claude" / "skills", "gamma")
    skill(repo / "elsewhere", "delta")  # found only by the recursive search, which is not needed here
    result = run_cli("validate", repo, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {(Path(item["path"]).name, item["valid"]) for item in report["results"]} == {
        ("alpha", True), ("beta", False), ("gamma", True)
    }


def test_validate_searches_deeper_when_no_usual_folder_holds_skills(run_cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    skill(repo / "plugins" / "one" / "skills", "alpha")
    skill(repo / "node_modules" / "pkg", "ignored")
    result = run_cli("validate", repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [f"{repo}/plugins/one/skills/alpha: valid"]


def test_a_skill_source_reports_hidden_entries_of_its_common_tree_and_overlays(
    run_cli, make_source, tmp_path: Path
) -> None:
    source = make_source(
        tmp_path, "kernel-notes",
        variants={"sm_90a": {".scratch/todo.md": "x\n", "scripts/.env.example": "A=1\n"}},
        common={".github/ci.yml": "on: push\n", "scripts/run.sh": "echo\n"},
    )
    overlay_skill_md = source / "variants" / "sm_90a" / "SKILL.md"
    overlay_skill_md.write_text(overlay_skill_md.read_text() + "Copy `scripts/.env.example` first.\n")
    code, found = findings(run_cli, source)
    assert code == 0
    assert [(f["file"], f["rule"]) for f in found] == [
        (".github", "tree.left-out"), ("variants/sm_90a/.scratch", "tree.left-out")
    ]
    result = run_cli("pack", source, "-o", tmp_path / "dist", "--target", "sm_90a")
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "skill/scripts/.env.example" in names
    assert not any(".github" in name or ".scratch" in name for name in names)


def test_validate_a_plugin_marketplace_finds_the_skills_its_manifests_declare(run_cli, tmp_path: Path) -> None:
    """A Claude Code marketplace (the skills CLI reads .claude-plugin/marketplace.json and plugin.json,
    vercel-labs/skills src/plugin-manifest.ts): each local plugin's skills/ and the folders its skills list names;
    not a plugin from elsewhere, nor a path out of the repository or through a link."""
    repo = tmp_path / "repo"
    skill(repo / "skills", "top")  # a usual place holds one: without the manifests, nothing deeper is searched
    skill(repo / "plugins" / "docs" / "skills", "doc-writer")
    skill(repo / "plugins" / "review" / "extra", "reviewer")
    skill(repo / "plugins" / "remote" / "skills", "not-local")
    skill(tmp_path / "outside" / "skills", "escaped")
    (repo / "plugins" / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    skill(repo / "root-plugin" / "listed", "from-plugin-json")
    (repo / ".claude-plugin").mkdir()
    (repo / ".claude-plugin" / "marketplace.json").write_text(json.dumps({
        "name": "market", "metadata": {"pluginRoot": "./plugins"},
        "plugins": [
            {"name": "docs", "source": "./docs"},
            {"name": "review", "source": "./review", "skills": ["./extra/reviewer"]},
            {"name": "remote", "source": {"source": "github", "repo": "org/remote"}},
            {"name": "out", "source": "./../../outside"},
            {"name": "linked", "source": "./linked"},
        ],
    }))
    (repo / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "x", "skills": ["./root-plugin/listed/x"]}))
    result = run_cli("validate", repo, "--json")
    assert result.exit_code == 0, result.output
    found = [Path(item["path"]).relative_to(repo).as_posix() for item in json.loads(result.stdout)["results"]]
    assert found == ["skills/top", "plugins/docs/skills/doc-writer", "plugins/review/extra/reviewer",
                     "root-plugin/listed/from-plugin-json"]


def test_an_overlay_no_variant_names_is_reported_but_not_one_linked_from_elsewhere(
    run_cli, make_source, tmp_path: Path
) -> None:
    """variants/NAME/ that skillpm.toml does not name is never packed, and validate says so; a variants/ linked
    out of the source is not listed (found in a hostile review: the names of the outside folder's entries were
    shown), and its files are links out of the source."""
    source = make_source(tmp_path, "kernel-notes", variants={"sm_90a": {"notes.md": "x\n"}})
    (source / "variants" / "sm_80").mkdir()
    code, found = findings(run_cli, source)
    assert (code, [(f["file"], f["rule"]) for f in found]) == (0, [("variants/sm_80", "manifest.overlay-unused")])
    elsewhere = shutil.copytree(source / "variants", tmp_path / "elsewhere")
    (elsewhere / "private-folder").mkdir()
    shutil.rmtree(source / "variants")
    (source / "variants").symlink_to(elsewhere, target_is_directory=True)
    code, found = findings(run_cli, source)
    assert code == 1
    assert {f["rule"] for f in found} == {"tree.link-escape"}
    assert not any("private-folder" in f["file"] or "sm_80" in f["file"] for f in found)


@pytest.mark.parametrize("plain", [False, True], ids=["skeleton", "plain-folder"])
@pytest.mark.parametrize(("text", "reason"), [("not json", "not valid JSON"), ('{"tests": [{"input": 5}]}', "tests.0.input")])
def test_test_cases_eval_cannot_read_are_a_warning_at_validate(
    run_cli, tmp_path: Path, text: str, reason: str, plain: bool
) -> None:
    """The skeleton's skill_meta.json broken (found in a hostile review: validate said 'valid', and pack silently
    recorded no test-set digest, so no evidence could name the tests): a warning that says what follows. So for
    a plain SKILL.md folder, which pack and publish take as it is."""
    folder = tmp_path / "demo"
    if plain:
        skill(tmp_path, "demo")
    else:
        assert run_cli("init", folder).exit_code == 0
    assert findings(run_cli, folder) == (0, [])
    (folder / "skill_meta.json").write_text(text)
    code, found = findings(run_cli, folder)
    assert code == 0
    assert [(f["file"], f["rule"], f["severity"]) for f in found] == [("skill_meta.json", "tests.unusable", "warning")]
    assert reason in found[0]["message"] and "no test-set digest" in found[0]["message"]


def packed_test_set(run_cli, folder: Path, out: Path) -> tuple[str | None, str]:
    """Pack ``folder``: the test-set digest its archive records, and what pack said on stderr."""
    result = run_cli("pack", folder, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    (built,) = json.loads(result.stdout)
    with tarfile.open(built["path"]) as tar:
        return json.load(tar.extractfile(METADATA_NAME)).get("test-set"), result.stderr


@pytest.mark.parametrize(
    ("file", "broken", "reason"),
    [
        # agentskills.io's format (https://agentskills.io/skill-creation/evaluating-skills): an eval needs a prompt.
        ("evals/evals.json", '{"skill_name": "demo", "evals": [{"id": 1, "expected_output": "x"}]}',
         'evals/evals.json: evals.0: needs a "prompt"'),
        # upskill's format, of the right shape, but a validator's settings no check can take (validate passes it).
        ("skill_meta.json", '{"tests": [{"input": "q", "expected": {"contains": ["a"]}, "validator": "regex", '
         '"validator_config": {"pattern": "("}}]}', "skill_meta.json: tests.0: validator_config.pattern '('"),
    ],
    ids=["evals.json", "skill_meta.json"],
)
def test_pack_and_publish_say_when_test_cases_cannot_be_read_and_no_test_set_is_recorded(
    run_cli, tmp_path: Path, file: str, broken: str, reason: str
) -> None:
    """pack recorded no test-set digest without a word when the cases could not be read, so eval evidence
    could name no tests; it now warns with what 'skillpm eval' would say, and records the digest once fixed."""
    folder = skill(tmp_path / "src", "demo", files={file: broken})
    test_set, said = packed_test_set(run_cli, folder, tmp_path / "dist")
    assert test_set is None
    assert f"warning: {reason}" in said and "no test-set digest is recorded" in said, said
    assert run_cli("registry", "init", tmp_path / "reg").exit_code == 0
    published = run_cli("publish", folder, "--registry", tmp_path / "reg")
    assert published.exit_code == 0, published.output
    assert f"warning: {reason}" in published.stderr

    fixed = broken.replace('"expected_output"', '"prompt": "q", "expected_output"').replace('"("', '"a+"')
    (folder / file).write_text(fixed)
    test_set, said = packed_test_set(run_cli, folder, tmp_path / "dist2")
    assert test_set is not None and len(test_set) == 64
    assert "warning" not in said


def test_discovery_does_not_follow_a_link_out_of_the_folder(run_cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    skill(repo / "skills", "alpha")
    outside = skill(tmp_path / "outside", "beta")
    (repo / "skills" / "beta").symlink_to(outside, target_is_directory=True)
    result = run_cli("validate", repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [f"{repo}/skills/alpha: valid"]


def test_the_skills_only_the_deeper_search_finds_are_apart_from_discovery_s(tmp_path: Path) -> None:
    """discover() lists the usual places' skills alone, as the skills CLI does; unlisted() gives the others the
    deeper search finds (not those inside a listed skill, none for a folder that is a skill), for a name two of
    them give to be compared."""
    from skillpm.validation.discover import discover, unlisted

    repo = tmp_path / "repo"
    skill(repo / "skills", "alpha")
    skill(repo / "skills" / "alpha" / "examples", "nested")
    skill(repo / "tools", "pdf")
    skill(repo / "node_modules" / "x", "hidden-away")
    found = discover(repo)
    assert found == [repo / "skills" / "alpha"]
    assert unlisted(repo, found) == [repo / "tools" / "pdf"]
    assert unlisted(repo / "tools" / "pdf", discover(repo / "tools" / "pdf")) == []
    deeper = tmp_path / "deeper"
    skill(deeper / "a" / "b", "one")
    assert discover(deeper) == [deeper / "a" / "b" / "one"]
    assert unlisted(deeper, discover(deeper)) == []


def test_a_root_skill_md_without_front_matter_is_an_index_of_the_skills_below(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    """A repository whose root SKILL.md is a plain list of its skills (no front matter: held-out batch of
    2026-12-07, jscraik/Agent-Skills' 88 skills in category folders) holds those skills, as the skills CLI
    reads it; it is one skill, invalid, only when nothing below is a skill."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "SKILL.md").write_text("# Index\n\n- [api-review](backend/api-review/SKILL.md)\n")
    skill(repo / "backend", "api-review")
    skill(repo / "frontend", "ui-polish")
    result = run_cli("validate", repo, "--json")
    assert result.exit_code == 0, result.output
    assert [(Path(item["path"]).name, item["valid"]) for item in json.loads(result.stdout)["results"]] == [
        ("api-review", True), ("ui-polish", True)
    ]
    monkeypatch.chdir(tmp_path)
    installed = run_cli("install", repo, "--skill", "ui-polish", "--dir", tmp_path / "out")
    assert installed.exit_code == 0, installed.output
    assert (tmp_path / "out" / "ui-polish" / "SKILL.md").read_bytes() == (repo / "frontend" / "ui-polish" / "SKILL.md").read_bytes()

    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "SKILL.md").write_text("# Notes\n")
    code, found = findings(run_cli, alone)
    assert code == 1 and [f["rule"] for f in found] == ["spec.frontmatter.missing"]


def test_a_root_skill_md_linked_out_of_its_folder_is_not_opened_to_tell_an_index(run_cli, tmp_path: Path) -> None:
    """Telling an index from a skill reads the first line of a root SKILL.md only when it is a regular file of the
    folder: one linked to a file of the user's is never opened, and the folder stays one skill, refused."""
    (tmp_path / "private.md").write_text("my notes, no front matter\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "SKILL.md").symlink_to(tmp_path / "private.md")
    skill(repo / "tools", "pdf")
    result = run_cli("validate", repo, "--json")
    assert result.exit_code == 1
    (only,) = json.loads(result.stdout)["results"]
    assert Path(only["path"]) == repo
    assert [f["rule"] for f in only["findings"] if f["severity"] == "error"] == ["tree.link-escape"]


def test_a_version_control_folder_is_left_out_even_when_skill_md_names_it(run_cli, tmp_path: Path) -> None:
    folder = skill(tmp_path, body="See [hooks](.git/hooks/pre-commit).\n", files={".git/hooks/pre-commit": "x\n"})
    code, found = findings(run_cli, folder)
    assert code == 1
    assert [(f["file"], f["rule"]) for f in found] == [
        (".git", "tree.left-out"), ("SKILL.md", "link.missing")
    ]
    assert "version-control" in found[0]["message"]


def plugin_skill(tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose plugin's skill links to the plugin's shared script (as Claude Code plugins do):
    the repository and the skill folder."""
    repo = tmp_path / "repo"
    shared = repo / "plugins" / "adr" / "scripts" / "number.py"
    shared.parent.mkdir(parents=True)
    shared.write_text("print('next number')\n")
    folder = skill(repo / "plugins" / "adr" / "skills", "adr-writing", body="Run `scripts/number.py`.\n")
    (folder / "scripts").mkdir()
    (folder / "scripts" / "number.py").symlink_to(Path("..", "..", "..", "scripts", "number.py"))
    return repo, folder


def test_a_link_out_of_the_skill_is_refused_unless_the_user_names_where_it_may_lead(run_cli, tmp_path: Path) -> None:
    repo, folder = plugin_skill(tmp_path)
    code, found = findings(run_cli, folder)
    assert code == 1
    (escape,) = [finding for finding in found if finding["rule"] == "tree.link-escape"]
    assert escape["file"] == "scripts/number.py" and "--links-within DIR" in escape["message"]
    assert run_cli("pack", folder, "-o", tmp_path / "dist").exit_code == 1
    assert findings(run_cli, folder, "--links-within", repo) == (0, [])
    assert findings(run_cli, folder, "--links-within", repo / "plugins" / "adr" / "skills")[0] == 1


def test_a_link_into_the_named_folder_is_packed_and_installed_as_the_file_it_leads_to(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    repo, folder = plugin_skill(tmp_path)
    result = run_cli("pack", folder, "-o", tmp_path / "dist", "--links-within", repo, "--json")
    assert result.exit_code == 0, result.output
    (built,) = json.loads(result.stdout)
    with tarfile.open(built["path"]) as tar:
        member = tar.getmember("skill/scripts/number.py")
        assert member.isfile() and tar.extractfile(member).read() == b"print('next number')\n"

    tree = published_and_installed(run_cli, folder, "adr-writing", tmp_path, monkeypatch, "--links-within", repo)
    installed = tree / "scripts" / "number.py"
    assert not installed.is_symlink() and installed.read_text() == "print('next number')\n"


def test_the_named_folder_widens_links_to_files_only_and_never_into_git_or_beyond(run_cli, tmp_path: Path) -> None:
    repo, folder = plugin_skill(tmp_path)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    (tmp_path / "secret").write_text("key\n")
    (folder / "config").symlink_to(repo / ".git" / "config")
    (folder / "secret").symlink_to(tmp_path / "secret")
    (folder / "shared").symlink_to(repo / "plugins" / "adr" / "scripts")  # a folder: not followed out
    code, found = findings(run_cli, folder, "--links-within", repo)
    assert code == 1
    by_file = {finding["file"]: finding for finding in found if finding["severity"] == "error"}
    assert set(by_file) == {"config", "secret", "shared"}
    assert "in a .git folder" in by_file["config"]["message"]
    assert by_file["secret"]["rule"] == "tree.link-escape" and repr(str(repo)) in by_file["secret"]["message"]
    # a folder link into the named folder: refused as a link out, saying why (held-out batch K: windyroad's
    # .claude/skills/install-updates/test; it was 'not a regular file (a device, fifo, socket or directory)')
    assert by_file["shared"]["rule"] == "tree.link-escape"
    assert "lets links to files lead there, not links to folders" in by_file["shared"]["message"]


def test_a_skill_md_linked_into_the_named_folder_is_refused_by_validate_as_by_pack(run_cli, tmp_path: Path) -> None:
    """alirezarezvani/claude-skills mirrors its skills for Gemini as ``.gemini/skills/board/SKILL.md`` linked to
    the real skill's SKILL.md (held-out batch of 2026-12-07). Under --links-within the repository, validate passed
    such a copy, which pack then refused: a SKILL.md linked out of its folder is never read as the skill's, and
    the copy lacks the real skill's other files. validate now refuses it too, naming the folder to take instead."""
    repo = tmp_path / "repo"
    real = skill(repo / "engineering" / "skills", "board", body="Read [the guide](references/guide.md).\n",
                 files={"references/guide.md": "x\n"})
    mirror = repo / ".gemini" / "skills" / "board"
    mirror.mkdir(parents=True)
    (mirror / "SKILL.md").symlink_to(Path("..", "..", "..", "engineering", "skills", "board", "SKILL.md"))
    code, found = findings(run_cli, mirror, "--links-within", repo)
    assert code == 1
    (escape,) = [f for f in found if f["rule"] == "tree.link-escape"]
    assert escape["file"] == "SKILL.md" and f"validate or pack {str(real)!r} instead" in escape["message"]
    packed = run_cli("pack", mirror, "-o", tmp_path / "dist", "--links-within", repo)
    assert packed.exit_code == 1 and "it is a link that leads out of the skill's folder" in packed.exception.message
    assert findings(run_cli, real)[0] == 0


def test_a_link_into_the_skill_s_own_git_folder_is_refused(run_cli, tmp_path: Path) -> None:
    folder = skill(tmp_path, "demo")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n")
    (folder / "notes.md").symlink_to(Path(".git", "config"))
    code, found = findings(run_cli, folder)
    assert code == 1
    assert [(f["file"], f["rule"]) for f in found if f["severity"] == "error"] == [("notes.md", "tree.link-escape")]


def test_a_link_of_words_with_slashes_is_a_warning_and_a_path_into_a_skill_folder_an_error(run_cli, tmp_path: Path) -> None:
    """takusaotome/claude-skills-library writes ``[0,2,4](MON/WED/FRI)`` in prose (held-out batch H):
    Markdown reads a link, but to no file of the skill. A link into a folder the skill has stays an error."""
    body = "Examples: count=3 -> [0,2,4](MON/WED/FRI), count=1 -> [0](MON)\nSee [the guide](references/guide).\n"
    code, found = findings(run_cli, skill(tmp_path, body=body, files={"references/forms.md": "x\n"}))
    assert code == 1
    assert [(f["rule"], f["severity"], f["line"]) for f in found] == [
        ("link.mention", "warning", 5), ("link.mention", "warning", 5), ("link.missing", "error", 6)
    ]
    plain = skill(tmp_path, "prose", body="Examples: count=3 -> [0,2,4](MON/WED/FRI)\n")
    assert findings(run_cli, plain)[0] == 0
