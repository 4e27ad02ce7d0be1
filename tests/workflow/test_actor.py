"""Who may act on what (`workflow.actor`): the scope checks every transition starts with."""

from __future__ import annotations

import pytest

from workflow.actor import (
    Actor,
    require_base,
    require_city_or_province,
    require_self,
    require_supervisor,
    sees_base,
)
from workflow.enums import Role
from workflow.errors import DomainError

TRAINEE = Actor(1, Role.TRAINEE)
STAFF_A = Actor(2, Role.BASE, base_id=10)
CITY_GZ = Actor(3, Role.CITY, city_id=100)
PROVINCE = Actor(4, Role.PROVINCE)


def code_of(check, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as e:
        check(*args)
    return e.value.code


def test_require_self() -> None:
    require_self(TRAINEE, 1)
    assert code_of(require_self, TRAINEE, 99) == "forbidden.not_yours"
    assert code_of(require_self, STAFF_A, 2) == "forbidden.role"


def test_require_base() -> None:
    require_base(STAFF_A, 10)
    assert code_of(require_base, STAFF_A, 11) == "forbidden.other_base"
    assert code_of(require_base, STAFF_A, None) == "forbidden.other_base"
    for other in (TRAINEE, CITY_GZ, PROVINCE):
        assert code_of(require_base, other, 10) == "forbidden.role"


def test_require_city_or_province() -> None:
    require_city_or_province(CITY_GZ, 100)
    require_city_or_province(PROVINCE, 100)
    require_city_or_province(PROVINCE, 200)
    assert code_of(require_city_or_province, CITY_GZ, 200) == "forbidden.other_city"
    for other in (TRAINEE, STAFF_A):
        assert code_of(require_city_or_province, other, 100) == "forbidden.role"


@pytest.mark.parametrize(
    ("supervisor", "allowed", "refused"),
    [
        ("city", [CITY_GZ], [PROVINCE, Actor(5, Role.CITY, city_id=200), STAFF_A, TRAINEE]),
        ("province", [PROVINCE], [CITY_GZ, STAFF_A, TRAINEE]),
    ],
)
def test_require_supervisor(supervisor: str, allowed: list[Actor], refused: list[Actor]) -> None:
    for actor in allowed:
        require_supervisor(actor, supervisor, 100)
    for actor in refused:
        assert code_of(require_supervisor, actor, supervisor, 100) == "forbidden.not_supervisor"


def test_sees_base() -> None:
    assert sees_base(PROVINCE, 10, 100)
    assert sees_base(CITY_GZ, 10, 100) and not sees_base(CITY_GZ, 10, 200)
    assert sees_base(STAFF_A, 10, 100) and not sees_base(STAFF_A, 11, 100)
    assert not sees_base(TRAINEE, 10, 100)
