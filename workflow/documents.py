"""Checks on uploaded PDFs: real, unencrypted, readable and under the size limit."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from workflow.errors import DomainError

logging.getLogger("pypdf").setLevel(logging.ERROR)


def check_pdf(data: bytes, max_bytes: int) -> int:
    """Return the page count, or refuse with the reason."""
    if len(data) > max_bytes:
        raise DomainError("pdf.too_large", max_mb=max_bytes // (1024 * 1024))
    if not data.lstrip()[:5] == b"%PDF-":
        raise DomainError("pdf.not_pdf")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DomainError("pdf.encrypted")
        pages = len(reader.pages)
    except DomainError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DomainError("pdf.not_pdf") from exc
    if pages < 1:
        raise DomainError("pdf.not_pdf")
    return pages
