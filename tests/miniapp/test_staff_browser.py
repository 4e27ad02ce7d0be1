"""The staff workbench in headless Chromium on a phone-sized viewport, opened as Telegram opens
a Mini App (signed init data in the URL fragment): base staff filter the admission list, tick
20, see the 21st refused, send after the confirmation; the export downloads the filtered rows;
the numbers as a table and bars."""

from __future__ import annotations

import csv
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from storage.models import Application, Specialty
from tests import factories
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp.staff_world import BASE_A, admitted, applicants, staff_world
from tests.staff.conftest import cn
from workflow import admission
from workflow.enums import ApplicationStatus as S

PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
# The screenshots (docs/img/miniapp-staff-*.png are copies of them, shown in the README).
SHOTS = ROOT / "tests" / "artifacts" / "miniapp"
SPECIALTIES = ROOT / "reference" / "data" / "specialties.csv"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        await browser.close()


async def phone_page(browser: Browser, tmp_path: Path) -> Page:
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, locale="zh-CN", accept_downloads=True
    )
    # Offline, as in the sandbox: telegram-web-app.js is not reachable; the page does without.
    await context.route("https://telegram.org/**", lambda route: route.abort())
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def test_admission_filter_select_twenty_refuse_the_21st_and_send(
    app: BotHarness, miniapp: MiniApp, browser: Browser, tmp_path: Path
) -> None:
    sw = await staff_world(app)
    ids = await applicants(app, sw, 22, "录取")
    await admitted(app, sw.a, ids)
    (pre,) = await applicants(app, sw, 1, "预录取")  # pre-admitted: not in the admitted filter
    async with app.ctx() as ctx:
        await admission.pre_admit(ctx, sw.a, pre)
    peds = await applicants(app, sw, 1, "儿科", specialty=sw.world.pediatrics)
    await admitted(app, sw.a, peds)

    page = await phone_page(browser, tmp_path)
    await page.goto(miniapp.page("staff.html?view=adm", BASE_A))
    await expect(page.locator("body[data-ready='1']")).to_have_count(1)
    await expect(page.locator("#title")).to_have_text("工作台")
    await expect(page.locator("#scope")).to_have_text("广州市红十字会医院")
    await expect(page.locator("#page-line")).to_have_text("共 24 条 · 第 1/2 页")

    # Filter: 内科, 已录取未发送.
    await page.select_option("#f-specialty", label="0100 内科")
    await expect(page.locator("#page-line")).to_have_text("共 23 条 · 第 1/2 页")
    await page.select_option("#f-extra", label="已录取未发送")
    await expect(page.locator("#page-line")).to_have_text("共 22 条 · 第 1/2 页")
    # Sorted on the server: by number, descending, then back.
    await page.click("th[data-col='id']")
    await expect(page.locator("th[data-col='id']")).to_have_text("编号 ▲")
    await page.click("th[data-col='id']")
    await expect(page.locator("tbody tr").first).to_have_attribute("data-id", str(ids[-1]))
    await page.click("th[data-col='id']")
    await expect(page.locator("tbody tr").first).to_have_attribute("data-id", str(ids[0]))

    # Tick the 20 rows of the first page.
    boxes = page.locator("tbody input.pick")
    await expect(boxes).to_have_count(20)
    for i in range(20):
        await boxes.nth(i).check()
        await expect(page.locator("#sel-line")).to_have_text(f"已选择发送录取结果：{i + 1}/20")
    await expect(page.locator("#sel-send")).to_have_text("📤 发送录取结果（20/20）")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SHOTS / "staff-admission.png"))

    # The 21st, on the next page, is refused with the chat's text and stays unticked.
    await page.click("#next")
    await expect(page.locator("#page-line")).to_have_text("共 22 条 · 第 2/2 页")
    await page.locator("tbody input.pick").first.click()
    toast = page.locator("#staff-toast")
    await expect(toast).to_contain_text("每次最多只能选择 20 名学员发送录取结果")
    await expect(page.locator("tbody input.pick").first).not_to_be_checked()
    await expect(page.locator("#sel-line")).to_have_text("已选择发送录取结果：20/20")

    # Send: a confirmation first; cancelling sends nothing.
    await page.click("#sel-send")
    dialog = page.locator("#dialog")
    await expect(dialog).to_contain_text("向已选择的 20 名学员发送录取结果？")
    await page.click("#dialog-cancel")
    async with app.ctx() as ctx:
        assert (
            await ctx.session.scalar(select(Application.id).where(Application.sent_at.is_not(None)))
            is None
        )
    await page.click("#sel-send")
    await page.click("#dialog-ok")
    await expect(toast).to_have_text("📤 已向 20 名学员发送录取结果。")
    await expect(page.locator("#sel-line")).to_have_text("已选择发送录取结果：0/20")
    await expect(page.locator("#page-line")).to_have_text("共 2 条 · 第 1/1 页")

    async with app.ctx() as ctx:
        rows = (await ctx.session.scalars(select(Application).where(Application.id.in_(ids)))).all()
    sent = sorted(r.id for r in rows if r.status == S.SENT)
    assert sent == ids[:20]


async def test_export_downloads_the_filtered_rows_and_numbers_show_as_bars(
    app: BotHarness, miniapp: MiniApp, browser: Browser, tmp_path: Path
) -> None:
    sw = await staff_world(app)
    await applicants(app, sw, 3, "内科")
    await applicants(app, sw, 2, "儿科", specialty=sw.world.pediatrics)
    await applicants(app, sw, 1, "深圳", base=sw.world.base_b)

    page = await phone_page(browser, tmp_path)
    await page.goto(miniapp.page("staff.html", BASE_A))
    await expect(page.locator("#page-line")).to_have_text("共 5 条 · 第 1/1 页")
    await page.select_option("#f-specialty", label="0200 儿科")
    await expect(page.locator("#page-line")).to_have_text("共 2 条 · 第 1/1 页")
    async with page.expect_download() as info:
        await page.click("#export")
    download = await info.value
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    assert target.suffix == ".xlsx"
    sheet = load_workbook(target).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    assert sorted(r["姓名"] for r in rows) == ["儿科零一", "儿科零零"]
    assert {r["培训专业"] for r in rows} == {"儿科"}
    await expect(page.locator("#staff-toast")).to_contain_text("已导出 2 条记录")

    # The numbers: one row per specialty, a bar each, largest first.
    await page.click("#tabs button[data-view='stats']")
    await expect(page.locator("#stats-table tbody tr")).to_have_count(2)
    await expect(page.locator("#stats-table tfoot")).to_contain_text("合计")
    labels = page.locator("#chart .bar-row .bar-label span:first-child")
    await expect(labels).to_have_text(["内科", "儿科"])


async def test_numbers_stay_legible_for_the_36_specialties(
    app: BotHarness, miniapp: MiniApp, browser: Browser, tmp_path: Path
) -> None:
    sw = await staff_world(app)
    w = sw.world
    specs = {"0100": w.internal, "0200": w.pediatrics}
    with SPECIALTIES.open(encoding="utf-8") as fh:
        listed = [row for row in csv.DictReader(fh)]
    async with app.ctx() as ctx:
        for i, row in enumerate(listed):
            if row["专业代码"] not in specs:
                spec = Specialty(code=row["专业代码"], name=row["专业名称"])
                specs[row["专业代码"]] = await factories.add(ctx, spec)
                await factories.make_plan(ctx, w.batch, w.base_a, specs[row["专业代码"]], 2 + i % 5)
    # Applicants in a few specialties, as many as the index says.
    wanted = {"0300": 4, "0700": 3, "0100": 2, "1700": 1}
    for code, n in wanted.items():
        await applicants(app, sw, n, f"统计{cn(int(code[:2]))}", specialty=specs[code])

    page = await phone_page(browser, tmp_path)
    await page.goto(miniapp.page("staff.html", BASE_A))
    await page.click("#tabs button[data-view='stats']")
    rows = page.locator("#chart .bar-row")
    await expect(rows).to_have_count(len(listed))
    await expect(page.locator("#stats-table tbody tr")).to_have_count(len(listed))
    names = {code: spec.name for code, spec in specs.items()}
    first = page.locator("#chart .bar-row .bar-label span:first-child")
    await expect(first.nth(0)).to_have_text(names["0300"])
    await expect(first.nth(1)).to_have_text(names["0700"])
    await expect(first.nth(2)).to_have_text(names["0100"])
    await expect(first.nth(3)).to_have_text(names["1700"])
    # Every label on its own line, over a bar as wide as the page allows.
    box = await page.locator("#chart").bounding_box()
    assert box is not None and box["width"] > 0.8 * PHONE["width"]
    heights = [await rows.nth(i).evaluate("n => n.getBoundingClientRect().height") for i in (0, 35)]
    assert all(h >= 28 for h in heights)
    await page.evaluate(
        "window.scrollTo(0, document.getElementById('chart-caption').offsetTop - 60)"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "staff-numbers.png"))
