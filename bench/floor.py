"""The least a command's job costs in Python, for bench/startup.py to show beside skillpm's time.

``python bench/floor.py install ARCHIVE DEST``: import click, hash the archive (sha256)
and extract it with tarfile's ``data`` filter into the new folder DEST, as any installer
must at least do; no resolving, no checks of the tree, no signature, no lock file.
``python bench/floor.py validate SKILL``: import click and PyYAML and parse SKILL.md's
front matter, as any validator built on PyYAML must at least do (skillpm reads plain front
matter without PyYAML, and so goes under it).

Only ``sys`` is imported before the job, so the figure is the job's and Python's.
"""

import sys


def install(archive: str, destination: str) -> None:
    import hashlib
    import tarfile

    import click  # noqa: F401  (every command of a click CLI loads it)

    with open(archive, "rb") as stream:
        data = stream.read()
    hashlib.sha256(data).hexdigest()
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")


def validate(skill: str) -> None:
    import click  # noqa: F401
    import yaml

    with open(f"{skill}/SKILL.md", encoding="utf-8") as stream:
        text = stream.read()
    yaml.safe_load(text.split("---\n")[1])


if __name__ == "__main__":
    {"install": install, "validate": validate}[sys.argv[1]](*sys.argv[2:])
