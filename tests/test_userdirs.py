"""skillpm's user folders: platformdirs' answer, found without importing it where that is safe."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("kind", ["config", "data", "cache"])
@pytest.mark.parametrize(
    ("xdg", "home"),
    [("/x/y", "/h"), ("/x/y/", None), ("", "/h"), (None, "/h/"), (None, "/"), ("relative", "/h"), (None, "rel")],
)
def test_user_path_is_platformdirs_answer(kind: str, xdg: str | None, home: str | None, monkeypatch) -> None:
    """The directories skillpm works out itself on Linux (to skip importing platformdirs) are platformdirs'."""
    import platformdirs

    from skillpm.userdirs import user_path

    for variable, value in ((f"XDG_{kind.upper()}_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    assert user_path(kind) == getattr(platformdirs, f"user_{kind}_path")("skillpm", appauthor=False)
