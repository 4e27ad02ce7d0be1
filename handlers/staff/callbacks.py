"""Callback data of the staff consoles, one prefix per feature (all `st…`). Each button carries
only ids; whatever it asks for is checked again by the workflow when pressed."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ListCb(CallbackData, prefix="stl"):
    """A list screen (`kind`: pre adm chk chg cnf alc yrs) and its filters, pages, exports."""

    kind: str
    op: str  # page fb fbs fs fss fq fx clr exp sel selclr send cnfall cnfyes imp
    page: int = 0
    arg: int = 0


class AppCb(CallbackData, prefix="sta"):
    """A record card and its actions (`act`: card open pre rej unpre adm snd unadm cnf in1 in0)."""

    act: str
    id: int
    kind: str


class PlanCb(CallbackData, prefix="stp"):
    """op: batches (page) view (batch, page) dbatch dspec (batch, page) ok adj (plan) rev."""

    op: str
    batch: int = 0
    spec: int = 0
    plan: int = 0
    page: int = 0


class YearsCb(CallbackData, prefix="sty"):
    """A training card (op: card set red)."""

    op: str
    id: int


class RedCb(CallbackData, prefix="str"):
    """Reductions to review (op: list card docs proof ok back)."""

    op: str
    id: int = 0
    page: int = 0


class AllocCb(CallbackData, prefix="stal"):
    """An offer being put together: places → site → confirm → offer."""

    op: str
    app: int
    base: int = 0
    site: int = 0
    spec: int = 0


class ChgCb(CallbackData, prefix="stc"):
    """Change requests (op: mine new pend card info stat kind val ok no)."""

    op: str
    app: int = 0
    id: int = 0
    kind: str = ""
    val: str = ""
    page: int = 0


class StatsCb(CallbackData, prefix="sts"):
    batch: int
    page: int = 0
