"""How names, digests and GPU targets are spelt: checks made with string methods, not regular expressions.

These checks run in nearly every command, and each pattern ``re`` compiles costs start-up: between
0.4 and 1.4 million instructions apiece (callgrind, Python 3.11), for rules a few string methods
state as exactly. tests/test_spelling.py holds each function to the pattern it replaces.
"""

from __future__ import annotations

DIGITS = "0123456789"
HEX_DIGITS = DIGITS + "abcdef"
LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz" + DIGITS


def only(text: str, characters: str) -> bool:
    """Whether ``text`` is non-empty and made of ``characters`` alone."""
    return bool(text) and not text.strip(characters)


def is_sha256(text: str) -> bool:
    """Whether ``text`` is a sha256 digest as skillpm writes one: 64 lowercase hex digits (``[0-9a-f]{64}``)."""
    return len(text) == 64 and only(text, HEX_DIGITS)


def is_lowercase_words(text: str) -> bool:
    """Whether ``text`` is lowercase ASCII letters and digits in runs joined by single hyphens
    (``[a-z0-9]+(?:-[a-z0-9]+)*``): a package's name, an agent's."""
    return all(only(word, LOWER_ALNUM) for word in text.split("-"))


#: The longest plain version: Python's int() refuses more digits than sys.get_int_max_str_digits(), which
#: may be set as low as 640.
PLAIN_VERSION_LENGTH = 640


def is_plain_version(text: str) -> bool:
    """Whether ``text`` is a PEP 440 version in the form most are written in (``1.0.0``, ``0.2.0a1``,
    ``2.1.post1.dev3``): ``[0-9]+(?:\\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\\.post[0-9]+)?(?:\\.dev[0-9]+)?``, in at
    most :data:`PLAIN_VERSION_LENGTH` characters, so that packaging reads each of its numbers."""
    if len(text) > PLAIN_VERSION_LENGTH:
        return False
    rest = text
    for marker in (".dev", ".post"):  # taken off the end: a dev release's number comes after a post release's
        head, found, number = rest.rpartition(marker)
        if found:
            if not only(number, DIGITS):
                return False
            rest = head
    start = len(rest) - len(rest.lstrip(DIGITS + "."))
    release, pre = rest[:start], rest[start:]
    if pre:
        kind = next((kind for kind in ("a", "b", "rc") if pre.startswith(kind)), "")
        if not (kind and only(pre[len(kind):], DIGITS)):
            return False
    return all(only(part, DIGITS) for part in release.split("."))


def target_parts(text: str) -> tuple[int, int, str] | None:
    """The major, minor and suffix of a GPU target spelt ``sm_<major><minor>[a|f]`` (``sm_90a``: 9, 0, "a"),
    the major one or two digits without a leading zero and the minor one digit; ``None`` for other text."""
    if not text.startswith("sm_"):
        return None
    digits = text[3:]
    suffix = digits[-1:] if digits[-1:] in ("a", "f") else ""
    digits = digits[: len(digits) - len(suffix)]
    if not (2 <= len(digits) <= 3 and only(digits, DIGITS) and digits[0] != "0"):
        return None
    return int(digits[:-1]), int(digits[-1]), suffix
