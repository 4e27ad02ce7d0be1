"""Personal data at rest: AES-GCM for the value, a keyed HMAC blind index for lookups.

A master key (from settings or a key file, never from the database) derives three values with
HKDF: the encryption key, the blind-index key (so an index leaks nothing about the cipher) and
a short public key id. Each ciphertext carries a version byte and, from version 2, the id of
the key that sealed it; it is bound to its field by the associated data, so a value copied into
another column does not decrypt.

Key rotation: a cipher holds the current key (every new value is sealed with it) and any
previous keys (still accepted for reading). A version-1 ciphertext names no key, so each key is
tried in turn. While previous keys are configured, a blind-index lookup must try the index of
every key (`blind_indexes`); `zhupei keys rotate` re-seals everything under the current key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

_V1 = 1  # version, nonce, sealed
_V2 = 2  # version, key id, nonce, sealed
_NONCE_BYTES = 12
KEY_ID_BYTES = 4


class KeyConfigError(Exception):
    """The configured key is missing or malformed."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class _Key:
    def __init__(self, master: bytes) -> None:
        if len(master) != 32:
            raise KeyConfigError("the master key must be 32 bytes")
        self.aead = AESGCM(_derive(master, b"zhupei/aes-gcm/v1"))
        self.index_key = _derive(master, b"zhupei/blind-index/v1")
        self.id = _derive(master, b"zhupei/key-id/v1")[:KEY_ID_BYTES]

    def index(self, field: str, normalized: str) -> str:
        mac = hmac.new(self.index_key, f"{field}\x00{normalized}".encode(), hashlib.sha256)
        return mac.hexdigest()


class FieldCipher:
    """The keyring: `master_key` seals, `previous` keys (oldest last) still open."""

    def __init__(self, master_key: bytes, previous: Sequence[bytes] = ()) -> None:
        current = _Key(master_key)
        self._keys = [current]
        for master in previous:
            key = _Key(master)
            if all(key.id != k.id for k in self._keys):
                self._keys.append(key)
        self._current = current
        self._by_id = {k.id: k for k in self._keys}

    @property
    def key_id(self) -> str:
        """The current key's id, as hex (safe to show: it reveals nothing of the key)."""
        return self._current.id.hex()

    @property
    def key_ids(self) -> list[str]:
        return [k.id.hex() for k in self._keys]

    @property
    def rotating(self) -> bool:
        """Previous keys are configured: values under them may still be in the database."""
        return len(self._keys) > 1

    def encrypt(self, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode("utf-8"), field.encode())
        return bytes([_V2]) + self._current.id + nonce + sealed

    def decrypt(self, field: str, blob: bytes) -> str:
        if blob and blob[0] == _V2:
            key = self._by_id.get(blob[1 : 1 + KEY_ID_BYTES])
            if key is None:
                raise ValueError("the ciphertext was sealed with a key that is not configured")
            body = blob[1 + KEY_ID_BYTES :]
            nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
            return key.aead.decrypt(nonce, sealed, field.encode()).decode("utf-8")
        if blob and blob[0] == _V1:
            nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
            for key in self._keys:
                try:
                    return key.aead.decrypt(nonce, sealed, field.encode()).decode("utf-8")
                except InvalidTag:
                    continue
            raise InvalidTag()
        raise ValueError("unknown ciphertext version")

    def is_current(self, blob: bytes | None) -> bool:
        """Sealed with the current key (None, no value, needs nothing either)."""
        if blob is None:
            return True
        return key_id_of(blob) == self._current.id.hex()

    def reseal(self, field: str, blob: bytes | None) -> bytes | None:
        """The value sealed with the current key (the same bytes when it already is)."""
        if blob is None or self.is_current(blob):
            return blob
        return self.encrypt(field, self.decrypt(field, blob))

    def blind_index(self, field: str, normalized: str) -> str:
        """The index under the current key: what is stored."""
        return self._current.index(field, normalized)

    def blind_indexes(self, field: str, normalized: str) -> list[str]:
        """Every index the value may be stored under (the current key's first): for lookups."""
        return [k.index(field, normalized) for k in self._keys]


def key_id_of(blob: bytes | None) -> str | None:
    """The id of the key that sealed `blob`, as hex; None for a version-1 value (no key id)."""
    if not blob or len(blob) <= KEY_ID_BYTES or blob[0] != _V2:
        return None
    return blob[1 : 1 + KEY_ID_BYTES].hex()


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise KeyConfigError("the key is not valid base64") from exc
    if len(key) != 32:
        raise KeyConfigError("the key must decode to 32 bytes")
    return key


def parse_keys(text: str) -> list[bytes]:
    """Keys separated by commas, spaces or lines; `#` starts a comment line."""
    keys = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        keys.extend(parse_key(part) for part in line.replace(",", " ").split())
    return keys


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def read_key_file(path: Path) -> list[bytes]:
    """The keys of a key file: the current key on the first line, previous keys below."""
    keys = parse_keys(path.read_text())
    if not keys:
        raise KeyConfigError(f"{path} holds no key")
    return keys


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file atomically, owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{key}\n" for key in keys))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_or_create_key_file(path: Path) -> list[bytes]:
    """Read the key file, or create it (owner-only) when it does not exist yet."""
    if path.exists():
        return read_key_file(path)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(generate_key() + "\n")
    log.warning(
        "No encryption key was configured: created %s (owner-only). Back it up: without it the "
        "personal data in the database cannot be read.",
        path,
    )
    return read_key_file(path)
