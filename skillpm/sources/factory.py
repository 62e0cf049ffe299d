"""Opening a source from its spec, or from the pinned label skills.lock records, and choosing its skills.

The one module that knows every kind of source; each kind's module is imported only
when a source of that kind is opened (git, HTTP and unpacking stay off start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from skillpm.errors import InstallError, RequirementError, ResolutionError, SourceError
from skillpm.requirements import Requirement, normalize_name, parse_requirement
from skillpm.sources.spec import SourceSpec, parse_source, source_of_label

if TYPE_CHECKING:
    from skillpm.index.listing import Listing
    from skillpm.index.model import SearchEntry
    from skillpm.registry.source import Registry, Source
    from skillpm.sources.packed import PackedSource


_LISTED = 50  # skills named in the error that lists a source's skills


def open_source(spec: SourceSpec) -> PackedSource:
    """Fetch what ``spec`` names (a commit-pinned git spec fetches that commit) and present it as a registry."""
    if spec.kind == "dir":
        from skillpm.sources.packed import PackedSource

        root = spec.folder
        if not root.is_dir():
            raise SourceError(f"{root} is not a folder", hint="give a folder holding SKILL.md (or skillpm.toml)")
        return PackedSource(spec, root)
    if spec.kind == "git":
        from skillpm.sources.git import open_git

        return open_git(spec)
    if spec.kind == "archive":
        from skillpm.sources.archive_url import open_archive

        return open_archive(spec)
    from skillpm.sources.wellknown import open_well_known

    return open_well_known(spec)


def open_locked_source(label: str) -> PackedSource | None:
    """The source a skills.lock ``registry`` label names, fetched again at its pin; ``None`` for a registry's label."""
    spec = source_of_label(label)
    return None if spec is None else open_source(spec)


def choose_skills(source: PackedSource, names: Sequence[str]) -> list[str]:
    """The skills to install from ``source``: ``names`` (each must be there), else its only skill.

    Several skills and no name: InstallError listing them, to be named with ``--skill``.
    """
    held = sorted(source.skills())
    if names:
        missing = [name for name in names if name not in held]
        if missing:
            raise ResolutionError(
                f"{source.requested.describe()} holds no skill named {', '.join(map(repr, missing))}",
                hint=f"it holds: {', '.join(held) or 'no skills'}",
            )
        return list(names)
    if len(held) == 1:
        return held
    if not held:
        raise InstallError(f"{source.requested.describe()} holds no skill (no folder with a valid SKILL.md)")
    shown = ", ".join(held[:_LISTED]) + (f" and {len(held) - _LISTED} more" if len(held) > _LISTED else "")
    raise InstallError(
        f"{source.requested.describe()} holds {len(held)} skills: {shown}",
        hint="choose with --skill NAME (repeatable)",
    )


class WithSources:
    """The sources given on the command line first (each only for the skills chosen from it), then ``registry``."""

    def __init__(self, chosen: dict[str, PackedSource], registry: Source) -> None:
        self.chosen = chosen
        self.registry = registry
        self.label = registry.label

    def locate(self, name: str) -> tuple[Registry, Listing]:
        source = self.chosen.get(name)
        return source.locate(name) if source is not None else self.registry.locate(name)

    def search_entries(self) -> tuple[SearchEntry, ...]:
        return self.registry.search_entries()


def with_sources(
    texts: Sequence[str], registry: Source, *, skills: Sequence[str] = (), sha256: str | None = None
) -> tuple[list[Requirement], Source]:
    """The requirements ``texts`` name, and the Source to install them from.

    Each text is a registry requirement or a source (:func:`~skillpm.sources.spec.parse_source`);
    each source is fetched now and gives the skills ``skills`` names (or its only one,
    :func:`choose_skills`), installed from it; the rest come from ``registry``. ``sha256``
    pins the one archive URL among ``texts``.
    """
    skills = [normalize_name(name) for name in skills]
    specs = [parse_source(text) for text in texts]
    sourced = [spec for spec in specs if spec is not None]
    if skills and not sourced:
        raise RequirementError("--skill chooses skills from a source (a folder, git repository or URL); none was given")
    if sha256 is not None:
        specs = _pin_archive(specs, sha256)
    requirements: list[Requirement] = []
    chosen: dict[str, PackedSource] = {}
    for text, spec in zip(texts, specs):
        if spec is None:
            requirements.append(parse_requirement(text))
            continue
        source = open_source(spec)
        if spec.skill:  # ORG/REPO@SKILL names its one skill
            names = choose_skills(source, [spec.skill])
        elif len(sourced) == 1 or not skills:
            names = choose_skills(source, skills)
        else:
            names = [name for name in skills if name in source.skills()]
        for name in names:
            chosen[name] = source
            requirements.append(Requirement(name, None))
    missing = [name for name in skills if name not in chosen]
    if missing:
        raise ResolutionError(f"no source given holds a skill named {', '.join(map(repr, missing))}")
    named = [requirement.name for requirement in requirements]
    twice = sorted({name for name in named if named.count(name) > 1})
    if twice:
        raise RequirementError(f"{', '.join(twice)} is asked for twice (from two sources, or a source and a registry)")
    return requirements, WithSources(chosen, registry) if chosen else registry


def _pin_archive(specs: list[SourceSpec | None], sha256: str) -> list[SourceSpec | None]:
    """``specs`` with the one archive URL among them pinned to ``sha256`` (``--sha256``)."""
    archives = [spec for spec in specs if spec is not None and spec.kind == "archive"]
    if len(archives) != 1:
        raise RequirementError(f"--sha256 pins one archive URL; {len(archives)} were given")
    if archives[0].sha256 not in (None, sha256.lower()):
        raise RequirementError(f"--sha256 and the URL's #sha256= disagree for {archives[0].url}")
    pinned = archives[0]._replace(sha256=sha256.lower())
    return [pinned if spec is archives[0] else spec for spec in specs]
