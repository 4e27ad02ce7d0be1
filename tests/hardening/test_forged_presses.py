"""Every inline action of every role attacked: each CallbackData class of the bot (collected
from the handlers) pressed with out-of-range, tampered and garbage data by a guest, a trainee,
base staff, a city reviewer and the province. Each press gets the toast "this button has
expired", nothing is said in the chat (no internal-error apology) and the database is as it
was. Then presses that parse but reach for someone else's record are refused by the workflow,
again with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.callback_data import INT32_MAX, callback_data_classes
from bot.emulator import ScriptedUser
from bot.notice_buttons import OfferAction, ResultAction
from handlers.staff.callbacks import AppCb, ChgCb, PlanCb, RedCb, YearsCb
from handlers.staff.team import TeamCb
from handlers.trainee.cb import ApplyCb, ProfileCb, StatusCb
from tests import factories
from tests.hardening.forge import ODD_VALUES, Forged, every_forgery, oddities
from tests.hardening.snapshot import changed, snapshot
from tests.harness import BotHarness
from tests.staff.conftest import enrol
from workflow.enums import Role

STALE = "这个按钮已过期，请使用最新的消息。"
APOLOGY = "抱歉，处理时出现了问题"
APOLOGIES = (APOLOGY, "Sorry, something went wrong")  # a press of "lang:en" switches


@dataclass
class Cast:
    guest: ScriptedUser
    trainee: ScriptedUser
    base: ScriptedUser
    city: ScriptedUser
    province: ScriptedUser
    own_app: int  # the trainee's sent result
    other_app: int  # another trainee's, at the other base


@pytest.fixture
async def cast(app: BotHarness) -> Cast:
    app.services.settings.outbox_per_chat_interval_seconds = 0.01
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        trainee = await factories.make_trainee(ctx, tg_user_id=9201)
        other = await factories.make_trainee(ctx, name="李四", tg_user_id=9202)
        own = await factories.sent(ctx, world, trainee)
        theirs = await factories.submitted(ctx, world, other, base=world.base_b)
    guest = app.user(9200)
    await guest.command("start")
    user = app.user(9201)
    await user.command("status")
    base = (await enrol(app, 9211, Role.BASE, name="王主任", base_id=world.base_a.id)).user
    city = (await enrol(app, 9212, Role.CITY, name="广州审核员", city_id=world.gz.id)).user
    province = (await enrol(app, 9213, Role.PROVINCE, name="省卫健委")).user
    return Cast(guest, user, base, city, province, own.id or 0, theirs.id or 0)


async def press(user: ScriptedUser, data: str):  # type: ignore[no-untyped-def]
    """A press on the user's newest bot message carrying `data`, whatever its buttons say."""
    emulator = user.emulator
    query_id = emulator.next_callback_id()
    query = {
        "id": query_id,
        "from": user.api,
        "message": user.last_bot_message().to_api(),
        "chat_instance": f"ci{user.chat_id}",
        "data": data,
    }
    record, _ = emulator.submit_update({"callback_query": query})
    await emulator.wait_processed(record.update_id)
    return emulator.state.callbacks[query_id]


def test_every_class_is_attacked_by_every_role() -> None:
    classes = callback_data_classes()
    assert len(classes) >= 20
    for role in ROLES:
        assert set(classes) <= {f.cls for f in share(role)}
    assert {f.data for role in ROLES for f in share(role)} == {f.data for f in every_forgery()}


ROLES = ("guest", "trainee", "base", "city", "province")


def share(role: str) -> list[Forged]:
    """The forgeries `role` presses: the first of every class, and every fifth of the rest
    (together the roles press them all)."""
    mine, seen = [], set()
    for i, item in enumerate(every_forgery()):
        first = item.cls not in seen
        seen.add(item.cls)
        if first or i % len(ROLES) == ROLES.index(role):
            mine.append(item)
    return mine


@pytest.mark.parametrize("role", ROLES)
async def test_forged_data_is_an_expired_button_and_changes_nothing(
    app: BotHarness, cast: Cast, role: str
) -> None:
    user: ScriptedUser = getattr(cast, role)
    forged = share(role)
    mark = user.mark()
    before = await snapshot(app.db)
    wrong = []
    for item in forged:
        answer = await press(user, item.data)
        if answer.text != STALE or answer.show_alert:
            wrong.append((item.cls.__name__, item.how, item.data, answer.answer))
    assert wrong == []
    assert user.bot_messages_since(mark, include_deleted=True) == []
    assert changed(before, await snapshot(app.db)) == {}


async def test_a_twenty_digit_id_on_every_id_field_is_refused_quietly(
    app: BotHarness, cast: Cast
) -> None:
    big = "9" * 20
    for user, data in [
        (cast.trainee, f"res:accept:{big}"),
        (cast.trainee, f"offer:accept:{big}"),
        (cast.trainee, f"tst:pdf:{big}"),
        (cast.base, f"sta:adm:{big}:adm"),
        (cast.base, f"stl:adm:sel:0:{big}"),
        (cast.province, f"stt:off:{big}:0"),
        (cast.trainee, f"tap:batch:0:{big}:0"),
    ]:
        mark = user.mark()
        answer = await press(user, data)
        assert answer.text == STALE, data
        assert user.bot_messages_since(mark) == []


async def test_presses_on_someone_elses_records_are_refused_and_change_nothing(
    app: BotHarness, cast: Cast
) -> None:
    """Data that parses, aimed at what the user may not touch: the workflow refuses."""
    missing = INT32_MAX
    attempts = [
        (cast.trainee, ResultAction(action="accept", app_id=cast.other_app)),
        (cast.trainee, ResultAction(action="decline_yes", app_id=cast.other_app)),
        (cast.trainee, ResultAction(action="accept", app_id=missing)),
        (cast.trainee, OfferAction(action="accept", offer_id=missing)),
        (cast.trainee, StatusCb(a="pdf", app=cast.other_app)),
        (cast.trainee, ApplyCb(a="resume", app=cast.other_app)),
        (cast.trainee, ProfileCb(a="del_yes", m="education", r=missing)),
        (cast.guest, ResultAction(action="accept", app_id=cast.own_app)),
        (cast.guest, AppCb(act="adm", id=cast.own_app, kind="adm")),
        (cast.trainee, AppCb(act="pre", id=cast.other_app, kind="pre")),
        (cast.base, AppCb(act="pre", id=cast.other_app, kind="pre")),
        (cast.base, AppCb(act="rej", id=cast.other_app, kind="pre")),
        (cast.base, AppCb(act="unadm", id=missing, kind="adm")),
        (cast.base, ResultAction(action="accept", app_id=cast.own_app)),
        (cast.base, TeamCb(op="off", id=1)),
        (cast.base, PlanCb(op="ok", plan=1)),
        (cast.city, AppCb(act="cnf", id=cast.other_app, kind="cnf")),
        (cast.city, ChgCb(op="ok", id=missing)),
        (cast.city, RedCb(op="ok", id=missing)),
        (cast.province, YearsCb(op="set", id=missing)),
        (cast.province, AppCb(act="adm", id=cast.own_app, kind="adm")),
    ]
    before = await snapshot(app.db)
    for user, data in attempts:
        mark = user.mark()
        answer = await press(user, data.pack())
        said = [m.text for m in user.bot_messages_since(mark)]
        assert answer.answered, data
        assert not any(APOLOGY in (t or "") for t in said), (data, said)
        assert APOLOGY not in (answer.text or ""), data
        assert answer.text or said, data  # the user is told why
    assert changed(before, await snapshot(app.db)) == {}


@pytest.mark.parametrize(
    ("role", "staff_side", "values"),
    [
        ("trainee", False, ODD_VALUES),
        ("base", True, ODD_VALUES[:1]),
        ("province", True, ODD_VALUES[1:2]),
    ],
)
async def test_well_formed_oddities_are_refused_without_an_apology(
    app: BotHarness,
    cast: Cast,
    role: str,
    staff_side: bool,
    values: tuple[tuple[str, str], ...],
) -> None:
    """Data that parses yet no button carries (a word where a number goes, an empty value, an
    id at the bounds of its column), for every action of the role's side: whatever the screen
    answers, it is no internal error."""
    user: ScriptedUser = getattr(cast, role)
    mark = user.mark()
    wrong = []
    for item in oddities(values):
        if item.cls.__prefix__.startswith("st") != staff_side:
            continue
        answer = await press(user, item.data)
        if not answer.answered or any(a in (answer.text or "") for a in APOLOGIES):
            wrong.append(item)
    said = [m.text or "" for m in user.bot_messages_since(mark)]
    assert wrong == []
    assert not [t for t in said if any(a in t for a in APOLOGIES)]
