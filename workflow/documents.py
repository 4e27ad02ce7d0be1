"""Checks on uploaded PDFs: real, unencrypted, readable, within the size and page limits, and not
a decompression bomb.

`check_declared` runs on what Telegram says of a document (its name and size) before anything
is downloaded; `check_pdf` on the downloaded bytes. The parse is bounded: pypdf's own limits
(`apply_configuration`) cap every stream's decoded size and the page tree, every stream is then
decoded once against a total budget and a time budget, so a small file that expands to
gigabytes, or a page tree of thousands of pages, is refused instead of being stored and opened
later by a reviewer."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import time
import unicodedata

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.filters import decode_stream_data
from pypdf.generic import IndirectObject, StreamObject

from workflow.errors import DomainError

logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_PAGES = 300
MAX_OBJECTS = 100_000
# One stream may decode to an A4 page scanned at 600 dpi in colour; all of them together to
# this much; the whole check may take this long.
STREAM_DECODED_MAX = 100_000_000
TOTAL_DECODED_MAX = 400_000_000
TIME_BUDGET_SECONDS = 10.0
HEADER_WINDOW = 1024  # readers accept a few bytes of junk before %PDF-
MAX_NAME_LENGTH = 255

_LIMITS = {
    "zlib_maximum_output_length": STREAM_DECODED_MAX,
    "zlib_maximum_recovery_input_length": 200_000,
    "lzw_maximum_output_length": STREAM_DECODED_MAX,
    "run_length_maximum_output_length": STREAM_DECODED_MAX,
    "jbig2_maximum_output_length": STREAM_DECODED_MAX,
    "brotli_maximum_output_length": STREAM_DECODED_MAX,
    "maximum_declared_stream_length": STREAM_DECODED_MAX,
    "array_based_stream_maximum_output_length": STREAM_DECODED_MAX,
    "image_maximum_buffer_size": STREAM_DECODED_MAX,
    "page_tree_maximum_entries": MAX_PAGES * 4,
    "page_tree_maximum_page_entries": MAX_PAGES * 4,
    "page_tree_maximum_depth": 50,
}


def _mb(max_bytes: int) -> int:
    return max_bytes // (1024 * 1024)


def check_declared(size: int | None, max_bytes: int) -> None:
    """Before downloading: refuse an empty document or one over the size limit by the size
    Telegram declares (a document over the limit is never fetched)."""
    if size is None:
        return
    if size <= 0:
        raise DomainError("pdf.empty")
    if size > max_bytes:
        raise DomainError("pdf.too_large", max_mb=_mb(max_bytes))


def safe_filename(name: str | None, default: str = "document.pdf") -> str:
    """The file's own name, without folders, control or direction-override characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (cleaned or default)[:MAX_NAME_LENGTH]


def check_pdf(
    data: bytes,
    max_bytes: int,
    *,
    max_pages: int = MAX_PAGES,
    total_decoded_max: int = TOTAL_DECODED_MAX,
) -> int:
    """Return the page count, or refuse with the reason."""
    check_declared(len(data), max_bytes)
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise DomainError("pdf.not_pdf")
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    try:
        with apply_configuration(**_LIMITS):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise DomainError("pdf.encrypted")
            if _declared_pages(reader) > max_pages:
                raise DomainError("pdf.too_many_pages", max=max_pages)
            pages = len(reader.pages)
            if pages > max_pages:
                raise DomainError("pdf.too_many_pages", max=max_pages)
            if pages < 1:
                raise DomainError("pdf.not_pdf")
            _decode_every_stream(reader, deadline, total_decoded_max)
    except DomainError:
        raise
    except (LimitReachedError, MemoryError, RecursionError) as exc:
        raise DomainError("pdf.too_complex") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DomainError("pdf.not_pdf") from exc
    return pages


async def check_pdf_off_loop(data: bytes, max_bytes: int) -> int:
    """`check_pdf` in a worker thread: a long parse does not hold up other users' updates."""
    return await asyncio.to_thread(check_pdf, data, max_bytes)


def _declared_pages(reader: PdfReader) -> int:
    root = reader.trailer.get("/Root")
    pages = root.get_object().get("/Pages") if root is not None else None
    count = pages.get_object().get("/Count") if pages is not None else None
    try:
        return int(count) if count is not None else 0
    except (TypeError, ValueError):
        return 0


def _objects(reader: PdfReader) -> list[IndirectObject]:
    ids: set[tuple[int, int]] = {(idnum, 0) for idnum in reader.xref_objStm}
    for generation, table in reader.xref.items():
        ids.update((idnum, generation) for idnum in table)
    if len(ids) > MAX_OBJECTS:
        raise DomainError("pdf.too_complex")
    return [IndirectObject(idnum, generation, reader) for idnum, generation in sorted(ids)]


def _decode_every_stream(reader: PdfReader, deadline: float, budget: int) -> None:
    total = 0
    for ref in _objects(reader):
        if time.monotonic() > deadline:
            raise DomainError("pdf.too_complex")
        try:
            obj = reader.get_object(ref)
        except (LimitReachedError, MemoryError):
            raise
        except Exception:
            continue  # a broken object is the viewer's problem, not a bomb
        if not isinstance(obj, StreamObject):
            continue
        try:
            decoded = decode_stream_data(obj)
        except (LimitReachedError, MemoryError):
            raise
        except (NotImplementedError, PyPdfError, ValueError, KeyError, TypeError, OSError):
            continue  # an image codec pypdf does not decode, a damaged stream
        total += len(decoded) if isinstance(decoded, (bytes, bytearray)) else 0
        if total > budget:
            raise DomainError("pdf.too_complex")
