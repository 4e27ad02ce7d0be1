"""A burst of concurrent updates loses nothing: every row and every dialog value lands."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.probe import build_probe_router
from bot.app import build_bot, build_dispatcher, build_isolation
from handlers import build_routers
from storage.models import AuditLog, FsmRecord, InboxUpdate, TelegramUser
from tests.conftest import redis_url_or_skip
from tests.harness import BotHarness, polling

USERS = 200
PER_USER = 5


@pytest.mark.parametrize("isolation", ["memory", "redis"])
async def test_burst_of_1000_updates_from_200_users_loses_nothing(
    app: BotHarness, isolation: str
) -> None:
    if isolation == "redis":
        app.services.settings.redis_url = redis_url_or_skip()
    isolation_impl = build_isolation(app.services.settings)
    await app.stop()
    bot = build_bot(app.emulator.token, app.emulator.url)
    dp = build_dispatcher(
        app.services,
        isolation=isolation_impl,
        routers=[build_probe_router(), *build_routers()],
    )
    users = [app.user(900_000 + i) for i in range(USERS)]
    async with polling(app.services, app.emulator, dp, bot):
        # Interleave users so that every user's updates are in flight at the same time.
        for round_ in range(PER_USER):
            for i, user in enumerate(users):
                n = i * PER_USER + round_
                app.emulator.enqueue_update(
                    {
                        "message": {
                            "from": user.api,
                            "text": f"/note {n}",
                            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                        }
                    }
                )
        await app.emulator.wait_idle(timeout=120)
    await bot.session.close()
    assert app.emulator.processing_errors == []

    async with app.ctx() as ctx:
        notes = set(
            await ctx.session.scalars(select(AuditLog.entity_id).where(AuditLog.entity == "probe"))
        )
        assert notes == set(range(USERS * PER_USER))
        assert await ctx.session.scalar(select(func.count()).select_from(TelegramUser)) == USERS
        records = (await ctx.session.scalars(select(FsmRecord))).all()
        # Every update finished: nothing is left in the inbox for a restart.
        assert await ctx.session.scalar(select(func.count()).select_from(InboxUpdate)) == 0
    by_user = {r.key.split(":")[2]: r for r in records}
    assert len(by_user) == USERS
    for i, user in enumerate(users):
        record = by_user[str(user.user_id)]
        assert record.state == "Probe:noting"
        assert sorted(record.data["notes"]) == [i * PER_USER + r for r in range(PER_USER)]
    for user in users:
        replies = [m.text for m in user.bot_messages()]
        assert sorted(replies) == sorted(f"noted {user_n}" for user_n in _notes_of(users, user))


def _notes_of(users, user):  # type: ignore[no-untyped-def]
    i = users.index(user)
    return [i * PER_USER + r for r in range(PER_USER)]
