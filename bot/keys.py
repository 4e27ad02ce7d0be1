"""The master key for personal data: from settings, or from a key file beside the data."""

from __future__ import annotations

from bot.config import Settings
from storage.crypto import FieldCipher, load_or_create_key_file, parse_key


def load_cipher(settings: Settings) -> FieldCipher:
    if settings.encryption_key is not None and settings.encryption_key.get_secret_value():
        return FieldCipher(parse_key(settings.encryption_key.get_secret_value()))
    return FieldCipher(load_or_create_key_file(settings.resolved_key_file))
