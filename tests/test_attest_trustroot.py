"""A trust-root refresh that ends in time (skillpm.attest.trustroot): against a real TUF repository on 127.0.0.1.

Sigstore's own repository cannot be reached from the tests, so the repository here is made in the test
run with python-tuf's metadata API (one ed25519 key for every role), serving a synthetic Sigstore
instance's trusted root; sigstore-python trusts it as it trusts an instance added with
``sigstore trust-instance``: its root.json is in sigstore-python's metadata folder for the URL. The
refresh runs in its child process as for Sigstore's; nothing is mocked.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from sigstore._internal.tuf import DEFAULT_TUF_URL, STAGING_TUF_URL, _get_dirs
from sigstore._utils import read_embedded
from sigstore_models.trustroot.v1 import SigningConfig as SigningConfigDocument
from tuf.api.metadata import MetaFile, Metadata, Root, Snapshot, TargetFile, Targets, Timestamp

from skillpm.attest.trustroot import refreshed_config

from security.conftest import serving
from test_attest_keyless import Instance


class Repository:
    """A TUF repository in ``folder``: its first root, then each version :meth:`publish` writes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.signer = CryptoSigner.generate_ed25519()
        self.expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
        root = Root(expires=self.expires, consistent_snapshot=False)
        for role in (Root.type, Timestamp.type, Snapshot.type, Targets.type):
            root.add_key(self.signer.public_key, role)
        self.root = self._write(Metadata(root), "1.root.json")
        self.version = 0

    def publish(self, files: dict[str, bytes]) -> None:
        """A new version of the targets ``files``, with its snapshot and timestamp."""
        self.version += 1
        targets = Targets(version=self.version, expires=self.expires)
        for name, data in files.items():
            (self.folder / "targets").mkdir(exist_ok=True)
            (self.folder / "targets" / name).write_bytes(data)
            targets.targets[name] = TargetFile.from_data(name, data)
        self._write(Metadata(targets), "targets.json")
        snapshot = Snapshot(version=self.version, expires=self.expires, meta={"targets.json": MetaFile(self.version)})
        self._write(Metadata(snapshot), "snapshot.json")
        self._write(Metadata(Timestamp(version=self.version, expires=self.expires,
                                       snapshot_meta=MetaFile(self.version))), "timestamp.json")

    def _write(self, metadata: Metadata, name: str) -> bytes:
        metadata.sign(self.signer)
        data = metadata.to_bytes()
        (self.folder / name).write_bytes(data)
        return data


def test_a_refresh_in_time_gives_the_root_and_signing_config_it_verified_and_keeps_what_it_fetched(
    tmp_path: Path,
) -> None:
    """What verifying keyless bundles takes (the trusted root) and what signing them takes too (the signing
    config): each time the version the repository publishes then."""
    roots = (Instance.create().trusted_root()._inner.to_json().encode() for _ in range(2))
    configs = (read_embedded("signing_config.v0.2.json", url) for url in (DEFAULT_TUF_URL, STAGING_TUF_URL))
    repository = Repository(tmp_path / "repository")
    with serving(repository.folder) as url:
        metadata, targets = _get_dirs(url)
        metadata.mkdir(parents=True)
        (metadata / "root.json").write_bytes(repository.root)  # as `sigstore trust-instance` leaves it
        for trusted, config in zip(roots, configs):
            repository.publish({"trusted_root.json": trusted, "signing_config.v0.2.json": config})
            refreshed = refreshed_config(url)
            assert not isinstance(refreshed, str), refreshed
            assert refreshed.trusted_root._inner.to_json().encode() == trusted
            assert refreshed.signing_config._inner == SigningConfigDocument.from_json(config)
            assert (targets / "trusted_root.json").read_bytes() == trusted
            assert (metadata / "timestamp.json").read_bytes() == (repository.folder / "timestamp.json").read_bytes()
            assert (metadata / "root.json").resolve() == metadata / "root_history" / "1.root.json"
            assert not list(tmp_path.glob("**/*.skillpm-tmp")), "a temporary file of the move was left"
