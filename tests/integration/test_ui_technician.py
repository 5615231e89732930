"""The technician's day on a 390 px phone, in headless Chromium against the live server: My machines ordered by
urgency as the API orders them, a machine's telemetry charts (units, threshold lines, event and visit markers,
readable labels, no sideways scroll), and two leads from the briefing's form whose routing reason is shown."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.api_base import LiveServer, People, live
from tests.integration.conftest import PHONE

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CHEAP, DEAR = "OF-113", "OF-111"  # demo offers: emergency call 650 EUR (under the 1,500 EUR limit), extended warranty 2,400 EUR


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _get(srv: LiveServer, people: People, path: str, who: str = "technician") -> Any:
    r = httpx.get(f"{srv.url}{path}", headers=people.headers(who), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _my_machines(page: Page, srv: LiveServer, people: People, screenshot: Any) -> list[dict[str, Any]]:
    """The list is the API's urgency order: open opportunities by priority first, the reason in words, dates localised."""
    page.goto(f"{srv.url}/ui/machines.html?token={people.tokens['technician']}")
    expect(page.locator("#title")).to_have_text("My machines")
    rows = page.locator("#machines tbody tr")
    expect(rows.first).to_be_visible()
    api = _get(srv, people, "/api/machines?limit=100")
    assert api["sort"] == "urgency"
    shown = rows.evaluate_all("rs => rs.map(r => [r.dataset.serial, r.dataset.priority])")
    assert [s for s, _ in shown] == [m["serial"] for m in api["items"]]
    first = api["items"][0]
    assert first["top_opportunity"] and shown[0][1], "the first machine has an open opportunity"
    with_opp = [m["top_opportunity"]["priority"] for m in api["items"] if m["top_opportunity"]]
    assert with_opp == sorted(with_opp, reverse=True)
    assert all(m["top_opportunity"] for m in api["items"][:len(with_opp)]), "machines with nothing pending come after"
    why = rows.first.locator("td.why-now")
    for rule in first["top_opportunity"]["rules"]:
        expect(why).to_contain_text(page.evaluate("r => SDI.RULE_LABEL[r] || r", rule))
    if first["next_due"]:
        expect(why).to_contain_text(page.evaluate("d => SDI.fmtDate(d)", first["next_due"]["date"]))
    assert not ISO.search(page.locator("#machines").inner_text()), "raw ISO dates in the list"
    _no_sideways_scroll(page)
    screenshot(page, "1-my-machines")
    return api["items"]


def _charts(page: Page, srv: LiveServer, people: People, machines: list[dict[str, Any]], screenshot: Any) -> str:
    """Open the most urgent connected machine from the list; its charts carry units, thresholds and markers."""
    serial, mf = next((m["serial"], f) for m in machines
                      if (f := _get(srv, people, f"/api/machines/{m['serial']}"))["telemetry"]
                      and f["chart_markers"]["events"] and f["chart_markers"]["visits"])
    page.locator(f"#machines tr[data-serial='{serial}'] td a[href^='machine.html']").click()
    charts = page.locator("#plots svg.plot")
    expect(charts).to_have_count(len(mf["telemetry"]))
    vibration = next(t for t in mf["telemetry"] if t["metric"] == "vibration")
    assert vibration["unit"] == "mm/s" and [t["rule_id"] for t in vibration["thresholds"]] == ["wear"]
    chart = page.locator("svg.plot[data-metric='vibration']")
    expect(chart.locator(".plot-title")).to_have_text("Vibration (mm/s)")
    line = chart.locator(".threshold.rule-wear")
    expect(line).to_have_attribute("data-value", str(vibration["thresholds"][0]["value"]))
    assert line.locator("line").evaluate("l => getComputedStyle(l).strokeDasharray") not in ("", "none")
    expect(line.locator("text")).to_contain_text("mm/s")
    hours = page.locator("svg.plot[data-metric='operating_hours']")
    expect(hours.locator(".plot-title")).to_have_text("Operating hours (h)")
    expect(hours.locator(".threshold.rule-maintenance_due text")).to_contain_text("maintenance due at")
    marks = mf["chart_markers"]
    expect(chart.locator(".marker.event")).to_have_count(len(marks["events"]))
    expect(chart.locator(".marker.visit")).to_have_count(len(marks["visits"]))
    assert page.evaluate("d => SDI.fmtDate(d)", marks["visits"][0]["date"]) in chart.locator(".marker.visit title").first.text_content()
    expect(page.locator(".plot-legend").first).to_contain_text("service visits")
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.plot')].flatMap(s => {
        const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
        return [...s.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale); }))""")
    assert smallest >= 11, f"chart labels are {smallest:.1f} px on a phone"
    axis = chart.locator("g.grid text").all_text_contents()
    assert axis and not any(ISO.search(t) for t in axis)
    if mf["dues"]:
        expect(page.locator("#next-due")).to_contain_text(page.evaluate("d => SDI.fmtDate(d)", mf["dues"][0]["date"]))
    expect(page.locator("#history")).to_be_visible()
    _no_sideways_scroll(page)
    screenshot(page, "2-machine-charts")
    return serial


def _report(page: Page, offer: str) -> str:
    """Send a lead from the briefing's form with an offer of the sign-up sheet; the result text."""
    page.locator("#lead-form textarea[name=observed]").fill(f"hydraulic hose weeping at cylinder 2 ({offer})")
    page.locator("#lead-form select[name=offer_id]").select_option(offer)
    page.locator("#lead-form button[type=submit]").click()
    result = page.locator("#lead-result .ok")
    expect(result).to_be_visible()
    return result.inner_text()


def _leads(page: Page, srv: LiveServer, people: People, serial: str, screenshot: Any) -> None:
    """Over the limit goes to someone who sees the machine, under it stays with the technician: both say why."""
    offers = {o: _get(srv, people, f"/api/sources/service_offer:{o}", "admin")["record"] for o in (CHEAP, DEAR)}
    assert offers[CHEAP]["price"] < 1500 <= offers[DEAR]["price"]
    # the briefing's model draft is not what this test is about: its stream is cut, and the sheet's offers are
    # put into the form's list as the drafted sheet would (offer id and name, nothing else is sent)
    page.route("**/api/briefings/*/stream", lambda route: route.abort())
    page.goto(f"{srv.url}/ui/briefing.html?serial={serial}")
    expect(page.locator("#lead-form")).to_be_visible()
    page.evaluate("""(offers) => { const s = document.querySelector('#lead-form select[name=offer_id]');
        for (const o of offers) s.append(new Option(`${o.name} (${SDI.money(o.price, o.currency)})`, o.offer_id)); }""",
                  list(offers.values()))
    reported = {}
    for offer in (DEAR, CHEAP):
        text = _report(page, offer)
        lead_id = re.search(r"Lead (LD-\d+)", text).group(1)
        reported[offer] = _get(srv, people, f"/api/leads/{lead_id}")
        assert reported[offer]["routing_reason"] in text
    dear, cheap = reported[DEAR], reported[CHEAP]
    assert dear["routing_reason"].startswith("2,400 EUR is over the 1,500 EUR limit")
    if dear["owner_role"] == "sales_rep":  # never someone who cannot see it: a rep of the customer's territory
        territory = _get(srv, people, f"/api/machines/{serial}", "admin")["customer"]["territory"]
        reps = {u["name"]: u["territory"] for u in _get(srv, people, "/api/users", "admin") if u["role"] == "sales_rep"}
        assert reps.get(dear["owner"]) == territory
    else:
        assert (dear["owner_role"], dear["owner"]) == ("admin", "admins") and "routed to the admins" in dear["routing_reason"]
    name = people.names["technician"]
    assert (cheap["owner_role"], cheap["owner"]) == ("technician", name)
    assert cheap["routing_reason"] == f"650 EUR is under the 1,500 EUR limit, so it stays with {name}, the technician who reported it"
    _no_sideways_scroll(page)
    screenshot(page, "3-lead-routed")

    page.goto(f"{srv.url}/ui/leads.html")
    for lead in (dear, cheap):
        row = page.locator(f"#leads tr[data-id='{lead['id']}']")
        expect(row.locator(".routing-reason")).to_have_text(lead["routing_reason"])
    assert not ISO.search(page.locator("#leads").inner_text())
    _no_sideways_scroll(page)
    screenshot(page, "4-leads")


def test_technicians_day_on_a_phone(browser: Browser, site: Any, screenshot: Any) -> None:
    srv, people = site
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    machines = _my_machines(page, srv, people, screenshot)
    serial = _charts(page, srv, people, machines, screenshot)
    _leads(page, srv, people, serial, screenshot)
    assert errors == []
    context.close()
