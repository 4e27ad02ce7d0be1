"""Small helpers: run one transition in its own transaction, and read back what it left."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas
from sqlalchemy import select, text

from storage.db import Database
from storage.models import AuditLog, OutboxMessage
from tests.conftest import CtxFactory
from workflow.context import Ctx
from workflow.errors import DomainError

T = TypeVar("T")
M = TypeVar("M")


async def run(make_ctx: CtxFactory, call: Callable[[Ctx], Awaitable[T]]) -> T:
    """One transition in one committed transaction."""
    async with make_ctx() as ctx:
        return await call(ctx)


async def refused(make_ctx: CtxFactory, call: Callable[[Ctx], Awaitable[Any]]) -> DomainError:
    """The transition raises a DomainError out of its transaction, which rolls back."""
    with pytest.raises(DomainError) as e:
        async with make_ctx() as ctx:
            await call(ctx)
    return e.value


async def reread(make_ctx: CtxFactory, model: type[M], ident: Any) -> M:
    """A row as the database holds it, read in a fresh transaction."""
    async with make_ctx() as ctx:
        row = await ctx.session.get(model, ident)
        assert row is not None, f"{model.__name__} {ident} is gone"
        return row


async def audit_rows(make_ctx: CtxFactory, entity: str, entity_id: int) -> list[AuditLog]:
    async with make_ctx() as ctx:
        rows = await ctx.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.id)
        )
        return list(rows.all())


async def actions(make_ctx: CtxFactory, entity: str, entity_id: int) -> list[str]:
    return [row.action for row in await audit_rows(make_ctx, entity, entity_id)]


async def outbox(
    make_ctx: CtxFactory, *, account_id: int | None = None, kind: str | None = None
) -> list[OutboxMessage]:
    async with make_ctx() as ctx:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if account_id is not None:
            stmt = stmt.where(OutboxMessage.account_id == account_id)
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list((await ctx.session.scalars(stmt)).all())


async def kinds(make_ctx: CtxFactory, account_id: int) -> list[str]:
    return [m.kind for m in await outbox(make_ctx, account_id=account_id)]


def pdf_bytes(text: str = "reduction form", pages: int = 1) -> bytes:
    """A small real PDF drawn with reportlab (its built-in fonts: ASCII text)."""
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    for n in range(pages):
        page.drawString(72, 720, f"{text}, page {n + 1}")
        page.showPage()
    page.save()
    return buf.getvalue()


def encrypted_pdf_bytes() -> bytes:
    """The same kind of PDF, encrypted with a user password by pypdf."""
    writer = PdfWriter()
    for p in PdfReader(io.BytesIO(pdf_bytes())).pages:
        writer.add_page(p)
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


async def wait_for_lock_waiter(db: Database, limit: float = 10.0) -> None:
    """Until a backend of this database waits on a lock: polled, bounded, no fixed sleep."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + limit
    async with db.engine.connect() as conn:
        while not (await conn.execute(query)).scalar():
            await conn.rollback()
            assert asyncio.get_running_loop().time() < deadline, "the racer never blocked"
            await asyncio.sleep(0.005)
