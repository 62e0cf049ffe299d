"""Refreshing Sigstore's trust root over TUF by the command's deadline, in a way that can be abandoned: for
verifying keyless bundles (:func:`skillpm.attest.keyless.sigstore_verifier`) and for signing them
(:func:`skillpm.attest.bundle.sign_keyless`), which needs the instance's signing config too.

sigstore-python refreshes its TUF metadata and its trusted root over the network, outside skillpm's
HTTP client and with no deadline of skillpm's, writing its folders as it goes (the trusted root by
an ``open`` and a write, not a rename). Run in a thread left behind at the deadline, a refresh kept
going until the process exited, which could stop it between the two: the cached trusted root was
left empty, and every later ``--offline`` verification failed on it.

The refresh now runs in a child process, on a copy of sigstore-python's folders: when it ends in
time, each file it changed is renamed into the user's folders and the trusted root and signing config
it verified are read from the copy; when the deadline passes, the child is killed and the copy removed, so nothing
of it is left running and nothing it wrote reaches the user's folders. On Linux the child also ends, removing
the copy, when the command is killed (``PR_SET_PDEATHSIG``). The child's import path leaves out the
folder the command runs in (``-P``), which may be a cloned project's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.childenv import ENDS_WITH_PARENT

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig

#: The child: refreshes the trust root of the TUF repository at ARGV[3] with sigstore-python's folders for it
#: (metadata, targets) at ARGV[1], ARGV[2]; prints why it failed and exits 1 when it does. On Linux it ends with
#: the command (process ARGV[4]) however that ends, even killed: it removes the folder of those copies and exits.
_REFRESH = ENDS_WITH_PARENT + """
try:
    import shutil
    def end():
        shutil.rmtree(os.path.dirname(sys.argv[1]), ignore_errors=True)
        os._exit(1)
    ends_with(int(sys.argv[4]), end)
    from pathlib import Path
    import sigstore._internal.tuf as tuf
    from sigstore.models import ClientTrustConfig
    folders = (Path(sys.argv[1]), Path(sys.argv[2]))
    tuf._get_dirs = lambda url: folders
    ClientTrustConfig.from_tuf(sys.argv[3], offline=False)
except Exception as error:
    cause = error.__cause__ or error
    reason = str(error) or type(error).__name__
    print(reason if cause is error else f"{reason} ({str(cause) or type(cause).__name__})")
    sys.exit(1)
"""


def tuf_url(staging: bool) -> str:
    """The TUF repository of Sigstore's public instance, or of its staging one."""
    from sigstore._internal.tuf import DEFAULT_TUF_URL, STAGING_TUF_URL

    return STAGING_TUF_URL if staging else DEFAULT_TUF_URL


def refreshed_config(url: str) -> ClientTrustConfig | str:
    """The trust config (trusted root and signing config) of the Sigstore instance whose TUF repository is at
    ``url``, refreshed by the command's deadline (``$SKILLPM_HTTP_DEADLINE``); else why not (cleaned), the
    user's sigstore-python folders as they were."""
    import sigstore._internal.tuf as tuf

    from skillpm.childenv import without_secrets
    from skillpm.display import clean
    from skillpm.registry.settings import command_deadline, unanswered_by

    deadline = command_deadline()
    late = unanswered_by(deadline)
    users = tuf._get_dirs(url)
    # ignore_cleanup_errors: the child removes the folder itself when the command is ended by a signal
    with tempfile.TemporaryDirectory(prefix="skillpm-sigstore-", ignore_cleanup_errors=True) as work:
        copies = (Path(work, "metadata"), Path(work, "targets"))
        try:
            for copy, user in zip(copies, users):
                if user.is_dir():
                    shutil.copytree(user, copy, symlinks=True)
            if deadline.remaining() <= 0:
                return late
            # -P: not the current folder first on the child's import path, as ``-c`` puts it (a project's own
            # pathlib.py or sigstore/ would run there)
            child = subprocess.Popen([sys.executable, "-P", "-c", _REFRESH, *map(str, copies), url, str(os.getpid())],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=without_secrets())
        except OSError as error:  # sigstore-python's folders cannot be read, or no child can be started
            return clean(str(error), 200)
        try:
            said, _ = child.communicate(timeout=max(0.0, deadline.remaining()))
        except subprocess.TimeoutExpired:
            return late
        finally:
            if child.poll() is None:  # the deadline passed, or the command is interrupted: the copy goes with it
                child.kill()
                child.communicate()
        if child.returncode != 0:
            return clean(said.decode("utf-8", "replace").strip() or f"the refresh ended with {child.returncode}", 400)
        try:
            config = _config_in(copies[1])
            for copy, user in zip(copies, users):
                _move_in(copy, user)
        except Exception as error:  # a root sigstore does not read, a folder that cannot be written
            return clean(str(error) or type(error).__name__, 200)
        return config


def _config_in(targets: Path) -> ClientTrustConfig:
    """The trust config of the trusted root and signing config in ``targets`` (the TUF targets a refresh verified);
    sigstore-python's error for a root it refuses."""
    import json

    from sigstore.models import ClientTrustConfig

    document = {"mediaType": str(ClientTrustConfig.ClientTrustConfigType.CONFIG_0_1)}
    for key, name in (("trustedRoot", "trusted_root.json"), ("signingConfig", "signing_config.v0.2.json")):
        document[key] = json.loads((targets / name).read_bytes())
    config = ClientTrustConfig.from_json(json.dumps(document))
    _ = config.trusted_root  # checked as sigstore-python makes it: a root it refuses is not moved in
    return config


def _move_in(copy: Path, user: Path) -> None:
    """Every file and link of ``copy`` that ``user`` lacks or holds otherwise, written there by a rename."""
    from skillpm.atomic import atomic_symlink, atomic_write

    with os.scandir(copy) as entries:
        listed = list(entries)
    for entry in listed:
        path = user / entry.name
        if entry.is_symlink():
            target = os.readlink(entry.path)
            if not (path.is_symlink() and os.readlink(path) == target):
                atomic_symlink(path, target)
        elif entry.is_dir():
            _move_in(Path(entry.path), path)
        else:
            data = Path(entry.path).read_bytes()
            if not (path.is_file() and not path.is_symlink() and path.read_bytes() == data):
                atomic_write(path, data)
