"""Maintaining a registry in a local directory: init, add, yank, rebuild, and rotating its index key.

Writes are serialised with a lock on the registry's folder, and each is all or
nothing even when its process is killed (:mod:`.journal`): its files are staged,
a journal naming them is written, then they are renamed into place, artifacts and
attestation bundles first, then the package documents that name them,
``search.json``, and the signed snapshot last; the next writer finishes a write a
killed one left. Every check runs before the journal, so a refused ``add`` changes
nothing. Published versions are immutable: a version's variants are fixed by the
``add`` that first publishes it; attestations may be added to them later.

One module per job: :mod:`.publishing` (init, add), :mod:`.yanking`,
:mod:`.rebuilding`, :mod:`.rotation` (index keys), over :mod:`.entries` (index
entries from archives), :mod:`.signing` (the snapshot), :mod:`.files` (where
files go) and :mod:`.journal` (all-or-nothing writes). This package re-exports the
operations: they are the library API that ``skillpm registry`` and ``skillpm publish`` call.
"""

from skillpm.registry.store.files import artifact_path, attestation_path, open_for_writing
from skillpm.registry.store.publishing import Added, NewAttestation, add, init
from skillpm.registry.store.rebuilding import rebuild
from skillpm.registry.store.rotation import add_index_key, retire_index_key
from skillpm.registry.store.signing import INDEX_KEY_ENV, load_index_keys
from skillpm.registry.store.yanking import yank

__all__ = [
    "INDEX_KEY_ENV",
    "Added",
    "NewAttestation",
    "add",
    "add_index_key",
    "artifact_path",
    "attestation_path",
    "init",
    "load_index_keys",
    "open_for_writing",
    "rebuild",
    "retire_index_key",
    "yank",
]
