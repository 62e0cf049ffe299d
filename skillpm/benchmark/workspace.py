"""The bytes a bench measures: the variant's artifact, extracted into a temporary folder.

No torch here. :func:`choose_target` picks the variant ``install`` would pick;
:func:`open_workspace` packs that variant exactly as ``skillpm pack`` does,
extracts the archive's bytes and finds the kernel project in the tree, so the
kernel built is the one the artifact ships and the sha256 is the artifact's.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from skillpm.archive import extract
from skillpm.benchmark import BenchError
from skillpm.benchmark.evidence import KernelRef, is_kernel_source
from skillpm.evidence import SkillRef

#: Files that make a folder of the tree a kernel project the bench can build and check.
BUILD_SCRIPT = "build_ext.py"
REFERENCE = "tests/reference.py"


def find_projects(files: list[str]) -> list[str]:
    """Folders of the tree holding both ``build_ext.py`` and ``tests/reference.py``."""
    present = set(files)
    folders = {str(PurePosixPath(path).parent) for path in files if PurePosixPath(path).name == BUILD_SCRIPT}
    return sorted(folder for folder in folders if str(PurePosixPath(folder) / REFERENCE) in present)


@dataclass(frozen=True)
class Workspace:
    """A variant's artifact extracted into a temporary folder, with its kernel project located."""

    tree: Path
    build_root: Path
    skill: SkillRef
    kernel_project: str
    kernel_sources: dict[str, str]  # relative to the project -> sha256

    @property
    def project_dir(self) -> Path:
        return self.tree.joinpath(*PurePosixPath(self.kernel_project).parts)

    def kernel_ref(self, implementation: str) -> KernelRef:
        return KernelRef(self.kernel_project, implementation, self.kernel_sources)


@contextmanager
def open_workspace(
    source_dir: Path, target: str, *, project: str | None = None, links_within: Path | None = None
) -> Iterator[Workspace]:
    """Pack ``target`` of ``source_dir`` (its links to files allowed into ``links_within``), extract it
    into a temporary folder, and yield the workspace.

    The folder (tree and build directory) is removed on exit.
    """
    from skillpm.pack import pack

    with tempfile.TemporaryDirectory(prefix="skillpm-bench-") as temporary:
        root = Path(temporary)
        (built,) = pack(source_dir, root / "dist", targets=[target], links_within=links_within)
        tree = root / "skill"
        tree.mkdir()
        metadata = extract(built.path.read_bytes(), tree)
        files = sorted(metadata.files)
        projects = find_projects(files)
        if project is not None:
            chosen = project.strip("/")
            if chosen not in projects:
                raise BenchError(
                    f"{chosen!r} is not a kernel project of {metadata.name} {target} "
                    f"(found: {', '.join(projects) or 'none'})",
                    hint=f"a kernel project holds {BUILD_SCRIPT} and {REFERENCE}",
                )
        elif len(projects) == 1:
            chosen = projects[0]
        else:
            raise BenchError(
                f"{metadata.name} {target} has {len(projects) or 'no'} kernel projects"
                + (f" ({', '.join(projects)})" if projects else ""),
                hint=f"a kernel project holds {BUILD_SCRIPT} and {REFERENCE}; name one with --kernel",
            )
        prefix = "" if chosen == "." else chosen + "/"
        sources = {
            path[len(prefix) :]: digest
            for path, digest in metadata.files.items()
            if path.startswith(prefix) and is_kernel_source(path[len(prefix) :])
        }
        skill = SkillRef(metadata.name, metadata.version, metadata.target, built.sha256)
        yield Workspace(tree, root / "build", skill, chosen, dict(sorted(sources.items())))

