"""The OIDC identity a CI gives keyless signing, looked for by the command's deadline, in a process of its own.

sigstore-python (through the ``id`` package) looks for a CI's credential by asking its token service over
HTTP and by running programs found on PATH (``buildkite-agent``, ``circleci``), with no timeout for those
programs: one that never ends held ``--sign sigstore`` for ever. The search runs in a child process, in a
session of its own and without skillpm's secret variables (those programs need none of them); when the
command's deadline passes, or the command is interrupted, the child and whatever it started are killed. On Linux
they are also killed when the command is (``skillpm.childenv.ENDS_WITH_PARENT``), which their own session keeps
from a CI killing the job's process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from skillpm.attest import AttestationError
from skillpm.childenv import ENDS_WITH_PARENT

#: The child: prints the credential it finds (nothing when none), or why it failed on stderr with exit 1. On Linux it
#: ends with the command (process ARGV[1]) however that ends, even killed, killing its session's group: itself and
#: what it started.
_DETECT = ENDS_WITH_PARENT + """
import signal
try:
    ends_with(int(sys.argv[1]), lambda: os.killpg(0, signal.SIGKILL))
    from sigstore.oidc import detect_credential
    token = detect_credential()
except Exception as error:
    sys.stderr.write(str(error) or type(error).__name__)
    sys.exit(1)
sys.stdout.write(token or "")
"""


def ambient_credential() -> str | None:
    """The OIDC token this environment's CI gives (GitHub Actions, GitLab, Buildkite, CircleCI, Google Cloud),
    None when it gives none; AttestationError when the search fails or does not end by the command's deadline."""
    from skillpm.childenv import without_secrets
    from skillpm.display import clean
    from skillpm.registry.settings import command_deadline, unanswered_by

    deadline = command_deadline()
    # -P: not the current folder first on the child's import path (a project's own sigstore/ would run there)
    child = subprocess.Popen([sys.executable, "-P", "-c", _DETECT, str(os.getpid())], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=without_secrets(),
                             start_new_session=True)
    try:
        token, why = child.communicate(timeout=max(0.0, deadline.remaining()))
    except subprocess.TimeoutExpired:
        raise AttestationError(f"keyless signing failed: looking for this CI's identity: {unanswered_by(deadline)}",
                               hint="pass a token (--identity-token or $SIGSTORE_ID_TOKEN)") from None
    finally:
        _end(child)
    if child.returncode != 0:
        reason = why.decode("utf-8", "replace").strip() or f"the search ended with {child.returncode}"
        raise AttestationError(f"keyless signing failed: looking for this CI's identity: {clean(reason, 300)}")
    return token.decode("utf-8", "replace").strip() or None


def _end(child: subprocess.Popen[bytes]) -> None:
    """Kill the search if it still runs, with what it started (its session's group: the child is not reaped yet,
    so its number names that group and no other)."""
    if child.poll() is None:
        killpg = getattr(os, "killpg", None)
        try:
            if killpg is not None:
                killpg(child.pid, signal.SIGKILL)
            else:
                child.kill()
        except ProcessLookupError:
            pass
    child.communicate()
