"""Who is acting, and the scope checks every transition starts with."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.enums import Role, Supervisor
from workflow.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: int
    role: Role
    base_id: int | None = None
    city_id: int | None = None

    @classmethod
    def of(cls, account: object) -> Actor:
        return cls(
            account_id=account.id,  # type: ignore[attr-defined]
            role=Role(account.role),  # type: ignore[attr-defined]
            base_id=account.base_id,  # type: ignore[attr-defined]
            city_id=account.city_id,  # type: ignore[attr-defined]
        )


SYSTEM: Actor | None = None  # timed transitions are done by nobody in particular


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise Forbidden("forbidden.role", role=actor.role.value)


def require_self(actor: Actor, account_id: int) -> None:
    """A trainee acts only on themselves."""
    require_role(actor, Role.TRAINEE)
    if actor.account_id != account_id:
        raise Forbidden("forbidden.not_yours")


def require_base(actor: Actor, base_id: int | None) -> None:
    """Base staff act only on their own base."""
    require_role(actor, Role.BASE)
    if base_id is None or actor.base_id != base_id:
        raise Forbidden("forbidden.other_base")


def require_city_or_province(actor: Actor, city_id: int) -> None:
    """A city reviewer acts only on its own city; the province on every city."""
    require_role(actor, Role.CITY, Role.PROVINCE)
    if actor.role is Role.CITY and actor.city_id != city_id:
        raise Forbidden("forbidden.other_city")


def require_supervisor(actor: Actor, supervisor: str, city_id: int) -> None:
    """The base's supervising commission (上级主管卫健委): its city, or the province."""
    if Supervisor(supervisor) is Supervisor.PROVINCE:
        if actor.role is not Role.PROVINCE:
            raise Forbidden("forbidden.not_supervisor")
        return
    if actor.role is not Role.CITY or actor.city_id != city_id:
        raise Forbidden("forbidden.not_supervisor")


def sees_base(actor: Actor, base_id: int, city_id: int) -> bool:
    """Whether a staff actor's scope covers a base (for lists and history)."""
    if actor.role is Role.PROVINCE:
        return True
    if actor.role is Role.CITY:
        return actor.city_id == city_id
    if actor.role is Role.BASE:
        return actor.base_id == base_id
    return False
