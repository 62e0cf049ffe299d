"""How much real front matter the plain reader takes without PyYAML, and that PyYAML reads it the same.

Not a test (it needs the repositories, which CI does not fetch): point it at exported snapshots,
as for bench/corpus.py::

    python bench/frontmatter_readers.py /tmp/corpus/*

For each SKILL.md whose front matter is closed, :func:`skillpm.validation.plainyaml.read_plain`
reads it or declines; each one it reads is read again by PyYAML with the front matter's rules
(:func:`skillpm.validation.yamlfront.read_yaml`), and the fields (their types too) and key lines
are compared. Prints how many it read and every difference; exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skillpm.validation.frontmatter import DELIMITER, MAX_DEPTH, MAX_INT_DIGITS
from skillpm.validation.plainyaml import read_plain
from skillpm.validation.yamlfront import YamlProblem, read_yaml


def same(left: object, right: object) -> bool:
    """Equal, and of the same types all the way down (``1``, ``1.0`` and ``True`` differ)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)  # type: ignore[call-overload]
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))  # type: ignore[arg-type]
    return left == right


def front_matter(path: Path) -> str | None:
    """The front matter of the SKILL.md at ``path``, or ``None`` when it has none that is closed."""
    try:
        lines = path.read_bytes().decode("utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == DELIMITER), None)
    return "\n".join(lines[1:end]) if lines[0].rstrip() == DELIMITER and end is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    roots = parser.parse_args().roots
    total = read = differ = 0
    for root in roots:
        for path in sorted(root.rglob("SKILL.md")):
            text = front_matter(path)
            if text is None:
                continue
            total += 1
            plain = read_plain(text)
            if plain is None:
                continue
            read += 1
            reference = read_yaml(text, max_depth=MAX_DEPTH, max_int_digits=MAX_INT_DIGITS)
            if isinstance(reference, YamlProblem) or not (same(plain[0], reference[0]) and plain[1] == reference[1]):
                differ += 1
                print(f"differs: {path}\n  plain:  {plain}\n  PyYAML: {reference}")
    share = f"{read / total:.1%}" if total else "none"
    print(f"front matter: {total}; read without PyYAML: {read} ({share}); read differently: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
