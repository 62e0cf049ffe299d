"""Where an OCI registry is: ``oci://HOST[:PORT][/NAMESPACE]``, and how it is spoken to.

Each skill lives in the repository ``NAMESPACE/NAME``. The registry is reached over https;
a loopback host (127.0.0.1, ::1, localhost) that does not speak TLS over plain http, as docker
allows for them; any other host over plain http only when the user says so (``--plain-http``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from skillpm.errors import RegistryError
from skillpm.registry.oci.layout import check_repository
from skillpm.registry.urls import shown_url

SCHEME = "oci://"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class OciLocation:
    """An OCI registry host and the namespace skillpm's repositories live under."""

    host: str  # host[:port], as docker names it
    namespace: str
    scheme: str = "https"

    @property
    def url(self) -> str:
        namespace = f"/{self.namespace}" if self.namespace else ""
        return f"{SCHEME}{self.host}{namespace}"

    @property
    def is_loopback(self) -> bool:
        return (urlsplit(f"//{self.host}").hostname or "") in LOOPBACK

    def repository(self, name: str) -> str:
        """The repository that holds skill ``name``."""
        return check_repository(f"{self.namespace}/{name}" if self.namespace else name)

    def repository_url(self, repository: str) -> str:
        """The distribution API's base URL for ``repository`` (``.../v2/<repository>``)."""
        return f"{self.scheme}://{self.host}/v2/{repository}"

    def over(self, scheme: str) -> OciLocation:
        return OciLocation(self.host, self.namespace, scheme)


def is_oci(location: str) -> bool:
    """Whether a ``--registry`` value names an OCI registry."""
    return location.startswith(SCHEME)


def parse_location(location: str, *, plain_http: bool = False) -> OciLocation:
    """``oci://HOST[:PORT][/NAMESPACE]`` as a location; RegistryError saying what is wrong otherwise."""
    if not is_oci(location):
        raise RegistryError(f"{shown_url(location)[:120]!r} is not an oci:// registry")
    try:
        parts = urlsplit(location)
        if parts.username is not None or parts.password is not None:  # first: no other error may quote them
            raise RegistryError(
                "an oci:// registry URL must not carry a user name or password",
                hint="use 'docker login HOST' or the credentials settings in docs/oci.md",
            )
        hostname, port = parts.hostname, parts.port
    except ValueError as error:
        raise RegistryError(f"registry URL {shown_url(location)[:120]!r} is malformed ({error})") from None
    if not hostname or parts.query or parts.fragment:
        raise RegistryError(f"registry URL {shown_url(location)[:120]!r} must be oci://HOST[:PORT]/NAMESPACE")
    namespace = parts.path.strip("/")
    if namespace:
        check_repository(namespace)
    host = f"[{hostname}]" if ":" in hostname else hostname
    host = f"{host}:{port}" if port else host
    return OciLocation(host, namespace, "http" if plain_http else "https")
