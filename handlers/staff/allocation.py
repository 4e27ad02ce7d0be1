"""学员调配管理: the province, or a base with free places, offers a not-admitted trainee who
accepted reassignment (是否接受专业调剂：是) a free place in another specialty or base. The trainee
answers in chat within the batch's offer period; an accepted offer is an admission that the base
then sends like any other (the base is told)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.staff.callbacks import AllocCb, AppCb
from handlers.staff.common import (
    Env,
    Event,
    args_of,
    button,
    int_arg,
    menu_back,
    reply,
    staff_router,
)
from handlers.staff.records import show_card
from storage.models import Base, Specialty
from workflow import allocation, queues
from workflow.enums import Role
from workflow.errors import DomainError, NotFound
from workflow.queues import View

ROLES = (Role.BASE, Role.PROVINCE)


async def show_places(env: Env, event: Event, app_id: int) -> None:
    row = await queues.application(env.ctx, env.actor, app_id, View.ALC)
    places = await queues.free_places(env.ctx, env.actor, row.batch_id)
    kb = InlineKeyboardBuilder()
    body = []
    for p in places[:30]:
        body.append(
            env.t(
                "alloc.place",
                base_id=p.base_id,
                base=p.base_name,
                spec_id=p.specialty_id,
                specialty=p.specialty_name,
                free=p.free,
                planned=p.planned,
            )
        )
        kb.row(
            button(
                f"{p.base_name} · {p.specialty_name} ({p.free})",
                AllocCb(op="site", app=app_id, base=p.base_id, spec=p.specialty_id),
            )
        )
    kb.row(
        button(env.t("card.back_to_card"), AppCb(act="card", id=app_id, kind=View.ALC.value)),
        *menu_back(env.i18n),
    )
    text = env.t(
        "alloc.places_title", id=row.id, name=row.name, specialty=row.specialty_name or "—"
    )
    text += "\n\n" + ("\n".join(body) if body else env.t("alloc.no_places"))
    await reply(event, text, kb.as_markup())


async def show_sites(env: Env, query: CallbackQuery, cb: AllocCb) -> None:
    sites = await queues.sites_of(env.ctx, cb.base)
    if len(sites) == 1:
        await show_confirm(env, query, cb.model_copy(update={"site": sites[0].id, "op": "conf"}))
        return
    kb = InlineKeyboardBuilder()
    for site in sites[:40]:
        kb.row(button(site.name, cb.model_copy(update={"site": site.id, "op": "conf"})))
    kb.row(button(env.i18n("common.back"), AllocCb(op="places", app=cb.app)), *menu_back(env.i18n))
    await reply(
        query, env.t("alloc.pick_site") if sites else env.t("alloc.no_sites"), kb.as_markup()
    )


async def show_confirm(env: Env, query: CallbackQuery, cb: AllocCb) -> None:
    row = await queues.application(env.ctx, env.actor, cb.app, View.ALC)
    site = await env.ctx.get(Base, cb.site)
    base = await env.ctx.get(Base, cb.base)
    spec = await env.ctx.get(Specialty, cb.spec)
    kb = InlineKeyboardBuilder()
    kb.row(button(env.t("alloc.confirm"), cb.model_copy(update={"op": "offer"})))
    kb.row(button(env.i18n("common.back"), AllocCb(op="places", app=cb.app)), *menu_back(env.i18n))
    text = env.t(
        "alloc.confirm_text",
        name=row.name,
        id=row.id,
        base=base.name,
        site=site.name,
        specialty=spec.name,
    )
    await reply(query, text, kb.as_markup())


async def make_offer(
    env: Env, event: Event, app_id: int, base_id: int, site_id: int, spec_id: int
) -> None:
    offer = await allocation.offer(env.ctx, env.actor, app_id, base_id, site_id, spec_id)
    await env.ctx.session.commit()
    note = env.t("done.offered", until=env.when(offer.expires_at))
    await show_card(env, event, View.ALC.value, app_id, note=note, new=isinstance(event, Message))


def build_router() -> Router:
    router = staff_router(name="staff-allocation")

    @router.callback_query(AllocCb.filter())
    async def on_alloc(
        query: CallbackQuery,
        callback_data: AllocCb,
        env: Env,
    ) -> None:
        env.require(*ROLES)
        cb = callback_data
        if cb.op == "site":
            await show_sites(env, query, cb)
        elif cb.op == "conf":
            await show_confirm(env, query, cb)
        elif cb.op == "offer":
            await make_offer(env, query, cb.app, cb.base, cb.site, cb.spec)
        else:
            await show_places(env, query, cb.app)

    @router.message(Command("offer"))
    async def offer_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(*ROLES)
        usage = env.t("usage.offer")
        args = args_of(command.args)
        if len(args) == 1:
            await show_places(env, message, int_arg(args[0], usage=usage))
            return
        if len(args) not in (3, 4):
            raise DomainError("staff.usage", usage=usage)
        app_id, base_id, spec_id = (int_arg(a, usage=usage) for a in args[:3])
        if len(args) == 4:
            site_id = int_arg(args[3], usage=usage)
        else:
            sites = await queues.sites_of(env.ctx, base_id)
            if not sites:
                raise NotFound("base")
            site_id = sites[0].id or 0
        await make_offer(env, message, app_id, base_id, site_id, spec_id)

    return router
