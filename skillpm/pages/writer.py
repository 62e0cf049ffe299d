"""Write a registry's pages beside its index: the only part of :mod:`skillpm.pages` that does I/O.

``registry build`` writes every page; each registry write (``registry init``, ``add``,
``yank``, ``rebuild``, and so ``publish``) rewrites the home page and the pages of the
packages it changed. The attestations of each package's latest version are verified here,
when the page is built, with the trust the registry brings (the embedded registry's shipped
key), the user's policy file and the keys given (``registry build --trusted-key``), and eval
evidence against the test set the registry's own archive records; the policy's minimums are
not applied: a page shows what the evidence says, not whether it meets one user's bar. A file whose bytes are unchanged is not rewritten.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from skillpm.atomic import atomic_write, fsync_directory, recover_folder
from skillpm.errors import RegistryError, SkillpmError
from skillpm.index.model import PackageDocument
from skillpm.pages.assets import SCRIPT, STYLESHEET, script, stylesheet
from skillpm.pages.evidence import Evidence
from skillpm.pages.home import home_page
from skillpm.pages.package import latest, package_page
from skillpm.registry.directory import LocalRegistry

if TYPE_CHECKING:
    from skillpm.attest.policy import Policy
    from skillpm.attest.verify import SigstoreTrust

HOME = "index.html"
PAGES = "pages"
#: The name .ci/build-registry gives the embedded registry: its pages install without --registry.
EMBEDDED_NAME = "skillpm-embedded"


def page_path(name: str) -> str:
    """Where the page of package ``name`` lives, relative to the registry root."""
    return f"{PAGES}/{name}.html"


class _Verifier:
    """Verifies attestations for the pages; builds its policy on first use (so unattested registries load no crypto)."""

    def __init__(self, registry: LocalRegistry, trusted_keys: Sequence[Path]) -> None:
        self.registry = registry
        self.trusted_keys = tuple(trusted_keys)
        self._policy: tuple[Policy, SigstoreTrust] | None = None

    def context(self) -> tuple[Policy, SigstoreTrust]:
        if self._policy is None:
            from skillpm.attest.policy import Policy
            from skillpm.attest.variants import effective_policy, key_policy, sigstore_trust
            from skillpm.attest.verify import SigstoreTrust

            policy = effective_policy(self.registry.label, project_root=None, extra=key_policy(self.trusted_keys))
            trust = sigstore_trust()
            if trust.trusted_root is None:
                trust = SigstoreTrust(offline=True)  # building pages makes no network request
            self._policy = (Policy(policy.keys, policy.identities), trust)
        return self._policy

    def evidence(self, document: PackageDocument) -> dict[str, list[Evidence]]:
        """Each attested variant of the latest version: its attestations as verified now."""
        entry = latest(document)
        if entry is None or not any(variant.attestations for variant in entry.variants):
            return {}
        from skillpm.attest.batch import verify_variants
        from skillpm.attest.variants import archive_at_hand, has_eval_evidence

        policy, trust = self.context()
        found: dict[str, list[Evidence]] = {}
        attested = [(entry.version, variant) for variant in entry.variants if variant.attestations]
        # Eval evidence is checked against the test set the registry's own archive records.
        reports = verify_variants(self.registry, document.name, attested, policy=policy, sigstore=trust,
                                  archive=lambda variant: archive_at_hand(self.registry, variant),
                                  wanted=has_eval_evidence)
        for report in reports:
            items = found.setdefault(report.target, [])
            for attestation in report.attestations:
                failed = attestation.first_failure()
                statement = attestation.statement
                items.append(
                    Evidence(
                        predicate_type=attestation.predicate_type,
                        signer=attestation.signer(),
                        verified=attestation.ok,
                        problem=f"{failed.name}: {failed.detail}" if failed else None,
                        predicate=statement.predicate if statement is not None and attestation.ok else None,
                    )
                )
        return found


def _inside(root: Path, relative: str) -> Path:
    """``root/relative``, refused when a link would take it out of ``root``, or into its version-control
    folder (a cloned registry's ``pages`` -> ``.git/hooks``)."""
    from skillpm.containment import vcs_component

    path = root.joinpath(*relative.split("/"))
    folder = path.parent.resolve()
    if (folder != root and root not in folder.parents) or vcs_component(folder.relative_to(root)) is not None:
        raise RegistryError(f"{path.parent} leads out of the registry at {root} (a link?); pages not written")
    return path


def _check_pages_folder(root: Path) -> None:
    """RegistryError unless ``pages/`` is a real folder of the registry at ``root``, or absent: checked before
    anything in it is cleaned, for a cloned registry's ``pages -> ~/.claude/skills`` would have skillpm's
    leftovers there (a skill a killed install moved aside) removed."""
    folder = root / PAGES
    try:
        mode = folder.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise RegistryError(
            f"{folder} is a link, which leads out of the registry at {root} or may; pages not written",
            hint="a registry's pages are its own: replace the link with a folder",
        )
    if not stat.S_ISDIR(mode):
        raise RegistryError(f"{folder} is not a folder; pages not written", hint="move it away")


def _write(root: Path, relative: str, data: bytes) -> bool:
    """Write ``data`` at ``relative`` unless it already holds exactly that; whether it wrote.

    Through a temporary file in a leftover folder and a rename (:func:`skillpm.atomic.atomic_write`),
    so a reader (or a kill) sees the old page or the new one, and the next write removes what a kill
    left; not synced to disk one by one as the index is (a page is rebuilt from the index by
    'registry build'): that keeps a 10,000-package build within its minute.
    """
    path = _inside(root, relative)
    if _holds(path, data):
        return False
    atomic_write(path, data, durable=False)
    return True


def _holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` is a regular file holding exactly ``data``; reads at most ``len(data) + 1`` bytes of it,
    and none unless its size is that of ``data`` (a cloned registry's ``index.html`` may be gigabytes of zeros)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:  # absent, a link, or unreadable: rewritten
        return False
    with os.fdopen(handle, "rb") as stream:
        held = os.fstat(stream.fileno())
        if not stat.S_ISREG(held.st_mode) or held.st_size != len(data):
            return False
        return stream.read(len(data) + 1) == data


#: The temporary page files older skillpm versions wrote, ``.<page>.<pid>.<8 hex>.tmp``, which a kill left.
_OLD_TEMPORARY = re.compile(r"\.(?:.+\.html|pages\.css|pages\.js)\.[0-9]+\.[0-9a-f]{8}\.tmp", re.DOTALL)


def _remove_temporaries(root: Path) -> None:
    """Remove what killed page writes left in the registry's top folder and ``pages/``: leftover
    folders, and the temporary files older versions wrote (a static host would publish them)."""
    for folder in (root, root / PAGES):
        recover_folder(folder, restore=())
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = folder / name
            if _OLD_TEMPORARY.fullmatch(name) and stat.S_ISREG(path.lstat().st_mode):
                path.unlink()


def write_pages(
    root: Path, *, names: Iterable[str] | None = None, trusted_keys: Sequence[Path] = (), label: str | None = None
) -> list[str]:
    """(Re)write the pages of the registry at ``root``; the paths written, relative to it.

    ``names``: the packages whose pages to rewrite (a page of a package no longer listed is
    removed); ``None``: every package, and every page of a package not listed is removed.
    The home page and the stylesheet and script are always brought up to date. Under the registry's
    lock: temporary files killed page writes left are removed first.
    """
    root = root.resolve()
    registry = LocalRegistry(root, label or root.as_uri(), verify=False)
    config = registry.config()
    entries = registry.search_entries()
    embedded = config.name == EMBEDDED_NAME
    listed = {entry.name for entry in entries}
    wanted = sorted(listed if names is None else set(names))
    verifier = _Verifier(registry, trusted_keys)
    _check_pages_folder(root)
    _remove_temporaries(root)
    written = [
        relative
        for relative, data in (
            (HOME, home_page(config.name, entries, embedded=embedded)),
            (STYLESHEET, stylesheet()),
            (SCRIPT, script()),
        )
        if _write(root, relative, data)
    ]
    stale = [name for name in wanted if name not in listed]
    for name in wanted:
        document = registry.package(name) if name in listed else None
        if document is None:
            continue
        data = package_page(document, registry_name=config.name, embedded=embedded, evidence=verifier.evidence(document))
        if _write(root, page_path(name), data):
            written.append(page_path(name))
    if names is None:
        folder = _inside(root, page_path("x")).parent
        stale += sorted(path.stem for path in folder.glob("*.html") if path.stem not in listed)
    for name in stale:
        _inside(root, page_path(name)).unlink(missing_ok=True)
    if written:
        fsync_directory(root / PAGES)
    return written


def update_pages(root: Path, names: Iterable[str] | None = None) -> None:
    """Bring the pages up to date after a registry write (under its lock); a failure, whatever it is, says in
    one line that the index was written (a page drawn from hostile figures once ended such a write in a
    traceback after the index was in place)."""
    try:
        write_pages(root, names=names)
    except Exception as error:  # the index is written: every failure of the pages is told as such
        if isinstance(error, SkillpmError):
            detail = error.message
        elif isinstance(error, OSError):
            detail = error.strerror or str(error)
        else:
            detail = f"skillpm failed drawing them ({type(error).__name__}; --debug shows where, please report it)"
        raise RegistryError(
            f"the index of {root} was written, but its web pages were not: {detail}",
            hint=f"run 'skillpm registry build {root}' to write them",
        ) from error
