"""The staff's lists: applications, trainings, reductions, change requests, plans and free
places, each scoped to the actor and filtered and paginated in SQL (one query for a page, one
for its count; never a query per row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    ChangeRequest,
    Plan,
    Reduction,
    Specialty,
    TraineeProfile,
    Training,
)
from workflow import catalog
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import (
    ApplicationStatus,
    ChangeStatus,
    OfferStatus,
    PlanStatus,
    ReductionStatus,
    Role,
    Supervisor,
)
from workflow.errors import DomainError, Forbidden, NotFound

S = ApplicationStatus
EXPORT_MAX = 20_000  # rows of one Excel export


class View(StrEnum):
    """Which list of applications a staff screen shows."""

    PRE = "pre"  # 学员志愿预审核 (base)
    ADM = "adm"  # 学员录取管理 (base)
    CHK = "chk"  # 学员报到管理 (base)
    CHG = "chg"  # 学员信息变更申请: the confirmed trainees a base can file for
    CNF = "cnf"  # 录取结果确认 (the supervising commission)
    ALC = "alc"  # 学员调配管理: candidates for an offer (province, or a base with free places)


VIEW_STATUSES: dict[View, tuple[S, ...]] = {
    View.PRE: (S.SUBMITTED, S.PRE_ADMITTED, S.NOT_ADMITTED),
    View.ADM: (
        S.PRE_ADMITTED,
        S.ADMITTED,
        S.SENT,
        S.ACCEPTABLE,
        S.ACCEPTED,
        S.DECLINED,
        S.EXPIRED,
        S.CONFIRMED,
    ),
    View.CHK: (S.CONFIRMED,),
    View.CHG: (S.CONFIRMED,),
    View.CNF: (S.ACCEPTED, S.CONFIRMED),
    View.ALC: (S.NOT_ADMITTED,),
}
VIEW_ROLES: dict[View, tuple[Role, ...]] = {
    View.PRE: (Role.BASE,),
    View.ADM: (Role.BASE,),
    View.CHK: (Role.BASE,),
    View.CHG: (Role.BASE,),
    View.CNF: (Role.CITY, Role.PROVINCE),
    View.ALC: (Role.BASE, Role.PROVINCE),
}
# The extra filter each view offers (one value at a time), besides batch, specialty and text.
VIEW_EXTRA: dict[View, tuple[str, ...]] = {
    View.PRE: ("submitted", "pre_admitted", "not_admitted"),
    View.ADM: ("pre_admitted", "admitted", "sent", "unsent", "accepted", "confirmed"),
    View.CHK: ("reported", "not_reported", "pending"),
    View.CHG: (),
    View.CNF: ("accepted", "confirmed"),
    View.ALC: (),
}


@dataclass(frozen=True)
class AppFilter:
    batch_id: int | None = None
    specialty_id: int | None = None
    text: str | None = None  # part of a name, or the last digits of the ID number
    extra: str | None = None  # one of VIEW_EXTRA[view]

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> AppFilter:
        data = data or {}
        return cls(data.get("b"), data.get("s"), data.get("q"), data.get("x"))

    def dump(self) -> dict[str, Any]:
        return {"b": self.batch_id, "s": self.specialty_id, "q": self.text, "x": self.extra}

    def with_(self, **kw: Any) -> AppFilter:
        return replace(self, **kw)


@dataclass(frozen=True)
class AppRow:
    id: int
    account_id: int
    name: str
    id_tail: str
    id_type: str
    batch_id: int
    batch_name: str
    cohort_year: int
    specialty_id: int | None
    specialty_name: str | None
    base_id: int | None
    base_name: str | None
    city_id: int | None
    site_name: str | None
    personnel_type: str | None
    status: str
    accept_reassignment: bool | None
    submitted_at: datetime | None
    admitted_at: datetime | None
    sent_at: datetime | None
    acceptable_at: datetime | None
    deadline_at: datetime | None
    confirmed_at: datetime | None
    checkin: str | None
    checkin_at: datetime | None
    not_admitted_reason: str | None
    id_number_enc: bytes | None = None

    @property
    def masked_tail(self) -> str:
        return f"****{self.id_tail}"


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    pages: int


def _paginate(total: int, page: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(page, 0), pages - 1), pages


def _text_clause(text: str | None) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() or (text[:-1].isdigit() and text[-1:] in "xX"):
        # The last digits of an ID number: id_tail holds the last four characters.
        tail = text[-4:].upper()
        return TraineeProfile.id_tail.endswith(tail, autoescape=True)
    return TraineeProfile.name.contains(text, autoescape=True)


def _app_scope(actor: Actor, view: View) -> list[Any]:
    """What of the applications this actor may see in this view."""
    require_role(actor, *VIEW_ROLES[view])
    if view is View.CNF:
        if actor.role is Role.PROVINCE:
            return [Base.supervisor == Supervisor.PROVINCE]
        return [Base.supervisor == Supervisor.CITY, Base.city_id == actor.city_id]
    if view is View.ALC:
        return [Application.accept_reassignment.is_(True), ~_open_offer()]
    return [Application.base_id == actor.base_id]


def _open_offer() -> Any:
    return (
        select(AllocationOffer.id)
        .where(
            AllocationOffer.application_id == Application.id,
            AllocationOffer.status == OfferStatus.OFFERED,
        )
        .exists()
    )


def _extra_clause(view: View, extra: str | None) -> Any:
    if not extra or extra not in VIEW_EXTRA[view]:
        return None
    if extra == "sent":
        return Application.sent_at.is_not(None)
    if extra == "unsent":
        return Application.sent_at.is_(None)
    if extra in ("reported", "not_reported"):
        return Application.checkin == extra
    if extra == "pending":
        return Application.checkin.is_(None)
    return Application.status == extra


_SITE = aliased(Base)


def _app_select(*, with_id: bool = False) -> Select[Any]:
    cols = [
        Application.id,
        Application.account_id,
        TraineeProfile.name,
        TraineeProfile.id_tail,
        TraineeProfile.id_type,
        Application.batch_id,
        Batch.name,
        Batch.cohort_year,
        Application.specialty_id,
        Specialty.name,
        Application.base_id,
        Base.name,
        Base.city_id,
        _SITE.name,
        Application.personnel_type,
        Application.status,
        Application.accept_reassignment,
        Application.submitted_at,
        Application.admitted_at,
        Application.sent_at,
        Application.acceptable_at,
        Application.deadline_at,
        Application.confirmed_at,
        Application.checkin,
        Application.checkin_at,
        Application.not_admitted_reason,
    ]
    if with_id:
        cols.append(TraineeProfile.id_number_enc)
    return (
        select(*cols)
        .select_from(Application)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .join(Batch, Batch.id == Application.batch_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
        .outerjoin(Base, Base.id == Application.base_id)
        .outerjoin(_SITE, _SITE.id == Application.site_id)
    )


def _to_row(values: Sequence[Any]) -> AppRow:
    return AppRow(*values)


def _app_where(actor: Actor, view: View, filt: AppFilter) -> list[Any]:
    where = [Application.status.in_([s.value for s in VIEW_STATUSES[view]])]
    where += _app_scope(actor, view)
    if filt.batch_id:
        where.append(Application.batch_id == filt.batch_id)
    if filt.specialty_id:
        where.append(Application.specialty_id == filt.specialty_id)
    for clause in (_text_clause(filt.text), _extra_clause(view, filt.extra)):
        if clause is not None:
            where.append(clause)
    return where


def _count_select(where: list[Any]) -> Select[Any]:
    return (
        select(func.count(Application.id))
        .select_from(Application)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .outerjoin(Base, Base.id == Application.base_id)
        .where(*where)
    )


async def applications(
    ctx: Ctx, actor: Actor, view: View, filt: AppFilter, page: int = 0, size: int = 8
) -> Page[AppRow]:
    where = _app_where(actor, view, filt)
    total = int(await ctx.session.scalar(_count_select(where)) or 0)
    page, pages = _paginate(total, page, size)
    stmt = (
        _app_select()
        .where(*where)
        .order_by(Application.submitted_at, Application.id)
        .limit(size)
        .offset(page * size)
    )
    rows = [_to_row(r) for r in await ctx.session.execute(stmt)]
    return Page(rows, total, page, pages)


async def all_applications(
    ctx: Ctx, actor: Actor, view: View, filt: AppFilter, *, with_id: bool = False
) -> list[AppRow]:
    """Every row of the filtered list (an export), in the list's order."""
    stmt = (
        _app_select(with_id=with_id)
        .where(*_app_where(actor, view, filt))
        .order_by(Application.submitted_at, Application.id)
        .limit(EXPORT_MAX)
    )
    return [_to_row(r) for r in await ctx.session.execute(stmt)]


async def application_ids(
    ctx: Ctx, actor: Actor, view: View, filt: AppFilter, *, status: S, limit: int
) -> list[int]:
    """Ids of the filtered list's rows in one status (for an action on all of them)."""
    stmt = (
        select(Application.id)
        .select_from(Application)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .outerjoin(Base, Base.id == Application.base_id)
        .where(*_app_where(actor, view, filt), Application.status == status)
        .order_by(Application.id)
        .limit(limit)
    )
    return list((await ctx.session.scalars(stmt)).all())


def _forbid(actor: Actor) -> Forbidden:
    if actor.role is Role.CITY:
        return Forbidden("forbidden.other_city")
    return Forbidden("forbidden.other_base")


async def application(ctx: Ctx, actor: Actor, application_id: int, view: View) -> AppRow:
    """One record as a card, if the actor's scope covers it in this view."""
    require_role(actor, *VIEW_ROLES[view])
    row = (await ctx.session.execute(_app_select().where(Application.id == application_id))).first()
    if row is None:
        raise NotFound("application")
    app = _to_row(row)
    if app.status == S.DRAFT:
        raise NotFound("application")
    if view is View.ALC and app.status == S.NOT_ADMITTED and app.accept_reassignment:
        return app  # a candidate: any base with a free place may offer it one
    if view is View.CNF:
        base = await ctx.get(Base, app.base_id)
        if actor.role is Role.PROVINCE:
            if base.supervisor != Supervisor.PROVINCE:
                raise Forbidden("forbidden.not_supervisor")
        elif base.supervisor != Supervisor.CITY or base.city_id != actor.city_id:
            raise Forbidden("forbidden.not_supervisor")
        return app
    if app.base_id is None or not sees_base(actor, app.base_id, app.city_id or 0):
        raise _forbid(actor)
    return app


# --- multi-select for 发送录取结果 -------------------------------------------------------------


def toggle_selection(selected: Sequence[int], application_id: int, limit: int) -> list[int]:
    """Add or remove one record of a multi-select; a selection beyond `limit` is refused."""
    chosen = list(dict.fromkeys(selected))
    if application_id in chosen:
        chosen.remove(application_id)
        return chosen
    if len(chosen) >= limit:
        raise DomainError("staff.select_max", max=limit)
    return [*chosen, application_id]


# --- training years -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingFilter:
    batch_id: int | None = None
    specialty_id: int | None = None
    text: str | None = None
    years: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> TrainingFilter:
        data = data or {}
        return cls(data.get("b"), data.get("s"), data.get("q"), data.get("x"))

    def dump(self) -> dict[str, Any]:
        return {"b": self.batch_id, "s": self.specialty_id, "q": self.text, "x": self.years}


@dataclass(frozen=True)
class TrainingRow:
    id: int
    application_id: int
    account_id: int
    name: str
    id_tail: str
    batch_name: str
    cohort_year: int
    specialty_name: str | None
    duration_years: int | None
    start_date: date | None
    end_date: date | None
    status: str
    reduction_applied_at: datetime | None
    reduction_id: int | None
    reduction_status: str | None
    base_id: int
    city_id: int
    id_number_enc: bytes | None = None


def _latest_reduction() -> Any:
    return (
        select(Reduction.training_id, func.max(Reduction.id).label("rid"))
        .group_by(Reduction.training_id)
        .subquery()
    )


def _training_select(with_id: bool = False) -> tuple[Select[Any], Any]:
    latest = _latest_reduction()
    red = aliased(Reduction)
    cols = [
        Training.id,
        Training.application_id,
        Training.account_id,
        TraineeProfile.name,
        TraineeProfile.id_tail,
        Batch.name,
        Batch.cohort_year,
        Specialty.name,
        Training.duration_years,
        Training.start_date,
        Training.end_date,
        Training.status,
        Training.reduction_applied_at,
        red.id,
        red.status,
        Training.base_id,
        Base.city_id,
    ]
    if with_id:
        cols.append(TraineeProfile.id_number_enc)
    stmt = (
        select(*cols)
        .select_from(Training)
        .join(Application, Application.id == Training.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
        .join(Batch, Batch.id == Application.batch_id)
        .join(Base, Base.id == Training.base_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
        .outerjoin(latest, latest.c.training_id == Training.id)
        .outerjoin(red, red.id == latest.c.rid)
    )
    return stmt, red


def _training_where(actor: Actor, filt: TrainingFilter) -> list[Any]:
    require_role(actor, Role.BASE)
    where: list[Any] = [Training.base_id == actor.base_id]
    if filt.batch_id:
        where.append(Application.batch_id == filt.batch_id)
    if filt.specialty_id:
        where.append(Application.specialty_id == filt.specialty_id)
    if filt.years in (1, 2, 3):
        where.append(Training.duration_years == filt.years)
    clause = _text_clause(filt.text)
    if clause is not None:
        where.append(clause)
    return where


async def trainings(
    ctx: Ctx, actor: Actor, filt: TrainingFilter, page: int = 0, size: int = 8
) -> Page[TrainingRow]:
    """培训年限管理: the base's checked-in trainees."""
    where = _training_where(actor, filt)
    total = int(
        await ctx.session.scalar(
            select(func.count(Training.id))
            .select_from(Training)
            .join(Application, Application.id == Training.application_id)
            .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
            .where(*where)
        )
        or 0
    )
    page, pages = _paginate(total, page, size)
    stmt, _ = _training_select()
    stmt = stmt.where(*where).order_by(Training.id).limit(size).offset(page * size)
    return Page([TrainingRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


async def all_trainings(
    ctx: Ctx, actor: Actor, filt: TrainingFilter, *, with_id: bool = False
) -> list[TrainingRow]:
    stmt, _ = _training_select(with_id)
    stmt = stmt.where(*_training_where(actor, filt)).order_by(Training.id).limit(EXPORT_MAX)
    return [TrainingRow(*r) for r in await ctx.session.execute(stmt)]


async def training(ctx: Ctx, actor: Actor, training_id: int) -> TrainingRow:
    stmt, _ = _training_select()
    row = (await ctx.session.execute(stmt.where(Training.id == training_id))).first()
    if row is None:
        raise NotFound("training")
    result = TrainingRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise _forbid(actor)
    return result


# --- reductions -----------------------------------------------------------------------------

REVIEW_LEVEL = {
    Role.BASE: ReductionStatus.AT_BASE,
    Role.CITY: ReductionStatus.AT_CITY,
    Role.PROVINCE: ReductionStatus.AT_PROVINCE,
}


@dataclass(frozen=True)
class ReductionRow:
    id: int
    training_id: int
    application_id: int
    name: str
    id_tail: str
    base_id: int
    base_name: str
    city_id: int
    specialty_name: str | None
    years: int
    duration_years: int | None
    start_date: date | None
    end_date: date | None
    status: str
    sent_back_by: str | None
    sent_back_reason: str | None
    updated_at: datetime | None


def _reduction_select() -> Select[Any]:
    return (
        select(
            Reduction.id,
            Reduction.training_id,
            Training.application_id,
            TraineeProfile.name,
            TraineeProfile.id_tail,
            Reduction.base_id,
            Base.name,
            Reduction.city_id,
            Specialty.name,
            Reduction.years,
            Training.duration_years,
            Training.start_date,
            Training.end_date,
            Reduction.status,
            Reduction.sent_back_by,
            Reduction.sent_back_reason,
            Reduction.updated_at,
        )
        .select_from(Reduction)
        .join(Training, Training.id == Reduction.training_id)
        .join(Application, Application.id == Training.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
        .join(Base, Base.id == Reduction.base_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
    )


def _reduction_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [Reduction.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Reduction.city_id == actor.city_id]
    return []


async def reductions_to_review(
    ctx: Ctx, actor: Actor, page: int = 0, size: int = 8
) -> Page[ReductionRow]:
    """The reductions waiting on this actor's level of the chain."""
    where = [*_reduction_scope(actor), Reduction.status == REVIEW_LEVEL[actor.role]]
    total = int(await ctx.session.scalar(select(func.count(Reduction.id)).where(*where)) or 0)
    page, pages = _paginate(total, page, size)
    stmt = _reduction_select().where(*where).order_by(Reduction.updated_at, Reduction.id)
    rows = await ctx.session.execute(stmt.limit(size).offset(page * size))
    return Page([ReductionRow(*r) for r in rows], total, page, pages)


async def reduction(ctx: Ctx, actor: Actor, reduction_id: int) -> ReductionRow:
    row = (
        await ctx.session.execute(_reduction_select().where(Reduction.id == reduction_id))
    ).first()
    if row is None:
        raise NotFound("reduction")
    result = ReductionRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise _forbid(actor)
    return result


async def reduction_of_training(ctx: Ctx, actor: Actor, training_id: int) -> ReductionRow:
    """The latest reduction of a training. Only a 1- or 2-year training has one."""
    row = await training(ctx, actor, training_id)
    if row.duration_years not in (1, 2):
        raise DomainError("reduction.only_short", years=row.duration_years)
    if row.reduction_id is None:
        raise DomainError("staff.no_reduction")
    return await reduction(ctx, actor, row.reduction_id)


# --- change requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRow:
    id: int
    application_id: int
    name: str
    id_tail: str
    base_id: int
    base_name: str
    city_id: int
    kind: str
    old_value: str | None
    new_value: str | None
    status: str
    reason: str | None
    filed_at: datetime | None
    decided_at: datetime | None


def _change_select() -> Select[Any]:
    return (
        select(
            ChangeRequest.id,
            ChangeRequest.application_id,
            TraineeProfile.name,
            TraineeProfile.id_tail,
            ChangeRequest.base_id,
            Base.name,
            Base.city_id,
            ChangeRequest.kind,
            ChangeRequest.old_value,
            ChangeRequest.new_value,
            ChangeRequest.status,
            ChangeRequest.reason,
            ChangeRequest.filed_at,
            ChangeRequest.decided_at,
        )
        .select_from(ChangeRequest)
        .join(Application, Application.id == ChangeRequest.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .join(Base, Base.id == ChangeRequest.base_id)
    )


def _change_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [ChangeRequest.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Base.city_id == actor.city_id]
    return []


async def change_requests(
    ctx: Ctx, actor: Actor, *, pending_only: bool, page: int = 0, size: int = 8
) -> Page[ChangeRow]:
    """A base's requests (newest first); a commission's pending ones (oldest first)."""
    where = _change_scope(actor)
    if pending_only:
        where.append(ChangeRequest.status == ChangeStatus.PENDING)
    total = int(
        await ctx.session.scalar(
            select(func.count(ChangeRequest.id))
            .select_from(ChangeRequest)
            .join(Base, Base.id == ChangeRequest.base_id)
            .where(*where)
        )
        or 0
    )
    page, pages = _paginate(total, page, size)
    order = ChangeRequest.id if pending_only else ChangeRequest.id.desc()
    stmt = _change_select().where(*where).order_by(order).limit(size).offset(page * size)
    return Page([ChangeRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


async def change_request(ctx: Ctx, actor: Actor, change_id: int) -> ChangeRow:
    row = (await ctx.session.execute(_change_select().where(ChangeRequest.id == change_id))).first()
    if row is None:
        raise NotFound("change_request")
    result = ChangeRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise _forbid(actor)
    return result


# --- plans and free places ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    id: int
    batch_id: int
    batch_name: str
    base_id: int
    base_name: str
    specialty_id: int
    specialty_name: str
    declared: int | None
    planned: int
    status: str
    reason: str | None


def _plan_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [Plan.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Base.city_id == actor.city_id]
    return []


async def plans(
    ctx: Ctx,
    actor: Actor,
    batch_id: int | None,
    *,
    declared_only: bool = False,
    page: int = 0,
    size: int = 10,
) -> Page[PlanRow]:
    """招生计划查看 in the actor's scope; `declared_only`: what waits for the province."""
    where = _plan_scope(actor)
    if batch_id:
        where.append(Plan.batch_id == batch_id)
    if declared_only:
        where.append(Plan.status == PlanStatus.DECLARED)
    base_q = select(Plan).join(Base, Base.id == Plan.base_id).where(*where)
    total = int(await ctx.session.scalar(select(func.count()).select_from(base_q.subquery())) or 0)
    page, pages = _paginate(total, page, size)
    stmt = (
        select(
            Plan.id,
            Plan.batch_id,
            Batch.name,
            Plan.base_id,
            Base.name,
            Plan.specialty_id,
            Specialty.name,
            Plan.declared,
            Plan.planned,
            Plan.status,
            Plan.reason,
        )
        .join(Base, Base.id == Plan.base_id)
        .join(Specialty, Specialty.id == Plan.specialty_id)
        .join(Batch, Batch.id == Plan.batch_id)
        .where(*where)
        .order_by(Plan.batch_id.desc(), Base.name, Specialty.code)
        .limit(size)
        .offset(page * size)
    )
    return Page([PlanRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


@dataclass(frozen=True)
class FreePlace:
    base_id: int
    base_name: str
    specialty_id: int
    specialty_name: str
    planned: int
    taken: int

    @property
    def free(self) -> int:
        return self.planned - self.taken


async def free_places(ctx: Ctx, actor: Actor, batch_id: int) -> list[FreePlace]:
    """Plan places of a batch not yet taken (admitted onwards, or held by an open offer); a
    base sees its own, the province every base's. One grouped statement."""
    require_role(actor, Role.BASE, Role.PROVINCE)
    taken = (
        select(
            Application.base_id.label("base_id"),
            Application.specialty_id.label("specialty_id"),
            func.count(Application.id).label("n"),
        )
        .where(Application.batch_id == batch_id, Application.status.in_(catalog.TAKES_PLACE))
        .group_by(Application.base_id, Application.specialty_id)
        .subquery()
    )
    offered = (
        select(
            AllocationOffer.base_id.label("base_id"),
            AllocationOffer.specialty_id.label("specialty_id"),
            func.count(AllocationOffer.id).label("n"),
        )
        .join(Application, Application.id == AllocationOffer.application_id)
        .where(Application.batch_id == batch_id, AllocationOffer.status == OfferStatus.OFFERED)
        .group_by(AllocationOffer.base_id, AllocationOffer.specialty_id)
        .subquery()
    )
    used = func.coalesce(taken.c.n, 0) + func.coalesce(offered.c.n, 0)
    stmt = (
        select(Plan.base_id, Base.name, Plan.specialty_id, Specialty.name, Plan.planned, used)
        .join(Base, Base.id == Plan.base_id)
        .join(Specialty, Specialty.id == Plan.specialty_id)
        .outerjoin(
            taken,
            and_(taken.c.base_id == Plan.base_id, taken.c.specialty_id == Plan.specialty_id),
        )
        .outerjoin(
            offered,
            and_(offered.c.base_id == Plan.base_id, offered.c.specialty_id == Plan.specialty_id),
        )
        .where(
            Plan.batch_id == batch_id,
            Plan.status.in_(catalog.VISIBLE_PLAN),
            Plan.planned > used,
        )
        .order_by(Base.name, Specialty.code)
    )
    if actor.role is Role.BASE:
        stmt = stmt.where(Plan.base_id == actor.base_id)
    return [FreePlace(*r) for r in await ctx.session.execute(stmt)]


async def sites_of(ctx: Ctx, base_id: int) -> list[Base]:
    rows = await ctx.session.scalars(
        select(Base).where(Base.parent_id == base_id).order_by(Base.name, Base.id)
    )
    return list(rows.all())


async def national_bases(ctx: Ctx, page: int = 0, size: int = 8) -> Page[Base]:
    from workflow.enums import BaseKind

    where = [Base.kind == BaseKind.NATIONAL]
    total = int(await ctx.session.scalar(select(func.count(Base.id)).where(*where)) or 0)
    page, pages = _paginate(total, page, size)
    rows = await ctx.session.scalars(
        select(Base).where(*where).order_by(Base.code).limit(size).offset(page * size)
    )
    return Page(list(rows.all()), total, page, pages)


async def specialties(
    ctx: Ctx, program: str | None = None, page: int = 0, size: int = 8
) -> Page[Specialty]:
    where = [Specialty.program == program] if program else []
    total = int(await ctx.session.scalar(select(func.count(Specialty.id)).where(*where)) or 0)
    page, pages = _paginate(total, page, size)
    rows = await ctx.session.scalars(
        select(Specialty).where(*where).order_by(Specialty.code).limit(size).offset(page * size)
    )
    return Page(list(rows.all()), total, page, pages)


async def batches(ctx: Ctx, page: int = 0, size: int = 8) -> Page[Batch]:
    total = int(await ctx.session.scalar(select(func.count(Batch.id))) or 0)
    page, pages = _paginate(total, page, size)
    rows = await ctx.session.scalars(
        select(Batch)
        .order_by(Batch.apply_start.desc(), Batch.id.desc())
        .limit(size)
        .offset(page * size)
    )
    return Page(list(rows.all()), total, page, pages)


async def scope_label(ctx: Ctx, actor: Actor) -> str | None:
    """The name of the base or city an account belongs to."""
    from storage.models import City

    if actor.base_id is not None:
        return await ctx.session.scalar(select(Base.name).where(Base.id == actor.base_id))
    if actor.city_id is not None:
        return await ctx.session.scalar(select(City.name).where(City.id == actor.city_id))
    return None
