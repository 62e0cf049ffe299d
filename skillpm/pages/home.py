"""The registry's home page: every package, listed without JavaScript, filtered as you type with it.

Pure: the registry's name and its search entries in, HTML bytes out.
"""

from __future__ import annotations

from typing import Sequence

from skillpm.index.model import SearchEntry
from skillpm.pages.assets import document
from skillpm.pages.markup import href, text

DESCRIPTION_LIMIT = 300


def registry_option(embedded: bool) -> str:
    """The ``--registry`` part of an install command: none for the embedded registry.

    Elsewhere the page cannot know the URL it is served from; the script writes it in.
    """
    if embedded:
        return ""
    return ' --registry <span data-registry-url="">URL-OF-THIS-REGISTRY</span>'


def _row(entry: SearchEntry) -> str:
    link = href(f"pages/{entry.name}.html")
    name = f'<a href="{link}">{text(entry.name)}</a>' if link else text(entry.name)
    keywords = " ".join(f"#{text(word, 40)}" for word in entry.keywords[:12])
    targets = "".join(f'<span class="chip">{text(target, 20)}</span>' for target in entry.targets[:16])
    return (
        f"<tr><td>{name}</td><td>{text(entry.version, 40)}</td>"
        f"<td>{text(entry.description, DESCRIPTION_LIMIT)}"
        + (f'<br><span class="muted">{keywords}</span>' if keywords else "")
        + f"</td><td>{targets}</td></tr>"
    )


def home_page(registry_name: str, entries: Sequence[SearchEntry], *, embedded: bool) -> bytes:
    """The home page of a registry named ``registry_name`` holding ``entries`` (listed by name)."""
    ordered = sorted(entries, key=lambda entry: entry.name)
    count = f"{len(ordered)} package{'' if len(ordered) == 1 else 's'}"
    rows = "".join(_row(entry) for entry in ordered)
    listing = (
        '<div class="scroll" tabindex="0" role="region" aria-label="packages">'
        '<table class="packages" id="packages"><caption class="muted">' + count + "</caption>"
        '<thead><tr><th scope="col">package</th><th scope="col">latest</th><th scope="col">description</th>'
        f'<th scope="col">GPU targets</th></tr></thead><tbody>{rows}</tbody></table></div>'
        if ordered
        else '<p class="none">This registry holds no package yet.</p>'
    )
    body = (
        '<header><p class="muted">skillpm registry</p>'
        f"<h1>{text(registry_name, 200)}</h1>"
        f"<p>Install a package for this machine's GPU with "
        f"<code>skillpm install NAME{registry_option(embedded)}</code>; each package's page says which variant "
        "serves which GPU, and what its evidence says.</p></header>"
        '<main id="main">'
        '<div class="filter" id="filter-form" hidden><label for="filter">Filter packages</label> '
        '<input id="filter" type="search" autocomplete="off" spellcheck="false" '
        'placeholder="name, description, keyword or target"> '
        '<span id="filter-status" role="status" aria-live="polite"></span></div>'
        f"{listing}</main>"
    )
    return document(title=f"{registry_name} - skillpm registry", root="", body=body, description=count)
