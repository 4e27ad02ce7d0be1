"""A realistic data set to try the bot with, loaded through the importer (`zhupei demo-data`).

- the 21 prefecture-level cities of Guangdong (4401 广州市 … 4453 云浮市);
- 39 national residency-training bases (国家住培基地) in 19 of them, 17 supervised by the province
  and 22 by their city, with 45 local bases: each hospital itself, and six collaborating sites
  (one of them, 广东省人民医院珠海医院, in another city than its national base);
- the 35 residency specialties with their national codes (0100 内科 … 3400 口腔颌面影像科, and
  3500 重症医学科) and the assistant-GP program's 助理全科 (local code A0700);
- one batch per program, open now: the application period started three days ago and closes in
  two weeks; the confirmation period follows a week later; 12-hour lock (dates are computed at
  load time, so the batches are open whenever the demo is loaded);
- plans for every national base in the specialties it trains (all of them at the big general
  hospitals, the core ones at city hospitals, their own field at specialist hospitals), and
  助理全科 places at the city hospitals outside Guangzhou and Shenzhen: 710 plans, 3320 places;
- three staff accounts, each with a one-time invitation: base staff of 广州市红十字会医院
  (the guide's example, supervised by its city), the 广州市 reviewer and the province.

Loading again changes nothing that is there (the importer updates by code) and issues fresh
invitations for the same three accounts.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from reference.importer import ImportResult, Kind, Table, import_table, read_file
from storage.models import Account, Base, City
from workflow import accounts
from workflow.context import Ctx
from workflow.enums import Program, Role

DATA_DIR = Path(__file__).with_name("data")
SHANGHAI = ZoneInfo("Asia/Shanghai")

CITIES = 21
NATIONAL_BASES = 39
LOCAL_BASES = 45
SPECIALTIES = 36
BATCHES = 2
PLANS = 710
INVITATIONS = 3

DEMO_BASE = "GD440111"  # 广州市红十字会医院
DEMO_CITY = "4401"  # 广州市
STAFF: tuple[tuple[Role, str], ...] = (
    (Role.BASE, "演示基地管理员（广州市红十字会医院）"),
    (Role.CITY, "演示广州市卫健委审核员"),
    (Role.PROVINCE, "演示广东省卫健委管理员"),
)

GP_TYPES = "面向社会招收住院医师，本单位住院医师，外单位委托培养住院医师，委派人员，帮扶人员"
ALL_TYPES = GP_TYPES + "，全日制硕士专业学位研究生（并轨专硕）"
NOTES = (
    "请按照住培基地录取结果选择对应的住培基地和培训专业，拟培训专业与志愿务必一致。"
    "报名一经提交不能修改或撤回。"
    "基地发送录取结果后 12 小时内可撤销，期满后方可在学员确认周期内确认录取。"
)

# Specialties by the kind of hospital, with the planned number at a big general hospital.
WEIGHTS = {
    "0100": 24, "0200": 8, "0300": 6, "0400": 2, "0500": 3, "0600": 5, "0700": 16,
    "0800": 3, "0900": 14, "1000": 3, "1100": 3, "1200": 3, "1300": 1, "1400": 6,
    "1500": 2, "1600": 8, "1700": 3, "1800": 3, "1900": 8, "2000": 3, "2100": 3,
    "2200": 5, "2300": 4, "2400": 1, "2500": 2, "2600": 1, "2700": 2, "2800": 2,
    "3500": 4,
}  # fmt: skip
CORE = ("0100", "0200", "0300", "0600", "0700", "0900", "1400", "1600", "1800", "1900",
        "2100", "2200", "2300", "3500")  # fmt: skip
SPECIALIST = {
    "GD440112": ("0200", "1500", "1600", "1900", "2300", "2600"),  # 妇女儿童医疗中心
    "GD440113": ("2800", "2900", "3000", "3100", "3200", "3300", "3400"),  # 口腔医院
    "GD440114": ("1700",),  # 眼科中心
    "GD440115": ("0100", "0900", "2000", "2200", "2400", "2500"),  # 肿瘤防治中心
    "GD440116": ("0200", "1600", "2300", "2600"),  # 妇幼保健院
}
ASSISTANT_GP = "A0700"


@dataclass
class Invite:
    account: Account
    token: str
    expires_at: datetime


@dataclass
class DemoReport:
    imports: list[ImportResult] = field(default_factory=list)
    invites: list[Invite] = field(default_factory=list)

    @property
    def already_there(self) -> bool:
        return not any(r.created for r in self.imports)


def batch_names(year: int) -> dict[Program, str]:
    return {
        Program.RESIDENCY: f"{year}年住院医师规范化培训招收（演示批次）",
        Program.ASSISTANT_GP: f"{year}年助理全科医师规范化培训招收（演示批次）",
    }


def _wall(day: date, hour: int) -> str:
    return f"{day.isoformat()} {hour:02d}:00"


def batches_table(now: datetime) -> Table:
    """The two demo batches around `now` (whole days, so a reload the same day changes nothing)."""
    today = now.astimezone(SHANGHAI).date()
    apply_start, apply_end = today - timedelta(days=3), today + timedelta(days=14)
    confirm_start = apply_end + timedelta(days=7)
    confirm_end = confirm_start + timedelta(days=14)
    names = batch_names(today.year)
    header = ["业务入口", "批次名称", "届别", "报名开始时间", "报名结束时间", "适用于",
              "锁定时长（小时）", "学员确认开始时间", "学员确认结束时间", "招收说明"]  # fmt: skip
    rows = [
        [
            program.value,
            names[program],
            today.year,
            _wall(apply_start, 9),
            _wall(apply_end, 17),
            types,
            12,
            _wall(confirm_start, 9),
            _wall(confirm_end, 17),
            NOTES,
        ]
        for program, types in ((Program.RESIDENCY, ALL_TYPES), (Program.ASSISTANT_GP, GP_TYPES))
    ]
    return Table.from_records("demo batches", header, rows)


def _national_bases() -> Iterator[tuple[str, str, bool]]:
    """(code, city code, supervised by the province) of the national bases in bases.csv."""
    table = read_file(DATA_DIR / "bases.csv")
    for _number, (code, _name, city, parent, supervisor) in table.rows:
        if not parent:
            yield code, city, supervisor == "省"


def _planned(base: str, specialty: str, weight: int) -> int:
    # A stable spread around the weight: the same numbers on every load.
    jitter = zlib.crc32(f"{base}/{specialty}".encode()) % 5 - 2
    return max(1, weight + jitter * max(1, weight // 6))


def plans_table(now: datetime) -> Table:
    names = batch_names(now.astimezone(SHANGHAI).year)
    rows: list[list[object]] = []
    for code, city, provincial in _national_bases():
        if code in SPECIALIST:
            chosen, scale = SPECIALIST[code], 0.6
        elif provincial:
            chosen, scale = tuple(WEIGHTS), 1.0
        else:
            chosen, scale = CORE, 0.5
        for spec in chosen:
            weight = max(1, round(WEIGHTS.get(spec, 3) * scale))
            rows.append([names[Program.RESIDENCY], code, spec, _planned(code, spec, weight)])
        if not provincial and city not in {"4401", "4403"}:
            gp = _planned(code, ASSISTANT_GP, 8)
            rows.append([names[Program.ASSISTANT_GP], code, ASSISTANT_GP, gp])
    return Table.from_records(
        "demo plans", ["批次名称", "基地代码", "专业代码", "招收计划数"], rows
    )


async def _staff_account(ctx: Ctx, role: Role, name: str) -> Account | None:
    return await ctx.session.scalar(
        select(Account).where(Account.role == role, Account.display_name == name).limit(1)
    )


async def _invite_staff(ctx: Ctx, ttl: timedelta) -> list[Invite]:
    base_id = await ctx.session.scalar(select(Base.id).where(Base.code == DEMO_BASE))
    city_id = await ctx.session.scalar(select(City.id).where(City.code == DEMO_CITY))
    invites = []
    for role, name in STAFF:
        account = await _staff_account(ctx, role, name)
        if account is None:
            account, token = await accounts.invite_staff(
                ctx, role, name, base_id=base_id, city_id=city_id, ttl=ttl, created_by="demo-data"
            )
        else:
            token = await accounts.reinvite(ctx, account, ttl=ttl, created_by="demo-data")
        invites.append(Invite(account, token, ctx.now() + ttl))
    return invites


async def load(ctx: Ctx, *, ttl: timedelta = timedelta(hours=72)) -> DemoReport:
    """Import the demo data in the caller's transaction and invite the demo staff."""
    now = ctx.now()
    report = DemoReport()
    tables = [
        (Kind.CITIES, read_file(DATA_DIR / "cities.csv")),
        (Kind.BASES, read_file(DATA_DIR / "bases.csv")),
        (Kind.SPECIALTIES, read_file(DATA_DIR / "specialties.csv")),
        (Kind.BATCHES, batches_table(now)),
        (Kind.PLANS, plans_table(now)),
    ]
    for kind, table in tables:
        report.imports.append(await import_table(ctx.session, table, kind, now=now))
    report.invites = await _invite_staff(ctx, ttl)
    return report
