"""Uploaded documents live on disk under the upload directory, named by their hash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def store(upload_dir: Path, data: bytes, suffix: str = ".pdf") -> tuple[str, str]:
    """Write the bytes once (content-addressed); return (sha256, path relative to the dir)."""
    digest = hashlib.sha256(data).hexdigest()
    rel = Path(digest[:2]) / f"{digest}{suffix}"
    target = upload_dir / rel
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return digest, rel.as_posix()


def read(upload_dir: Path, rel: str) -> bytes:
    return (upload_dir / rel).read_bytes()
