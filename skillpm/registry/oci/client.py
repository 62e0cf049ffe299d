"""The OCI distribution API (v2) over skillpm's hardened transport: pull, push, tags, referrers.

Everything a registry sends is checked: a manifest or blob fetched by digest must hash to
that digest, sizes are bounded before reading, tag lists and their pages are bounded, and
every request shares the command's deadline. Authentication (:mod:`.auth`) answers a 401
challenge once per repository and scope; credentials go only to the registry's host and
the token service it names (see :func:`~.auth.may_send_credentials`).

Endpoints are those of the OCI distribution-spec v1.1 ("Pulling manifests", "Pushing blobs"
monolithic POST then PUT, "Pushing manifests", "Listing tags", "Listing referrers").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urlencode, urljoin, urlsplit

import httpcore

from skillpm.display import clean
from skillpm.errors import IndexFormatError, RegistryError
from skillpm.reading import MAX_ARTIFACT_SIZE, MAX_DOCUMENT_SIZE
from skillpm.registry.oci import layout
from skillpm.registry.oci.tags import MAX_TAGS, referrers_tag, too_many_tags
from skillpm.registry.oci.auth import Authenticator
from skillpm.registry.oci.reference import OciLocation
from skillpm.registry.redirects import origin
from skillpm.registry.transport import Deadline, Reply, Transport

#: The most pages of a tag list or catalog followed (the most tags: :data:`.tags.MAX_TAGS`).
MAX_PAGES = 100
_MANIFEST_LIMIT = 4 * 1024 * 1024  # the distribution-spec's suggested manifest size limit


@dataclass
class OciClient:
    """Requests to one OCI registry (``location.host``), under one deadline."""

    location: OciLocation
    transport: Transport
    deadline: Deadline
    auth: Authenticator = field(default_factory=Authenticator)
    _scheme_checked: bool = False

    # -- pulling -------------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str, media_type: str) -> tuple[bytes, str] | None:
        """The manifest or index ``reference`` (a tag or digest) names, and its digest; None when absent."""
        reply = self._request("GET", repository, f"manifests/{reference}", scope="pull",
                              headers={"Accept": media_type}, limit=_MANIFEST_LIMIT)
        if reply.status == 404:
            return None
        self._expect(reply, 200, f"reading {repository}:{reference}")
        if len(reply.body) > _MANIFEST_LIMIT:
            raise IndexFormatError(f"{self._where(repository, reference)}: larger than {_MANIFEST_LIMIT} bytes")
        digest = layout.digest_of(reply.body)
        if reference.startswith("sha256:") and digest != reference:
            raise IndexFormatError(f"{self._where(repository, reference)}: the registry sent content of digest {digest}")
        return reply.body, digest

    def blob(self, repository: str, digest: str, *, limit: int = MAX_ARTIFACT_SIZE) -> bytes:
        """The blob ``digest``, checked against it."""
        body = bytearray()
        self.save_blob(repository, digest, body.extend, limit=limit)
        return bytes(body)

    def save_blob(self, repository: str, digest: str, write: Callable[[bytes], None], *,
                  limit: int = MAX_ARTIFACT_SIZE) -> None:
        """Hand the blob ``digest`` to ``write`` as it arrives, hashing and counting it, and check it at the
        end: IndexFormatError when it is over ``limit`` or not the blob ``digest`` names (``write`` has then
        been given at most ``limit`` + 1 bytes, which the caller discards)."""
        import hashlib

        hashed, size = hashlib.sha256(), 0

        def received(chunk: bytes) -> None:
            nonlocal size
            hashed.update(chunk)
            size += len(chunk)
            write(chunk)

        reply = self._request("GET", repository, f"blobs/{digest}", scope="pull", limit=limit, decode=False,
                              sink=received)
        self._expect(reply, 200, f"reading blob {digest[:19]}… of {repository}")
        if size > limit:
            raise IndexFormatError(f"{self._where(repository, digest)}: larger than {limit} bytes")
        if f"sha256:{hashed.hexdigest()}" != digest:
            raise IndexFormatError(
                f"{self._where(repository, digest)}: the blob does not match its digest; refused",
                hint="the registry serves corrupted or substituted content: tell its owner",
            )

    def tags(self, repository: str) -> list[str]:
        """Every tag of ``repository`` (empty when it does not exist), following ``Link`` pages."""
        tags: list[str] = []
        path = "tags/list"
        for _page in range(MAX_PAGES):
            reply = self._request("GET", repository, path, scope="pull", limit=MAX_DOCUMENT_SIZE)
            if reply.status == 404:
                return tags
            self._expect(reply, 200, f"listing the tags of {repository}")
            tags.extend(_string_list(reply.body, "tags", self._where(repository, "tags")))
            if len(tags) > MAX_TAGS:
                raise too_many_tags(self._where(repository, "tags"))
            path = _next_page(reply, self.location.repository_url(repository), "tags/list")
            if path is None:
                return tags
        raise IndexFormatError(f"{self._where(repository, 'tags')}: more than {MAX_PAGES} pages of tags")

    def catalog(self) -> list[str]:
        """Every repository the registry lists (``/v2/_catalog``: the CNCF distribution registry, Harbor...).

        Not part of the OCI distribution spec: RegistryError when the registry does not list them.
        """
        base = f"{self.location.scheme}://{self.location.host}/v2"
        names: list[str] = []
        url = f"{base}/_catalog?n=1000"
        for _page in range(MAX_PAGES):
            reply = self._send("GET", url, "", "pull", limit=MAX_DOCUMENT_SIZE)
            if reply.status != 200:
                raise RegistryError(f"{self.location.host} does not list its repositories (HTTP {reply.status})",
                                    hint="name the packages to pull")
            base = f"{self.location.scheme}://{self.location.host}/v2"  # the scheme may have changed
            names.extend(_string_list(reply.body, "repositories", f"oci://{self.location.host} catalog"))
            if len(names) > MAX_TAGS:
                raise IndexFormatError(f"oci://{self.location.host} catalog: more than {MAX_TAGS} repositories")
            following = _next_page(reply, base, "_catalog")
            if following is None:
                return names
            url = f"{base}/{following}"
        raise IndexFormatError(f"oci://{self.location.host} catalog: more than {MAX_PAGES} pages")

    def referrers(self, repository: str, digest: str) -> list[layout.Descriptor]:
        """The manifests whose ``subject`` is ``digest``: the referrers API, else the fallback tag."""
        reply = self._request("GET", repository, f"referrers/{digest}", scope="pull",
                              headers={"Accept": layout.INDEX_TYPE}, limit=_MANIFEST_LIMIT)
        body = reply.body
        if reply.status in (404, 405):  # no referrers API: the fallback tag
            found = self.manifest(repository, referrers_tag(digest), layout.INDEX_TYPE)
            if found is None:
                return []
            body = found[0]
        else:
            self._expect(reply, 200, f"listing what refers to {digest[:19]}…")
        where = self._where(repository, f"referrers of {digest[:19]}…")
        return layout.descriptors(layout.parse_document(body, where, layout.INDEX_TYPE), "manifests", where)

    # -- pushing -------------------------------------------------------------------------------

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` unless the registry has it already; its digest."""
        digest = layout.digest_of(data)
        head = self._request("HEAD", repository, f"blobs/{digest}", scope="pull,push", limit=0)
        if head.status == 200:
            return digest
        started = self._request("POST", repository, "blobs/uploads/", scope="pull,push", limit=0, content=b"")
        self._expect(started, 202, f"starting an upload to {repository}")
        upload = self._upload_url(repository, started.headers.get("location", ""))
        separator = "&" if urlsplit(upload).query else "?"
        done = self._send("PUT", f"{upload}{separator}{urlencode({'digest': digest})}", repository, "pull,push",
                          content=data, headers={"Content-Type": "application/octet-stream"})
        self._expect(done, 201, f"uploading blob {digest[:19]}… to {repository}")
        return digest

    def push_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> bool:
        """Put a manifest or index under ``reference`` (a tag, or its own digest).

        True when the registry says it indexed the manifest's ``subject`` for the referrers API
        (the ``OCI-Subject`` header of distribution-spec v1.1); else a referrer needs the fallback tag.
        """
        reply = self._request("PUT", repository, f"manifests/{reference}", scope="pull,push", limit=0,
                              content=data, headers={"Content-Type": media_type})
        self._expect(reply, 201, f"pushing {repository}:{reference}")
        return "oci-subject" in reply.headers

    # -- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, repository: str, path: str, *, scope: str, limit: int,
                 headers: Mapping[str, str] | None = None, content: bytes | None = None,
                 decode: bool = True, sink: Callable[[bytes], None] | None = None) -> Reply:
        url = f"{self.location.repository_url(layout.check_repository(repository))}/{path}"
        return self._send(method, url, repository, scope, limit=limit, headers=headers, content=content,
                          decode=decode, sink=sink)

    def _send(self, method: str, url: str, repository: str, scope: str, *, limit: int = 0,
              headers: Mapping[str, str] | None = None, content: bytes | None = None,
              decode: bool = True, sink: Callable[[bytes], None] | None = None) -> Reply:
        if not self._scheme_checked:
            url = self._choose_scheme(url)

        def once() -> Reply:
            sent = {**(headers or {}), **self.auth.headers(self.location.host, repository, scope)}
            if method == "GET":
                return self.transport.get(url, deadline=self.deadline, limit=limit, decode=decode, headers=sent,
                                          sink=sink)
            return self.transport.send(method, url, content, deadline=self.deadline, limit=max(limit, 1),
                                       headers=sent)

        reply = once()
        if reply.status == 401:  # answer the challenge once, then ask again
            self.auth.answer(reply.headers.get("www-authenticate", ""), host=self.location.host,
                             repository=repository, scope=scope, transport=self.transport, deadline=self.deadline,
                             scheme=self.location.scheme, peer=reply.peer)
            reply = once()
        return reply

    def _choose_scheme(self, url: str) -> str:
        """On a loopback host, plain http when it does not answer TLS (as docker does); else ``url``."""
        self._scheme_checked = True
        if not self.location.is_loopback or self.location.scheme != "https":
            return url
        try:
            self.transport.get(f"https://{self.location.host}/v2/", deadline=self.deadline, limit=4096, decode=True)
        except (httpcore.ConnectError, httpcore.ReadError, httpcore.RemoteProtocolError):
            self.location = self.location.over("http")
            return "http" + url.removeprefix("https")
        return url

    def _upload_url(self, repository: str, location: str) -> str:
        """Where to PUT a blob: the upload ``location``, which must keep the registry's origin (scheme, host, port)."""
        base = self.location.repository_url(repository)
        try:
            url = urljoin(base, location)
            same = origin(url) == origin(base)
        except ValueError:  # an unclosed '[' of an IPv6 host, a port out of range
            url, same = location, False
        if not same:
            raise RegistryError(
                f"{self.location.host} sent an upload location on another origin ({clean(url[:120])}); refused: "
                f"skillpm uploads only to {self.location.scheme}://{self.location.host}",
            )
        return url

    def _expect(self, reply: Reply, status: int, doing: str) -> None:
        if reply.status == status:
            return
        if reply.status in (401, 403):
            raise RegistryError(
                f"{self.location.host} refused {doing} ({reply.status}: {_oci_error(reply.body)})",
                hint=f"log in: 'docker login {self.location.host}', or set credentials for it "
                "(see docs/oci.md, 'Credentials')",
            )
        raise RegistryError(f"{self.location.host}: {doing} failed with HTTP {reply.status} ({_oci_error(reply.body)})")

    def _where(self, repository: str, what: str) -> str:
        return f"oci://{self.location.host}/{repository} {what}"


def _string_list(body: bytes, key: str, where: str) -> list[str]:
    """The list of strings under ``key`` in one page of a tag list or catalog (none when absent)."""
    from skillpm.jsonfile import parse_json

    try:
        document = parse_json(body)
    except ValueError as error:
        raise IndexFormatError(f"{where}: {error}") from None
    values = document.get(key) if isinstance(document, dict) else None
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise IndexFormatError(f"{where}: {key!r} is not a list of strings")
    return values


def _next_page(reply: Reply, base: str, marker: str) -> str | None:
    """The next page's path (``marker`` and its query, relative to ``base``) from a ``Link: <...>; rel="next"``."""
    link = reply.headers.get("link", "")
    if 'rel="next"' not in link or "<" not in link:
        return None
    start = link.index("<") + 1
    end = link.find(">", start)
    try:
        if end < 0:
            raise ValueError("no '>' closes the URL")
        target = urljoin(base + "/", link[start:end])
        split = urlsplit(target)
        other_host = split.netloc != urlsplit(base).netloc
    except ValueError as error:  # an unclosed '[' of an IPv6 host, a port out of range
        raise RegistryError(f"the next page of a list is not a URL ({clean(link[:120])}: {error}); refused") from None
    if other_host:
        raise RegistryError(f"the next page of a list is on another host ({clean(target[:120])}); refused")
    if not split.path.endswith(f"/{marker}"):
        raise RegistryError(f"the next page of a list is not {marker} ({clean(target[:120])}); refused")
    return f"{marker}?{split.query}" if split.query else marker


def _oci_error(body: bytes) -> str:
    """The first error message of an OCI error body, sanitised; empty when there is none."""
    from skillpm.jsonfile import parse_json  # bounded nesting: '[' * 4000 is not a RecursionError

    try:
        errors = parse_json(body, lone_surrogates=True).get("errors") or []
        first = errors[0]
        return clean(f"{first.get('code', '')}: {first.get('message', '')}"[:200])
    except (ValueError, AttributeError, IndexError, TypeError, KeyError):
        return clean(body[:120].decode("utf-8", "replace")) or "no detail"
