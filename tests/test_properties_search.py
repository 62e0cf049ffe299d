"""Property test: search's entry of a package read version by version is the whole document's.

An OCI registry holds each version's entry in its tag's index, a request apiece, and search shows one
version of each package (``PackageDocument.search_entry``: the highest public version that is not wholly
yanked). ``Listing.search_entry`` reads versions highest first and stops at the first that settles it; on
random listings (public, local and unparsed versions, two spellings of one version, variants yanked or not,
versions gone when read) it must show what the whole document of the versions not gone shows.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.index.model import PackageDocument, Variant, VersionEntry, version_text_order
from test_properties_resolve import read_as_asked

VERSIONS = ["0.9", "1.0", "1.0.0", "1.0.0rc1", "1.0.0+local", "1.0.1", "1.1.0.dev1", "2.0.0b2", "2.0.0",
            "2.0.0+cu12", "2.0.0.post1", "3.0.0+only", "not-a-version"]


@st.composite
def documents(draw: st.DrawFn) -> PackageDocument:
    chosen = draw(st.lists(st.sampled_from(VERSIONS), unique=True, max_size=8))
    entries = []
    for number, version in enumerate(chosen):
        targets = draw(st.lists(st.sampled_from(["generic", "sm_80", "sm_90a"]), unique=True, max_size=3))
        variants = tuple(Variant(target, "0" * 64, 1, f"artifacts/p/{version}/{target}.tar.gz", draw(st.booleans()))
                         for target in targets)
        entries.append(VersionEntry(version, f"entry {number}", variants))
    return PackageDocument("pkg", tuple(entries))


@settings(max_examples=500, deadline=None)
@given(documents(), st.data())
def test_reading_versions_highest_first_shows_what_the_whole_document_shows(
    document: PackageDocument, data: st.DataObject
) -> None:
    listing, read, whole = read_as_asked(document, data)
    shown = listing.search_entry()
    entries = {entry.version: entry for entry in document.versions}
    assert shown == (whole.search_entry() if whole.versions else None)
    assert len(read) == len(set(read))
    if shown is not None and not entries[shown.version].yanked:  # it stopped there: nothing of its kind below read
        kind = "+" in shown.version
        assert all(version_text_order(version) >= version_text_order(shown.version)
                   for version in read if ("+" in version) == kind)
