"""The sandbox's own data on first start: the demo data set, with batches whose confirmation
period has already begun (so a result can be accepted as soon as its 12-hour lock period ends:
the whole flow plays in minutes with the demo clock), and invitations for the staff personas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot.services import Services
from bot.webchat.personas import staff_invitations
from reference import demo_data
from reference.importer import Kind, import_table
from storage.models import Batch

CONFIRM_START = 7  # the column 学员确认开始时间 of demo_data.batches_table
APPLY_START = 3
INVITATION_TTL = timedelta(days=30)


@dataclass
class Seeded:
    fresh: bool
    tokens: dict[str, str] = field(default_factory=dict)  # persona key -> invitation token


async def seed(services: Services) -> Seeded:
    async with services.db.transaction() as session:
        if await session.scalar(select(Batch.id).limit(1)) is not None:
            return Seeded(fresh=False)
        ctx = services.ctx(session)
        await demo_data.load(ctx)
        table = demo_data.batches_table(ctx.now())
        for _number, row in table.rows:
            row[CONFIRM_START] = row[APPLY_START]
        await import_table(session, table, Kind.BATCHES, now=ctx.now())
        tokens = await staff_invitations(ctx, INVITATION_TTL)
    return Seeded(fresh=True, tokens=tokens)
