"""What every page shares: the document shell with its Content-Security-Policy, the stylesheet, the script.

Pure. The policy allows nothing but this registry's own stylesheet and script (no inline
script, no inline style, no other host, no frames, no forms); the favicon is an empty
``data:`` URL so that browsers ask the server for nothing else. The script only improves
the pages: without it the listing is complete and every figure is there.
"""

from __future__ import annotations

from skillpm.pages.markup import text

STYLESHEET = "pages/pages.css"
SCRIPT = "pages/pages.js"

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def document(*, title: str, root: str, body: str, description: str = "") -> bytes:
    """A complete page: ``root`` is the relative way back to the registry's root (``""`` or ``"../"``)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{text(title, 200)}</title>"
        f'<meta name="description" content="{text(description, 300)}">'
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{root}{STYLESHEET}">'
        f'<script src="{root}{SCRIPT}" defer></script>'
        f'</head><body data-root="{root}"><a class="skip" href="#main">Skip to content</a>'
        f"{body}</body></html>\n"
    ).encode()


CSS = """\
:root {
  --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa;
  --link: #0550ae; --with: #1a7f37; --without: #8c959f; --kernel: #0969da; --eager: #bf8700;
  --ok: #1a7f37; --bad: #cf222e; --focus: #fb8c00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d; --panel: #161b22;
    --link: #79c0ff; --with: #3fb950; --without: #6e7681; --kernel: #58a6ff; --eager: #d29922;
    --ok: #3fb950; --bad: #ff7b72; --focus: #ffa657;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; font: 16px/1.5 system-ui, sans-serif; }
a { color: var(--link); }
a:focus-visible, input:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .25rem .5rem; }
header { border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: .25rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; overflow-wrap: anywhere; }
h4 { font-size: 1rem; margin: 1rem 0 .25rem; }
p, li { overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
pre { background: var(--panel); border: 1px solid var(--line); padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.muted, .note { color: var(--muted); }
.none { color: var(--muted); font-style: italic; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
.packages td:nth-child(3) { min-width: 16rem; }
.matrix td:nth-child(2) { min-width: 14rem; }
.matrix td:nth-child(4) { min-width: 10rem; }
.matrix th[scope="row"], .matrix td:nth-child(3) { white-space: nowrap; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; margin: 0 .2rem .2rem 0; font-size: .85em; }
.variant { border: 1px solid var(--line); border-radius: .5rem; padding: .25rem 1rem 1rem; margin: 1rem 0; background: var(--panel); }
.sha { overflow-wrap: anywhere; }
.yanked { color: var(--bad); }
.filter { margin: .5rem 0 1rem; }
.filter input { font: inherit; padding: .4rem .6rem; width: min(30rem, 100%); color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: .3rem; }
.chart { width: 100%; max-width: 40rem; height: auto; display: block; margin: .5rem 0; }
.chart text { fill: var(--fg); font-size: 12px; font-family: system-ui, sans-serif; }
.chart .tick { fill: var(--muted); font-size: 10px; }
.chart .group { font-weight: 600; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .whisker { stroke: var(--fg); stroke-width: 1.5; fill: none; }
.chart .with { fill: var(--with); }
.chart .without { fill: var(--without); }
.chart .kernel { fill: var(--kernel); }
.chart .eager { fill: var(--eager); }
.chart .sass { fill: var(--kernel); }
.chart .bound { fill: var(--eager); }
.chart .budget { fill: var(--without); }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.static-target { margin: .75rem 0 1.25rem; }
.static-kernels th[scope="row"], .static-gpus th[scope="row"] { white-space: nowrap; }
.static-provenance dt { font-weight: 600; }
.static-provenance dd { margin: 0 0 .25rem 1rem; overflow-wrap: anywhere; }
summary { cursor: pointer; }
[hidden] { display: none !important; }
@media (max-width: 40rem) {
  body { padding: .5rem; font-size: 15px; }
  .packages thead { display: none; }
  .packages tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
  .packages td { display: block; border: 0; padding: 0; min-width: 0; }
}
"""

SCRIPT_TEXT = """\
"use strict";
// skillpm registry pages: filter the package list as you type, and name this registry's URL
// in install commands. The pages work without this script.
(function () {
  var input = document.getElementById("filter");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#packages tbody tr"));
  var status = document.getElementById("filter-status");
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var match = words.every(function (word) { return texts[i].indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    status.textContent = shown + " of " + rows.length + " packages";
  }
  if (input && status) {
    document.getElementById("filter-form").hidden = false;
    input.addEventListener("input", apply);
    apply();
  }
  var root = document.body.getAttribute("data-root") === "../" ? "../" : "./";
  var url = new URL(root, window.location.href).href;
  document.querySelectorAll("[data-registry-url]").forEach(function (element) {
    element.textContent = url;
  });
})();
"""


def stylesheet() -> bytes:
    return CSS.encode()


def script() -> bytes:
    return SCRIPT_TEXT.encode()
