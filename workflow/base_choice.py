"""The application's base choice outside the chat (the Mini App): the national bases with a
plan for a specialty, with their city, 招收计划数 and 已报名人数, then the chosen base's local
bases; saved into the draft by the wizard's own steps (choose_specialty, choose_base,
choose_site), so the chat's wizard stands where the choice left it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.models import Application, Base, Batch, City, Specialty
from workflow import application, catalog, trainee_status
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.errors import DomainError

# The steps from which the choice can be made (or changed): the ones before it are the chat's.
CHOICE_STEPS = ("specialty", "base", "site", "reassignment", "review")


@dataclass(frozen=True)
class BaseOption:
    base_id: int
    name: str
    city_id: int
    city: str
    planned: int
    applicants: int


@dataclass(frozen=True)
class ChoiceView:
    application: Application
    batch: Batch
    specialties: list[Specialty]
    specialty_id: int | None
    bases: list[BaseOption]
    sites: list[catalog.PlanRow]


async def draft_for_choice(ctx: Ctx, actor: Actor) -> tuple[Application, Batch]:
    """The open draft, once the wizard has reached the choice."""
    found = await trainee_status.open_draft(ctx, actor)
    if found is None:
        raise DomainError("app_choice.no_draft")
    app, batch = found
    if app.step not in CHOICE_STEPS:
        before = application.STEPS[: application.STEPS.index("specialty")]
        missing = [s for s in application.missing_steps(app) if s in before]
        raise DomainError("app.step_missing", step=missing[0] if missing else app.step)
    return app, batch


async def national_options(ctx: Ctx, batch_id: int, specialty_id: int) -> list[BaseOption]:
    plans = await catalog.national_bases_for(ctx, batch_id, specialty_id)
    if not plans:
        return []
    cities = {
        base_id: (city_id, name)
        for base_id, city_id, name in await ctx.session.execute(
            select(Base.id, City.id, City.name)
            .join(City, City.id == Base.city_id)
            .where(Base.id.in_([p.base_id for p in plans]))
        )
    }
    return [
        BaseOption(p.base_id, p.base_name, *cities[p.base_id], p.planned, p.applicants)
        for p in plans
    ]


async def options(ctx: Ctx, actor: Actor, specialty_id: int | None = None) -> ChoiceView:
    """What the page lists: the batch's specialties, the national bases of the one asked for
    (the draft's by default), and the local bases of the draft's base for its specialty."""
    app, batch = await draft_for_choice(ctx, actor)
    specialties = await catalog.specialties_with_plans(ctx, batch.id)  # type: ignore[arg-type]
    chosen = specialty_id or app.intended_specialty_id
    if chosen is not None and chosen not in {s.id for s in specialties}:
        raise DomainError("app.no_plan_for_specialty")
    bases = await national_options(ctx, batch.id, chosen) if chosen else []  # type: ignore[arg-type]
    sites: list[catalog.PlanRow] = []
    if app.base_id is not None and chosen == app.intended_specialty_id:
        sites = await catalog.local_bases_for(ctx, batch.id, chosen, app.base_id)  # type: ignore[arg-type]
    return ChoiceView(app, batch, specialties, chosen, bases, sites)


async def choose(ctx: Ctx, actor: Actor, specialty_id: int, base_id: int) -> Application:
    """The specialty (when it changes) and the national base, as the wizard's steps 5a-5b."""
    app, _ = await draft_for_choice(ctx, actor)
    if app.intended_specialty_id != specialty_id or app.step == "specialty":
        app = await application.choose_specialty(ctx, actor, app.id, specialty_id)  # type: ignore[arg-type]
    return await application.choose_base(ctx, actor, app.id, base_id)  # type: ignore[arg-type]


async def choose_site(ctx: Ctx, actor: Actor, site_id: int) -> Application:
    """The local base, as the wizard's step 5c."""
    app, _ = await draft_for_choice(ctx, actor)
    return await application.choose_site(ctx, actor, app.id, site_id)  # type: ignore[arg-type]
