"""The value type every validation rule reports: a :class:`Finding`."""

from __future__ import annotations

from enum import Enum

from skillpm.records import Record


class Severity(str, Enum):
    """How serious a finding is: an error makes a skill invalid, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class Finding(Record):
    """One problem found in a skill tree.

    ``file`` is the posix path of the file on disk, relative to the skill source root;
    ``line`` is 1-based, or ``None`` when the problem is not tied to a line.
    """

    file: str
    line: int | None
    rule: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        """Whether this finding makes the skill invalid."""
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, str, str]:
        """The key that orders findings by file, line, rule and message."""
        return (self.file, self.line or 0, self.rule, self.message)

    def to_dict(self) -> dict[str, str | int | None]:
        """The finding as a JSON-ready dict."""
        return {
            "file": self.file,
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
        }

    def __str__(self) -> str:
        """The finding as one line; a file name with control characters is shown escaped, as ``repr`` does."""
        file = self.file if self.file.isprintable() else repr(self.file)[1:-1]
        where = file if self.line is None else f"{file}:{self.line}"
        return f"{where}: {self.severity.value} [{self.rule}] {self.message}"


def error(file: str, line: int | None, rule: str, message: str) -> Finding:
    """An error finding."""
    return Finding(file, line, rule, Severity.ERROR, message)
