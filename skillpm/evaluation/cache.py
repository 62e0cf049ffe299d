"""Answers kept between runs, so an interrupted or repeated evaluation asks nothing twice.

One JSON file per answer under ``<user cache>/eval/`` (``$SKILLPM_CACHE_DIR/eval`` when
set), named by the key :func:`skillpm.evaluation.run.answer_key` derives from the request;
written atomically, so a killed run leaves whole entries or none (and its temporary
file is removed by a later write beside it, once stale). Only answers are kept:
checks are decided again on every run, so a fixed check applies to old answers too.

The cache may be shared or restored from elsewhere (a CI cache), and the key is worked out
from what anyone can know (the endpoint, the model, a public skill's cases), so an entry is
taken only when it carries an HMAC-SHA256 of its key and answer under a secret of this user's,
kept in the data folder (``eval-answers.key``, mode 0600), never in the cache: answers planted
by whoever else can write the cache are not taken as the model's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path
from typing import Any

from skillpm.cache import cache_root, write_cache_file
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_ANSWER_SIZE, MAX_KEY_SIZE, open_to_others, read_regular_file

_SECRET_FILE = "eval-answers.key"
_SECRET_SIZE = 32  # bytes, written as 64 hex digits


class AnswerCache:
    """JSON documents by key, each sealed with this user's secret; an unreadable or unsealed entry
    counts as absent. Without a usable secret (its file open to others, or unwritable), nothing
    is taken from the cache and nothing is put in it."""

    def __init__(self, root: Path | None = None, *, secret: Path | None = None) -> None:
        from skillpm.userdirs import user_path

        self.root = cache_root() / "eval" if root is None else root
        self._secret_path = user_path("data") / _SECRET_FILE if secret is None else secret
        self._secret: bytes | None | bool = False  # False: not read yet
        self._reading = threading.Lock()  # a run's workers ask at once: one secret, made once

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _key(self) -> bytes | None:
        """This user's secret, made on first use; None when it cannot be trusted or made."""
        with self._reading:
            if self._secret is False:
                self._secret = _read_or_make_secret(self._secret_path)
        return self._secret  # type: ignore[return-value]

    def _seal(self, secret: bytes, key: str, answer: Any) -> str:
        payload = json.dumps([key, answer], sort_keys=True).encode("utf-8")
        return hmac.new(secret, payload, hashlib.sha256).hexdigest()

    def get(self, key: str) -> Any | None:
        secret = self._key()
        if secret is None:
            return None
        try:
            entry = read_json(self._path(key), MAX_ANSWER_SIZE)
        except (OSError, ValueError):
            return None
        if not (isinstance(entry, dict) and isinstance(entry.get("seal"), str) and "answer" in entry):
            return None
        if not hmac.compare_digest(entry["seal"], self._seal(secret, key, entry["answer"])):
            return None
        return entry["answer"]

    def put(self, key: str, document: Any) -> None:
        secret = self._key()
        if secret is None:
            return
        entry = {"answer": document, "seal": self._seal(secret, key, document)}
        write_cache_file(self._path(key), json.dumps(entry, sort_keys=True).encode("utf-8"))


def _read_or_make_secret(path: Path) -> bytes | None:
    """The secret in ``path`` (64 hex digits, readable by this user alone), made if absent."""
    import secrets

    from skillpm.atomic import atomic_write

    try:
        text = read_regular_file(path, MAX_KEY_SIZE).decode("ascii").strip()
    except FileNotFoundError:
        text = secrets.token_hex(_SECRET_SIZE)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("ascii") + b"\n", mode=0o600)
        except OSError:
            return None
        return bytes.fromhex(text)
    except (OSError, ValueError):
        return None
    if open_to_others(path) or len(text) != 2 * _SECRET_SIZE:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
