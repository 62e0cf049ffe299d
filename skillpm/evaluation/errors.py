"""The errors of ``skillpm eval``.

* :class:`EvalError`: the skill, its test cases or the options cannot be evaluated as asked.
* :class:`EndpointError`: the chat completions endpoint cannot be used (unreachable, refused
  the key, kept failing, answered nonsense). Messages name the URL, never the key.
"""

from __future__ import annotations

from skillpm.errors import SkillpmError


class EvalError(SkillpmError):
    """A skill, its test cases, or imported results cannot be evaluated as asked."""


class EndpointError(SkillpmError):
    """The chat completions endpoint is unreachable, refused the request, or answered nonsense."""
