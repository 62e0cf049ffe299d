"""Answers kept between runs, so an interrupted or repeated evaluation asks nothing twice.

One JSON file per answer under ``<user cache>/eval/`` (``$SKILLPM_CACHE_DIR/eval`` when
set), named by the key :func:`skillpm.evaluation.run.answer_key` derives from the request;
written atomically, so a killed run leaves whole entries or none (and its temporary
file is removed by a later write beside it, once stale). Only answers are kept:
checks are decided again on every run, so a fixed check applies to old answers too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skillpm.cache import cache_root, write_cache_file
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_ANSWER_SIZE


class AnswerCache:
    """JSON documents by key; an unreadable entry counts as absent."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = cache_root() / "eval" if root is None else root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        try:
            return read_json(self._path(key), MAX_ANSWER_SIZE)
        except (OSError, ValueError):
            return None

    def put(self, key: str, document: Any) -> None:
        write_cache_file(self._path(key), json.dumps(document, sort_keys=True).encode("utf-8"))
