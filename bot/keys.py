"""The keyring for personal data: from settings, or from a key file beside the data.

ENCRYPTION_KEY is the current key and ENCRYPTION_KEY_PREVIOUS the keys still accepted for
reading during a rotation; without ENCRYPTION_KEY, the key file's first line is the current key
and its other lines the previous ones (docs/deployment.md, "Key management")."""

from __future__ import annotations

from bot.config import Settings
from storage.crypto import FieldCipher, load_or_create_key_file, parse_key, parse_keys


def configured_keys(settings: Settings) -> tuple[bytes, list[bytes]]:
    """(current key, previous keys) as configured."""
    previous: list[bytes] = []
    if settings.encryption_key_previous is not None:
        previous = parse_keys(settings.encryption_key_previous.get_secret_value())
    if settings.encryption_key is not None and settings.encryption_key.get_secret_value():
        return parse_key(settings.encryption_key.get_secret_value()), previous
    current, *in_file = load_or_create_key_file(settings.resolved_key_file)
    return current, [*in_file, *previous]


def load_cipher(settings: Settings) -> FieldCipher:
    current, previous = configured_keys(settings)
    return FieldCipher(current, previous)
