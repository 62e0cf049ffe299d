"""Commands for skill authors: init, validate, pack."""

from __future__ import annotations

from pathlib import Path

import click

from skillpm.cli.common import json_option, links_within_option
from skillpm.cli.output import emit_json, notice, report, say, warn_of

_PATH = click.Path(path_type=Path)


@click.command()
@click.argument("directory", type=_PATH, required=False)
@click.option(
    "--from",
    "upskill_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Adopt any skill folder in place: a plain SKILL.md folder, or upskill's output (with skill_meta.json).",
)
@click.option("--name", help="Skill name for a new skeleton (default: the directory's name).")
@click.option(
    "--description",
    default="Describe what this skill does and when an agent should use it.",
    help="The skill's description, in SKILL.md and skillpm.toml (default: a placeholder to edit).",
)
@json_option
def init(directory: Path | None, upskill_dir: Path | None, name: str | None, description: str, as_json: bool) -> None:
    """Create a skill source (SKILL.md + skillpm.toml), or adopt one with --from.

    \b
    skillpm init my-skill                        # new skeleton in ./my-skill
    skillpm init --from path/to/any-skill        # write skillpm.toml from its SKILL.md

    DIRECTORY defaults to the current folder; it must not hold a skillpm.toml yet.
    A new skeleton also gets skill_meta.json with one example test case for
    'skillpm eval' (replace it with real ones; it is never packed).
    """
    from skillpm.init import adopt_upskill, init_skeleton

    if upskill_dir is not None:
        if directory is not None and directory.resolve() != upskill_dir.resolve():
            raise click.UsageError("--from adopts the directory in place; give no DIRECTORY or the same one")
        path, repairs, renamed = adopt_upskill(upskill_dir)
        quoted = repairs.quoted
        if quoted and not as_json:
            notice(f"note: quoted {', '.join(quoted)} in {upskill_dir / 'SKILL.md'}: an unquoted ': ' is not valid YAML")
        if repairs.unmarked and not as_json:
            notice(f"note: removed the byte-order mark before {upskill_dir / 'SKILL.md'}'s front matter, "
                   "which hid it from skills-ref and agents that read front matter strictly")
        if renamed and not as_json:
            notice(f"note: renamed {renamed[0]!r} to {renamed[1]!r} in {upskill_dir / 'SKILL.md'}: a skill's name is "
                   "lowercase letters, digits and hyphens")
        report(as_json, {"created": [str(path)], "quoted": list(quoted), "unmarked": repairs.unmarked,
                         "renamed": None if renamed is None else {"from": renamed[0], "to": renamed[1]}},
               f"wrote {path}; check it, then run 'skillpm validate {upskill_dir}'")
        return
    directory = directory or Path.cwd()
    created = init_skeleton(directory, name=name or directory.resolve().name, description=description)
    report(as_json, {"created": [str(path) for path in created]}, "created " + ", ".join(map(str, created)))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=_PATH)
@click.option(
    "--strict", is_flag=True,
    help="Hold front matter to the specification as skills-ref does: an unknown field is an error, "
    "and each Claude Code field in use a warning.",
)
@links_within_option
@json_option
def validate(paths: tuple[Path, ...], strict: bool, links_within: Path | None, as_json: bool) -> None:
    """Check skills against the Agent Skills specification and skillpm.toml's schema.

    \b
    skillpm validate my-skill
    skillpm validate skills/* --json
    skillpm validate path/to/repo              # every skill in it, found as 'npx skills' finds them
    skillpm validate repo/plugins/x/skills/y --links-within repo   # its links lead into repo

    PATHS are skill sources (with skillpm.toml: every variant is checked as it
    will be installed), plain Agent Skills directories, or folders holding
    several skills (each is checked). Claude Code's own front-matter fields are
    valid (their types are checked), and a field no one documents is a warning:
    agents ignore it. --strict makes that an error, as skills-ref does, and warns
    about each Claude Code field. A file that is a link must lead inside its skill
    folder, or inside DIR with --links-within DIR. Exits 1 when any has an error;
    warnings alone do not fail.
    """
    from skillpm.validation.source import validate_paths

    reports = validate_paths(paths, strict=strict, links_within=links_within)
    valid = all(not any(f.is_error for f in findings) for _, findings in reports)
    if as_json:
        emit_json(
            {
                "valid": valid,
                "results": [
                    {
                        "path": str(path),
                        "valid": not any(f.is_error for f in findings),
                        "findings": [f.to_dict() for f in findings],
                    }
                    for path, findings in reports
                ],
            }
        )
    else:
        for path, findings in reports:
            errors = sum(f.is_error for f in findings)
            for finding in findings:
                say(f"{path}/{finding}")
            verdict = "valid" if not errors else f"invalid ({errors} error{'s' * (errors != 1)})"
            say(f"{path}: {verdict}")
    if not valid:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Folder for the archives (created if missing).",
)
@click.option("--target", "targets", multiple=True, metavar="TARGET", help="Build only this variant (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="List the files each archive holds.")
@links_within_option
@json_option
def pack(
    source: Path, out_dir: Path, targets: tuple[str, ...], verbose: bool, links_within: Path | None, as_json: bool
) -> None:
    """Validate SOURCE and build one reproducible archive per variant.

    \b
    skillpm pack my-skill -o dist/            # dist/my-skill-<version>-<target>.tar.gz
    skillpm pack my-skill --target sm_90a --json

    SOURCE is a skill source (skillpm.toml) or a plain SKILL.md folder, packed as one
    generic variant with the manifest 'init --from' would write. Hidden files SKILL.md
    does not name are left out, each said on stderr, and so is the -o folder when it
    lies inside SOURCE; a file git ignores is packed, with a warning. A file that is a
    link is packed as the bytes it leads to, inside SOURCE or inside DIR with
    --links-within DIR, never a hidden file SKILL.md does not name. --json and -v list
    each archive's files. The archives are reproducible: the same source gives the
    same sha256 on any machine with the same zlib.
    """
    from skillpm.pack import pack as pack_source

    built = pack_source(
        source, out_dir, targets=list(targets) or None, warn=warn_of,
        links_within=links_within,
    )
    if as_json:
        emit_json(
            [
                {"path": str(b.path), "target": b.metadata.target, "sha256": b.sha256, "size": b.size,
                 "files": sorted(b.metadata.files)}
                for b in built
            ]
        )
        return
    for b in built:
        say(f"{b.path}  {b.size} bytes  sha256:{b.sha256}")
        for file in sorted(b.metadata.files) if verbose else ():
            say(f"  {file}")
