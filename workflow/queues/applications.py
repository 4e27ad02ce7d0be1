"""Applications as the staff see them, per view (pre-audit, admission, confirmation,
check-in, allocation), scoped to the actor and filtered and paginated in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    Specialty,
    TraineeProfile,
)
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import (
    OfferStatus,
    Role,
    Supervisor,
)
from workflow.errors import DomainError, Forbidden, NotFound
from workflow.queues.common import (
    EXPORT_MAX,
    Page,
    S,
    forbid,
    order_key,
    paginate,
    text_clause,
)


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
    order: str | None = None  # a key of APP_ORDER, "-" first for descending

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> AppFilter:
        data = data or {}
        return cls(data.get("b"), data.get("s"), data.get("q"), data.get("x"), data.get("o"))

    def dump(self) -> dict[str, Any]:
        return {
            "b": self.batch_id,
            "s": self.specialty_id,
            "q": self.text,
            "x": self.extra,
            "o": self.order,
        }

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

# The columns a list can be sorted by; ties are broken by the list's own order.
APP_ORDER: dict[str, Any] = {
    "id": Application.id,
    "name": TraineeProfile.name,
    "tail": TraineeProfile.id_tail,
    "specialty": Specialty.code,
    "base": Base.name,
    "status": Application.status,
    "submitted_at": Application.submitted_at,
    "sent_at": Application.sent_at,
    "checkin": Application.checkin,
}


def _order_by(order: str | None) -> list[Any]:
    default = [Application.submitted_at, Application.id]
    column, descending = order_key(APP_ORDER, order)
    if column is None:
        return default
    return [column.desc() if descending else column.asc(), *default]


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
    for clause in (text_clause(filt.text), _extra_clause(view, filt.extra)):
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
    page, pages = paginate(total, page, size)
    stmt = (
        _app_select().where(*where).order_by(*_order_by(filt.order)).limit(size).offset(page * size)
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
        .order_by(*_order_by(filt.order))
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
        raise forbid(actor)
    return app


# --- multi-select for 发送录取结果 -------------------------------------------------------------


async def select_for_send(
    ctx: Ctx, actor: Actor, selected: Sequence[int], application_id: int, limit: int
) -> list[int]:
    """Tick or untick a record for 发送录取结果: it must be in the actor's admission list and
    admitted (unticking always works); a tick beyond `limit` is refused. The send checks all
    of it again."""
    row = await application(ctx, actor, application_id, View.ADM)
    if row.status != S.ADMITTED and application_id not in selected:
        raise DomainError("state.wrong", status=row.status, expected=S.ADMITTED.value)
    return toggle_selection(selected, application_id, limit)


def toggle_selection(selected: Sequence[int], application_id: int, limit: int) -> list[int]:
    """Add or remove one record of a multi-select; a selection beyond `limit` is refused."""
    chosen = list(dict.fromkeys(selected))
    if application_id in chosen:
        chosen.remove(application_id)
        return chosen
    if len(chosen) >= limit:
        raise DomainError("staff.select_max", max=limit)
    return [*chosen, application_id]


# --- what can be done to a record -----------------------------------------------------------


def actions_for(row: AppRow, view: View, now: datetime) -> list[str]:
    """The actions a list offers on a record in its present state (the chat card's buttons and
    the Mini App's row buttons): pre unpre rej adm snd unadm cnf in1 in0. Offering is not
    allowing: each action's workflow function checks role, scope and state again."""
    status = S(row.status)
    acts: list[str] = []
    if view is View.PRE:
        if status is S.SUBMITTED:
            acts.append("pre")
        if status is S.PRE_ADMITTED:
            acts.append("unpre")
        if status in (S.SUBMITTED, S.PRE_ADMITTED):
            acts.append("rej")
    elif view is View.ADM:
        if status is S.PRE_ADMITTED:
            acts.append("adm")
        if status is S.ADMITTED:
            acts.append("snd")
        if status is S.SENT and row.acceptable_at and now < row.acceptable_at:
            acts.append("unadm")
    elif view is View.CHK and status is S.CONFIRMED:
        acts += ["in1", "in0"]
    elif view is View.CNF and status is S.ACCEPTED:
        acts.append("cnf")
    return acts
