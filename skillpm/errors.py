"""The exceptions skillpm raises: one base, one level of subclasses.

Every error carries a one-line message that says what went wrong, and an optional
``hint`` that says what to do. The CLI prints ``error: <message>`` (and the hint) and
exits with the class's ``exit_code``; the library never calls ``sys.exit``.
"""

from __future__ import annotations


class SkillpmError(Exception):
    """Base of every error skillpm reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: What ``--json`` adds to the error object beside ``error``, ``hint`` and ``code`` (``resolve --explain``:
        #: the candidates and why each was skipped).
        self.details: dict[str, object] = {}


class ManifestError(SkillpmError):
    """A skill source or its skillpm.toml cannot be read or is invalid."""


class ValidationFailed(SkillpmError):
    """A skill failed validation; the findings say why."""


class TargetError(SkillpmError):
    """A GPU target, capability or GPU name cannot be parsed."""

    exit_code = 2


class RequirementError(SkillpmError):
    """A package requirement or version specifier cannot be parsed."""

    exit_code = 2


class ResolutionError(SkillpmError):
    """No version or variant of a package suits the request."""


class IndexFormatError(SkillpmError):
    """A registry index is missing, corrupt, or of an unknown format."""


class RegistryError(SkillpmError):
    """A registry cannot be reached, read or written as asked (for example, an immutable version)."""


class RegistryUnreachable(RegistryError):
    """A registry did not answer: connection refused, timed out, or kept failing after retries; or could not be
    asked: a directory that is not there, or (offline) a document or archive that is not cached."""


class ArchiveError(SkillpmError):
    """An archive is unsafe, corrupt, or does not match its digest."""


class SourceError(SkillpmError):
    """A skill source beyond a registry (folder, git repository, archive URL, well-known index) cannot be used."""


class InstallError(SkillpmError):
    """An install, removal or sync cannot be carried out."""


class LockfileError(SkillpmError):
    """The lockfile cannot be read, or disagrees with what is installed."""
