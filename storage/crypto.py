"""Personal data at rest: AES-GCM for the value, a keyed HMAC blind index for lookups.

One master key (from settings or a key file, never from the database) derives two keys with
HKDF: one encrypts, the other builds blind indexes, so an index leaks nothing about the cipher.
Each ciphertext carries a version byte and is bound to its field by the associated data, so a
value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

_VERSION = 1
_NONCE_BYTES = 12


class KeyConfigError(Exception):
    """The configured key is missing or malformed."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class FieldCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise KeyConfigError("the master key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"zhupei/aes-gcm/v1"))
        self._index_key = _derive(master_key, b"zhupei/blind-index/v1")

    def encrypt(self, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), field.encode())
        return bytes([_VERSION]) + nonce + sealed

    def decrypt(self, field: str, blob: bytes) -> str:
        if not blob or blob[0] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, sealed, field.encode()).decode("utf-8")

    def blind_index(self, field: str, normalized: str) -> str:
        mac = hmac.new(self._index_key, f"{field}\x00{normalized}".encode(), hashlib.sha256)
        return mac.hexdigest()


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise KeyConfigError("the key is not valid base64") from exc
    if len(key) != 32:
        raise KeyConfigError("the key must decode to 32 bytes")
    return key


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it (owner-only) when it does not exist yet."""
    if path.exists():
        return parse_key(path.read_text())
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
    return parse_key(path.read_text())
