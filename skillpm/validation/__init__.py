"""Validate Agent Skills trees against the specification and skillpm's own rules.

Pure and import-light (PyYAML only for front matter outside the plain subset): every problem is a
:class:`Finding`, never an exception.
"""

from skillpm.validation.findings import Finding, Severity
from skillpm.validation.tree import validate_skill_dir, validate_tree

__all__ = ["Finding", "Severity", "validate_skill_dir", "validate_tree"]
