"""Callback data of the staff consoles, one prefix per feature (all `st…`). Each button carries
only ids; whatever it asks for is checked again by the workflow when pressed."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callback_data import Id, Page, Word, one_of
from workflow.enums import ChangeKind
from workflow.queues import View

LIST_KINDS = (*(v.value for v in View), "yrs")


class ListCb(CallbackData, prefix="stl"):
    """A list screen (`kind`: pre adm chk chg cnf alc yrs) and its filters, pages, exports."""

    kind: one_of(*LIST_KINDS)
    op: Word  # page fb fbs fs fss fq fx clr exp sel selclr send cnfall cnfyes imp
    page: Page = 0
    arg: Id = 0


class AppCb(CallbackData, prefix="sta"):
    """A record card and its actions (`act`: card open pre rej unpre adm snd unadm cnf in1 in0)."""

    act: Word
    id: Id
    kind: one_of(*LIST_KINDS)


class PlanCb(CallbackData, prefix="stp"):
    """op: batches (page) view (batch, page) dbatch dspec (batch, page) ok adj (plan) rev."""

    op: Word
    batch: Id = 0
    spec: Id = 0
    plan: Id = 0
    page: Page = 0


class YearsCb(CallbackData, prefix="sty"):
    """A training card (op: card set red)."""

    op: Word
    id: Id


class RedCb(CallbackData, prefix="str"):
    """Reductions to review (op: list card docs proof ok back)."""

    op: Word
    id: Id = 0
    page: Page = 0


class AllocCb(CallbackData, prefix="stal"):
    """An offer being put together: places → site → confirm → offer."""

    op: Word
    app: Id
    base: Id = 0
    site: Id = 0
    spec: Id = 0


class ChgCb(CallbackData, prefix="stc"):
    """Change requests (op: mine new pend card info stat kind val ok no)."""

    op: Word
    app: Id = 0
    id: Id = 0
    kind: one_of("", *ChangeKind) = ""
    val: Word = ""
    page: Page = 0


class StatsCb(CallbackData, prefix="sts"):
    batch: Id
    page: Page = 0
