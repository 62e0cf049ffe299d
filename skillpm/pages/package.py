"""A package's page: install command, target matrix, the latest version's variants and evidence, versions.

Pure: the package's index document and the evidence verified for its latest version in,
HTML bytes out. The latest version is the one ``search.json`` shows: the highest that is
not wholly yanked. Older versions are listed (the newest :data:`MAX_VERSIONS`) with their
targets, so that a page stays small however long a package's history.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from skillpm.index.model import PackageDocument, Variant, VersionEntry, version_order
from skillpm.pages import matrix
from skillpm.pages.assets import document
from skillpm.pages.evidence import Evidence, section
from skillpm.pages.home import registry_option
from skillpm.pages.markup import href, size, text

MAX_VERSIONS = 50
MAX_VARIANTS = 32
#: Characters of evidence figures a page holds; the variants after that show their attestations only.
EVIDENCE_BUDGET = 50_000


def latest(document: PackageDocument) -> VersionEntry | None:
    """The highest version that is not wholly yanked (else the highest); ``None`` when there is none."""
    live = [entry for entry in document.versions if not entry.yanked] or list(document.versions)
    return max(live, key=version_order, default=None)


def _matrix(entry: VersionEntry) -> str:
    found = matrix.rows(entry)
    if len({row.target for row in found}) == 1 and found[0].target is not None:
        return f'<p id="matrix-table">Every GPU, and a machine without one, gets <code>{text(found[0].target, 20)}</code>.</p>'
    rows = []
    for row in found:
        where = str(row.capability) if row.capability else "no NVIDIA GPU"
        gpus = text(", ".join(row.gpus)) or "\u2014"
        chosen = f"<code>{text(row.target, 20)}</code>" if row.target else '<span class="none">none</span>'
        rows.append(f'<tr><th scope="row">{where}</th><td>{gpus}</td><td>{chosen}</td><td>{text(row.how)}</td></tr>')
    return (
        '<div class="scroll" tabindex="0" role="region" aria-label="target matrix"><table class="matrix" id="matrix-table">'
        '<thead><tr><th scope="col">compute capability</th><th scope="col">GPUs</th>'
        '<th scope="col">variant installed</th><th scope="col">why</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _install(name: str, version: str, entry: VersionEntry, variant: Variant, embedded: bool) -> str:
    if variant.yanked:
        return '<p class="yanked">Yanked: installed only when pinned exactly.</p>'
    arch = matrix.install_arch(entry, variant.target)
    if arch is None:
        return '<p class="none">No GPU gets this variant: another variant of this version serves every GPU it runs on.</p>'
    flag = f" --arch {arch}" if arch else ""
    command = f"skillpm install {text(name)}=={text(version, 80)}{flag}{registry_option(embedded)}"
    return f"<pre><code>{command}</code></pre>"


def _variant(
    document: PackageDocument, entry: VersionEntry, variant: Variant, number: int, evidence: str, embedded: bool
) -> str:
    archive = variant.path.rpartition("/")[2]
    link = href(f"../{variant.path}")
    file = f'<a href="{link}">{text(archive, 200)}</a>' if link else f"<code>{text(archive, 200)}</code>"
    yanked = ' <span class="yanked">(yanked)</span>' if variant.yanked else ""
    return (
        f'<section class="variant" id="variant-{number}" aria-labelledby="variant-{number}-h">'
        f'<h3 id="variant-{number}-h"><code>{text(variant.target, 20)}</code>{yanked}</h3>'
        f"<dl><dt>archive</dt><dd>{file}</dd><dt>size</dt><dd>{size(variant.size)} ({variant.size} bytes)</dd>"
        f'<dt>sha256</dt><dd><code class="sha">{text(variant.sha256, 64)}</code></dd></dl>'
        f"{_install(document.name, entry.version, entry, variant, embedded)}"
        f"{evidence}</section>"
    )


def _evidence(name: str, entry: VersionEntry, evidence: Mapping[str, Sequence[Evidence]]) -> list[tuple[Variant, str]]:
    """Each variant's evidence section, figures left out once the page holds :data:`EVIDENCE_BUDGET` of them."""
    used, found = 0, []
    for number, variant in enumerate(entry.variants[:MAX_VARIANTS]):
        items = evidence.get(variant.target, ())
        full = section(items, chart_id=f"chart-{number}")
        if used + len(full) > EVIDENCE_BUDGET:
            brief = f"Figures left out to keep this page small: 'skillpm info {name}' summarises them."
            full = section(items, chart_id=f"chart-{number}", brief=brief)
        used += len(full)
        found.append((variant, full))
    return found


def _versions(document: PackageDocument) -> str:
    ordered = sorted(document.versions, key=version_order, reverse=True)
    rows = []
    for entry in ordered[:MAX_VERSIONS]:
        targets = ", ".join(
            f"{text(v.target, 20)}{' (yanked)' if v.yanked else ''}" for v in entry.variants[:MAX_VARIANTS]
        )
        attested = sum(len(v.attestations) for v in entry.variants)
        rows.append(
            f'<tr><th scope="row">{text(entry.version, 80)}</th><td>{targets}</td>'
            f"<td>{'yanked' if entry.yanked else ''}</td><td>{attested}</td></tr>"
        )
    more = f'<p class="note">and {len(ordered) - MAX_VERSIONS} older version(s)</p>' if len(ordered) > MAX_VERSIONS else ""
    return (
        '<div class="scroll" tabindex="0" role="region" aria-label="versions"><table class="versions">'
        '<thead><tr><th scope="col">version</th><th scope="col">variants</th><th scope="col">state</th>'
        f'<th scope="col">attestations</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>{more}'
    )


def package_page(
    document: PackageDocument, *, registry_name: str, embedded: bool, evidence: Mapping[str, Sequence[Evidence]]
) -> bytes:
    """The page of ``document``; ``evidence`` maps each target of its latest version to its attestations."""
    entry = latest(document)
    name = text(document.name)
    header = (
        f'<header><nav><a href="../index.html">\u2190 {text(registry_name, 200)}</a></nav><h1>{name}</h1>'
    )
    if entry is None:
        body = header + '</header><main id="main"><p class="none">No version is published.</p></main>'
        return _page(document.name, registry_name, body, "")
    facts = [f"latest version <strong>{text(entry.version, 80)}</strong>"]
    if entry.license:
        facts.append(f"license {text(entry.license, 80)}")
    if entry.agents:
        facts.append("agents " + ", ".join(text(agent, 40) for agent in entry.agents[:16]))
    keywords = "".join(f'<span class="chip">{text(word, 40)}</span>' for word in entry.keywords[:16])
    variants = "".join(
        _variant(document, entry, variant, number, shown, embedded)
        for number, (variant, shown) in enumerate(_evidence(document.name, entry, evidence))
    )
    body = (
        f'{header}<p class="description">{text(entry.description)}</p>'
        f'<p class="muted">{" &middot; ".join(facts)}</p><p>{keywords}</p></header><main id="main">'
        "<h2>Install</h2><p>For this machine's GPU (skillpm detects it; <code>--arch</code> names another):</p>"
        f"<pre><code>skillpm install {name}{registry_option(embedded)}</code></pre>"
        f'<h2 id="matrix">Target matrix of {text(entry.version, 80)}</h2>'
        "<p>Which variant <code>skillpm install</code> picks on each GPU.</p>"
        f"{_matrix(entry)}"
        f'<h2 id="variants">Variants of {text(entry.version, 80)}</h2>{variants}'
        f'<h2 id="versions">Versions</h2>{_versions(document)}</main>'
    )
    return _page(document.name, registry_name, body, entry.description)


def _page(name: str, registry_name: str, body: str, description: str) -> bytes:
    """The package page's document around ``body``."""
    return document(title=f"{name} - {registry_name}", root="../", body=body, description=description)
