"""Reading a SKILL.md front matter that strict YAML refuses only for an unquoted ``: ``.

Tools that write SKILL.md as text (upskill's ``Skill.render`` in src/upskill/models.py writes
``description: {self.description}`` unquoted) produce lines such as
``description: Fix kernels. Use when: a launch fails``, which YAML reads as a nested mapping
and refuses; agents that parse strictly then drop the whole front matter. What the author
meant is plain: one ``key: value`` per line. :func:`quote_colon_values` quotes exactly those
values (as a YAML double-quoted string, which JSON's string syntax is), so that the text
can be written back as valid YAML. A front matter larger than the most that is parsed
(:data:`~skillpm.validation.frontmatter.MAX_FRONTMATTER_SIZE`) is left as it is. Pure.
"""

from __future__ import annotations

import json
import re

from skillpm.validation.frontmatter import DELIMITER, MAX_FRONTMATTER_SIZE

#: ``key: value`` on one line, the value a plain scalar (not quoted, a block, a flow collection,
#: an anchor, alias or tag, or a comment), its trailing blanks included (stripped after: a lazy
#: value before ``[ \t]*`` made matching quadratic in a run of blanks inside it).
_PLAIN = re.compile(r"(?P<key>[A-Za-z0-9_][A-Za-z0-9_-]*):[ \t]+(?P<value>[^\s'\"|>\[{&*!%@`#].*)")


def quote_colon_values(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with each top-level one-line plain value of its front matter that holds ``": "``
    (or ends in ``:``) double-quoted, and the keys quoted; ``(text, ())`` when there is none."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != DELIMITER:
        return text, ()
    end = next((index for index in range(1, len(lines)) if lines[index].rstrip() == DELIMITER), None)
    if end is None or len("\n".join(lines[1:end]).encode("utf-8")) > MAX_FRONTMATTER_SIZE:
        return text, ()
    quoted = []
    for index in range(1, end):
        line = lines[index]
        ending = "\r" if line.endswith("\r") else ""
        match = _PLAIN.fullmatch(line.removesuffix("\r"))
        continued = index + 1 < end and lines[index + 1][:1] in (" ", "\t")  # a multi-line scalar: left alone
        if match is None or continued:
            continue
        value = match["value"].rstrip(" \t")
        if ": " in value or value.endswith(":"):
            lines[index] = f"{match['key']}: {json.dumps(value, ensure_ascii=False)}{ending}"
            quoted.append(match["key"])
    return "\n".join(lines), tuple(quoted)
