"""学员确认录取结果 (the guide's §四) and 学员调配: accept or decline a sent result, answer an
allocation offer. The buttons sit on the status card and on notices (and on the reminders
engineer's reminder messages); /accept and /decline do the same by typing.

Whatever was pressed, the workflow checks the window again: a press before the lock period ends
or after the confirmation period is refused with the reason and the dates, and the message it
came from loses its buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.notice_buttons import OfferAction, ResultAction
from handlers.trainee import status as status_card
from handlers.trainee.env import Env, trainee_router
from handlers.trainee.ui import button, edit, markup, show
from storage.models import Application, Batch
from workflow import allocation, results, trainee_status
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.errors import DomainError


def _decline_markup(i18n: Translator, app_id: int) -> InlineKeyboardMarkup:
    return markup(
        [
            button(
                i18n("trainee.result.decline_yes"),
                ResultAction(action="decline_yes", app_id=app_id),
            )
        ],
        [
            button(
                i18n("trainee.result.decline_no"), ResultAction(action="decline_no", app_id=app_id)
            )
        ],
    )


async def _check_answerable(ctx: Ctx, actor: Actor, app_id: int) -> Application:
    """The trainee's application whose result can be answered now, or the refusal saying why."""
    app = await trainee_status.own_application(ctx, actor, app_id)
    results.check_window(app, await ctx.get(Batch, app.batch_id), ctx.now())
    return app


async def _after(
    query_or_message: CallbackQuery | Message, env: Env, app: Application, done_key: str
) -> None:
    """The answer is committed: say so with the application's card, and bring the remembered
    card up to date (pressed on the card itself, the card is the answer)."""
    ctx, actor, i18n = env.ctx, env.actor, env.i18n
    text = i18n(done_key) + "\n\n" + await status_card.card_text(ctx, actor, i18n, app)
    if not isinstance(query_or_message, CallbackQuery):
        await query_or_message.answer(text)
    elif not await status_card.is_card(ctx, actor, query_or_message.message):
        await show(query_or_message, text)
    await status_card.refresh(env.bot, ctx, actor, i18n)


async def _refused(query: CallbackQuery, env: Env, app_id: int, err: DomainError) -> None:
    """Refused: say why, and take the buttons off the message if the window is not open."""
    ctx, actor, i18n = env.ctx, env.actor, env.i18n
    await ctx.session.rollback()
    text = i18n.error(err.code, err.params)
    await query.answer(text if len(text) <= 200 else None, show_alert=len(text) <= 200)
    if len(text) > 200:
        await query.bot.send_message(query.from_user.id, text)  # type: ignore[union-attr]
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        try:
            app = await trainee_status.own_application(ctx, actor, app_id)
        except DomainError:
            await query.message.edit_reply_markup(reply_markup=None)
            return
        body = await status_card.card_text(ctx, actor, i18n, app)
        kb = markup(*status_card.result_buttons(i18n, app, ctx.now()))
        await edit(query.message, text + "\n\n" + body, kb if kb.inline_keyboard else None)


def build_router() -> Router:
    router = trainee_router(name="trainee-result")

    @router.callback_query(ResultAction.filter(F.action == "accept"))
    async def accept(query: CallbackQuery, callback_data: ResultAction, env: Env) -> None:
        try:
            app = await results.accept(env.ctx, env.actor, callback_data.app_id)
        except DomainError as err:
            await _refused(query, env, callback_data.app_id, err)
            return
        await env.ctx.session.commit()
        await query.answer(env.i18n("trainee.result.accepted_short"))
        await _after(query, env, app, "trainee.result.accepted")

    @router.callback_query(ResultAction.filter(F.action == "decline"))
    async def decline(query: CallbackQuery, callback_data: ResultAction, env: Env) -> None:
        try:
            app = await _check_answerable(env.ctx, env.actor, callback_data.app_id)
        except DomainError as err:
            await _refused(query, env, callback_data.app_id, err)
            return
        await query.answer()
        batch = await env.ctx.get(Batch, app.batch_id)
        await env.bot.send_message(
            query.from_user.id,
            env.i18n("trainee.result.decline_ask", batch=batch.name),
            reply_markup=_decline_markup(env.i18n, app.id or 0),
        )

    @router.callback_query(ResultAction.filter(F.action == "decline_yes"))
    async def decline_yes(query: CallbackQuery, callback_data: ResultAction, env: Env) -> None:
        try:
            app = await results.decline(env.ctx, env.actor, callback_data.app_id)
        except DomainError as err:
            await _refused(query, env, callback_data.app_id, err)
            return
        await env.ctx.session.commit()
        await query.answer()
        await _after(query, env, app, "trainee.result.declined")

    @router.callback_query(ResultAction.filter(F.action == "decline_no"))
    async def decline_no(query: CallbackQuery, env: Env) -> None:
        await query.answer()
        await show(query, env.i18n("trainee.result.decline_kept"))

    @router.message(Command("accept"))
    async def accept_command(message: Message, env: Env) -> None:
        target = await trainee_status.result_to_answer(env.ctx, env.actor)
        if target is None:
            raise DomainError("accept.no_result")
        app = await results.accept(env.ctx, env.actor, target.id)  # type: ignore[arg-type]
        await env.ctx.session.commit()
        await _after(message, env, app, "trainee.result.accepted")

    @router.message(Command("decline"))
    async def decline_command(message: Message, env: Env) -> None:
        target = await trainee_status.result_to_answer(env.ctx, env.actor)
        if target is None:
            raise DomainError("accept.no_result")
        app = await _check_answerable(env.ctx, env.actor, target.id)  # type: ignore[arg-type]
        batch = await env.ctx.get(Batch, app.batch_id)
        await message.answer(
            env.i18n("trainee.result.decline_ask", batch=batch.name),
            reply_markup=_decline_markup(env.i18n, app.id or 0),
        )

    # --- allocation offers (学员调配) ---------------------------------------------------------

    @router.callback_query(OfferAction.filter(F.action.in_({"accept", "refuse_yes"})))
    async def answer_offer(query: CallbackQuery, callback_data: OfferAction, env: Env) -> None:
        ctx, actor, i18n = env.ctx, env.actor, env.i18n
        accept_it = callback_data.action == "accept"
        try:
            offer = await allocation.answer(ctx, actor, callback_data.offer_id, accept_it)
        except DomainError as err:
            await ctx.session.rollback()
            await query.answer(i18n.error(err.code, err.params)[:200], show_alert=True)
            if isinstance(query.message, Message) and query.message.reply_markup is not None:
                await query.message.edit_reply_markup(reply_markup=None)
            return
        await ctx.session.commit()
        await query.answer()
        _offer, app = await trainee_status.own_offer(ctx, actor, offer.id or 0)
        done = "trainee.offer.accepted" if accept_it else "trainee.offer.refused"
        await _after(query, env, app, done)

    @router.callback_query(OfferAction.filter(F.action == "refuse"))
    async def refuse_offer(query: CallbackQuery, callback_data: OfferAction, env: Env) -> None:
        i18n, offer_id = env.i18n, callback_data.offer_id
        await trainee_status.own_offer(env.ctx, env.actor, offer_id)
        await query.answer()
        await env.bot.send_message(
            query.from_user.id,
            i18n("trainee.offer.refuse_ask"),
            reply_markup=markup(
                [
                    button(
                        i18n("trainee.offer.refuse_yes"),
                        OfferAction(action="refuse_yes", offer_id=offer_id),
                    )
                ],
                [
                    button(
                        i18n("trainee.offer.refuse_no"),
                        OfferAction(action="refuse_no", offer_id=offer_id),
                    )
                ],
            ),
        )

    @router.callback_query(OfferAction.filter(F.action == "refuse_no"))
    async def refuse_no(query: CallbackQuery, env: Env) -> None:
        await query.answer()
        await show(query, env.i18n("trainee.offer.refuse_kept"))

    return router
