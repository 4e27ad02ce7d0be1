"""Uploads where PDFs are asked for: a renamed non-PDF, an empty file, an encrypted PDF, a file
over the size limit (refused by its declared size, never downloaded), a PDF with thousands of
pages and decompression bombs are each refused with the reason in the user's language, and none
is stored; the dialog stays where it was and a real PDF is then taken."""

from __future__ import annotations

import io
import time
import zlib
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfWriter
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from bot.emulator import ScriptedUser
from storage.models import Document, Reduction, Training
from tests.factories import World, accepted, build_world, make_trainee
from tests.hardening.kit import EN, ZH, fresh_user_id, no_apology
from tests.harness import BotHarness
from workflow import admission
from workflow import training as training_wf
from workflow.documents import check_declared, check_pdf, safe_filename
from workflow.errors import DomainError

MAX = 10 * 1024 * 1024


# --- generated files -----------------------------------------------------------------------


def real_pdf(text: str = "reduction form", pages: int = 1) -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    for n in range(pages):
        page.drawString(72, 720, f"{text} {n + 1}")
        page.showPage()
    page.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def many_pages_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def deflated_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


def pdf_with_streams(streams: list[bytes]) -> bytes:
    """A one-page PDF whose content is the given Flate streams (written by hand, so that a
    stream can be a bomb no PDF library would write)."""
    contents = " ".join(f"{4 + i} 0 R" for i in range(len(streams)))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [{contents}] >>".encode(),
        *(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(s), s)
            for s in streams
        ),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def refusal(data: bytes, **kw: int) -> str:
    with pytest.raises(DomainError) as caught:
        check_pdf(data, MAX, **kw)
    return caught.value.code


# --- the check itself ----------------------------------------------------------------------


def test_each_kind_of_bad_file_is_refused_with_its_own_reason() -> None:
    assert check_pdf(real_pdf(), MAX) == 1
    assert check_pdf(pdf_with_streams([zlib.compress(b"BT ET")]), MAX) == 1  # hand-written
    assert refusal(b"PK\x03\x04" + b"\0" * 300) == "pdf.not_pdf"  # a zip renamed .pdf
    assert refusal(b"\x89PNG\r\n\x1a\n" + b"\0" * 300) == "pdf.not_pdf"
    assert refusal(b"%PDF-1.7\n" + b"\xff" * 500) == "pdf.not_pdf"  # a header, nothing else
    assert refusal(real_pdf()[:200]) == "pdf.not_pdf"  # cut short
    assert refusal(b"") == "pdf.empty"
    assert refusal(encrypted_pdf()) == "pdf.encrypted"
    assert refusal(b"%PDF-1.4\n" + bytes(MAX)) == "pdf.too_large"
    assert refusal(many_pages_pdf(3000)) == "pdf.too_many_pages"
    assert refusal(real_pdf(pages=4), max_pages=3) == "pdf.too_many_pages"


def test_decompression_bombs_are_refused_within_a_bounded_parse() -> None:
    one_big = pdf_with_streams([deflated_zeros(120 << 20)])  # 120 MB behind 120 KB
    assert len(one_big) < 1 << 20
    started = time.monotonic()
    assert refusal(one_big) == "pdf.too_complex"  # over what one stream may hold
    assert time.monotonic() - started < 10
    # Streams each under the limit, together over the budget (smaller here, to be quick).
    several = pdf_with_streams([deflated_zeros(8 << 20) for _ in range(5)])
    assert check_pdf(several, MAX, total_decoded_max=48 << 20) == 1
    assert refusal(several, total_decoded_max=32 << 20) == "pdf.too_complex"


def test_the_declared_size_is_checked_before_any_download_and_names_are_cleaned() -> None:
    check_declared(1234, MAX)
    check_declared(None, MAX)  # Telegram did not say: the bytes are checked after
    with pytest.raises(DomainError) as caught:
        check_declared(MAX + 1, MAX)
    assert caught.value.code == "pdf.too_large" and caught.value.params == {"max_mb": 10}
    with pytest.raises(DomainError) as caught:
        check_declared(0, MAX)
    assert caught.value.code == "pdf.empty"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\scan\\证明.pdf") == "证明.pdf"
    assert safe_filename("form\u202efdp.exe\x00") == "formfdp.exe"
    assert safe_filename("\x07\u202e") == "document.pdf"
    assert len(safe_filename("a" * 1000 + ".pdf")) == 255


# --- in the chat ---------------------------------------------------------------------------


@pytest.fixture
async def at_upload(app: BotHarness):  # type: ignore[no-untyped-def]
    """A checked-in trainee with a two-year training whose reduction asks for its form."""

    async def make(language_code: str) -> ScriptedUser:
        user_id = fresh_user_id()
        user = app.user(user_id, language_code=language_code)
        await user.command("start")
        async with app.ctx() as ctx:
            world: World = await build_world(ctx)
            actor = await make_trainee(ctx, tg_user_id=user_id)
            application = await accepted(ctx, app.clock, world, actor)
            await admission.confirm_result(ctx, world.city_gz, application.id)
            await admission.check_in(ctx, world.staff_a, application.id, True)
            training = await ctx.session.scalar(select(Training))
            assert training is not None
            await training_wf.set_years(ctx, actor, training.id, 2, date(2026, 9, 1))
            await training_wf.start_reduction(ctx, actor, training.id)
        await user.command("years")
        t = ZH if language_code.startswith("zh") else EN
        await user.press(t("trainee.years.reduction_button"))
        await user.press(t("trainee.years.upload", kind=t.label("doc_kind", "reduction_form")))
        return user

    return make


async def stored(app: BotHarness, data_dir: Path) -> tuple[int, list[Path]]:
    async with app.ctx() as ctx:
        documents = await ctx.session.scalar(select(func.count()).select_from(Document))
    folder = data_dir / "files"
    kept = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return int(documents or 0), kept


async def test_bad_uploads_in_the_chat_are_refused_with_the_reason_and_nothing_is_stored(
    app: BotHarness,
    at_upload,
    data_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    user = await at_upload("zh-hans")
    cases = [
        (b"PK\x03\x04" + b"\0" * 300, "减免申请表.pdf", ZH("error.pdf.not_pdf")),
        (encrypted_pdf(), "locked.pdf", ZH("error.pdf.encrypted")),
        (many_pages_pdf(2000), "thick.pdf", ZH("error.pdf.too_many_pages", max=300)),
        (pdf_with_streams([deflated_zeros(120 << 20)]), "bomb.pdf", ZH("error.pdf.too_complex")),
    ]
    for data, name, reason in cases:
        await user.upload(data, name)
        answer = user.last_bot_message().text or ""
        assert answer.startswith(reason), (name, answer)
        assert "请以文件形式发送减免申请表" in answer  # asked again: the dialog goes on
        assert await stored(app, data_dir) == (0, [])

    downloads = len(app.emulator.calls_to("getFile"))
    await user.upload(b"%PDF-1.4\n" + bytes(MAX), "huge.pdf")
    assert (user.last_bot_message().text or "").startswith(ZH("error.pdf.too_large", max_mb=10))
    assert len(app.emulator.calls_to("getFile")) == downloads  # refused before downloading
    assert await stored(app, data_dir) == (0, [])

    await user.upload(real_pdf(), "减免申请表.pdf")  # nothing was lost: the real one is taken
    assert ZH("trainee.years.uploaded") in (user.last_bot_message().text or "")
    count, kept = await stored(app, data_dir)
    assert count == 1 and len(kept) == 1
    async with app.ctx() as ctx:
        reduction = await ctx.session.scalar(select(Reduction))
        assert reduction is not None and reduction.status == "draft"
    no_apology(user)


async def test_an_empty_upload_is_refused_in_english_for_an_english_user(
    app: BotHarness,
    at_upload,
    data_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    user = await at_upload("en")
    await user.upload(b"", "empty.pdf")
    assert (user.last_bot_message().text or "").startswith(EN("error.pdf.empty"))
    await user.upload(encrypted_pdf(), "locked.pdf")
    assert (user.last_bot_message().text or "").startswith(EN("error.pdf.encrypted"))
    assert await stored(app, data_dir) == (0, [])
    no_apology(user)
