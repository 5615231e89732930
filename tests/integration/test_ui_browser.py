"""The web UI in headless Chromium (Debian's, via Playwright's executable_path) against the live server and real LLM."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.api_base import LiveServer, People, live, open_page

LLM_WAIT_MS = 240_000


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _page(browser: Browser, **context: Any) -> Page:
    return open_page(browser, **context)


def _rep_opportunity_with_history(srv: LiveServer, people: People) -> str:
    items = httpx.get(f"{srv.url}/api/opportunities?limit=50&owner_role=sales_rep", headers=people.headers("sales_rep")).json()["items"]
    for opp in items:
        machine = httpx.get(f"{srv.url}/api/machines/{opp['serial']}", headers=people.headers("sales_rep")).json()
        if len(machine["service_records"]) >= 3:
            return opp["id"]
    raise AssertionError("no opportunity of the rep has service history")


def test_rep_asks_why_and_opens_the_highlighted_source(browser: Browser, site: Any) -> None:
    srv, people = site
    opp_id = _rep_opportunity_with_history(srv, people)
    page = _page(browser, viewport={"width": 1280, "height": 900})
    page.goto(f"{srv.url}/ui/?token={people.tokens['sales_rep']}")
    expect(page.locator("#opportunities tbody tr").first).to_be_visible()
    assert "token=" not in page.url  # the login link's token leaves the address bar
    assert page.locator("#opportunities .badge").count() > 0 and page.locator(".prio").count() > 0

    page.goto(f"{srv.url}/ui/opportunity.html?id={opp_id}")
    expect(page.locator("#triggers .trigger").first).to_be_visible()
    page.click("#ask-form button[type=submit]")  # an empty question says what to do, it does not vanish
    expect(page.locator("#ask-error")).to_contain_text("Type a question first")
    assert page.locator(".bubble.question").count() == 0
    page.click("#why")
    expect(page.locator(".bubble.answer .draft-meta")).to_be_visible(timeout=LLM_WAIT_MS)
    audit_id = page.locator(".bubble.answer").first.get_attribute("data-audit-id")
    assert audit_id

    # a citation in a sentence: the trigger's rule, threshold and value, and its evidence with the facts highlighted
    cited = page.locator(".bubble.answer .sentence a.cite-T[data-source-id^='trigger:']")
    assert cited.count() > 0
    cited.last.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("table.cond td.threshold").first).to_be_visible()
    expect(panel.locator("table.cond td.value").first).not_to_be_empty()
    expect(panel.locator(".source-text mark").first).to_be_visible()  # the fact's values in what the model saw
    expect(panel.locator(".evidence-record .record-text").first).to_be_visible()
    page.click("#source-panel .close")

    # a service-history source: the original record with the cited span highlighted
    history = page.locator(".bubble.answer .source-list a.cite-H")
    assert history.count() > 0, "the why-draft should be given service history"
    history.first.click()
    mark = panel.locator("mark#highlight")
    expect(mark).to_be_visible()
    _assert_span(srv, people, audit_id, history.first.get_attribute("data-ref"), mark, panel, "sales_rep")
    assert page.errors == []  # type: ignore[attr-defined]
    _check_compliance_finds(browser, srv, people, audit_id, opp_id)


def _assert_span(srv: LiveServer, people: People, audit_id: str, ref: str | None, mark: Any, panel: Any, who: str) -> None:
    draft = httpx.get(f"{srv.url}/api/drafts/{audit_id}", headers=people.headers("compliance")).json()["entry"]["payload"]
    source = next(s for s in draft["sources"] if s["id"] == ref)
    record = httpx.get(f"{srv.url}/api/sources/{source['source_id'].replace('#', '%23')}", headers=people.headers(who)).json()
    start, end = source["span"]
    assert mark.text_content() == record["text"][start:end] != ""
    assert panel.locator(".record-text").text_content() == record["text"]


def _check_compliance_finds(browser: Browser, srv: LiveServer, people: People, audit_id: str, opp_id: str) -> None:
    page = _page(browser, viewport={"width": 1280, "height": 900})
    page.goto(f"{srv.url}/ui/?token={people.tokens['compliance']}")
    expect(page.locator("#drafts")).to_be_visible()
    page.fill("input[name=opportunity_id]", opp_id)
    page.select_option("select[name=kind]", "why")
    page.click("#draft-filters button[type=submit]")
    row = page.locator(f"#drafts tr[data-audit-id='{audit_id}']")
    expect(row).to_be_visible()
    row.locator("a.draft-link").click()
    expect(page.locator("#prompt-version")).to_contain_text("finding v")  # why: one finding task per history record
    expect(page.locator("#check")).to_contain_text("model sentences passed")
    assert page.locator("#sources .source").count() >= 2
    calls = httpx.get(f"{srv.url}/api/drafts/{audit_id}", headers=people.headers("compliance")).json()["entry"]["payload"]["calls"]
    assert page.locator("#tasks details.task").count() == len(calls) >= 1  # every task, not only the first prompt
    page.locator("#tasks details.task summary").last.click()
    expect(page.locator("#tasks details.task .task-prompt").last).to_contain_text(calls[-1]["messages"][-1]["content"][:40])
    expect(page.locator("#draft-head")).to_contain_text("SmolLM2")
    assert page.errors == []  # type: ignore[attr-defined]


def test_technician_briefing_on_a_phone_prints_cleanly(browser: Browser, site: Any) -> None:
    srv, people = site
    page = _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"{srv.url}/ui/?token={people.tokens['technician']}")
    expect(page.locator("#machines tbody tr").first).to_be_visible()
    serial = people.tech_serials[0]
    page.goto(f"{srv.url}/ui/briefing.html?serial={serial}")
    expect(page.locator("#brief .draft-meta")).to_be_visible(timeout=LLM_WAIT_MS)
    expect(page.locator("#brief .sec-talking_points")).to_be_visible()
    cited = page.locator("#brief .sec-history .sentence a.cite-H")
    assert cited.count() > 0, "the briefing quotes recent service records"
    cited.first.click()
    panel = page.locator("#source-panel")
    mark = panel.locator("mark#highlight")
    expect(mark).to_be_visible()
    audit_id = page.locator("#brief .draft-meta").text_content().split("audit ")[-1].strip()
    _assert_span(srv, people, audit_id, cited.first.get_attribute("data-ref"), mark, panel, "technician")
    page.click("#source-panel .close")
    assert page.locator("#signup table.signup tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling on a phone"

    page.fill("textarea[name=observed]", "Guard door switch taped over <img src=x onerror=alert(1)>")
    page.fill("textarea[name=customer_wants]", "wants the safety check from the sheet")
    page.click("#lead-form button[type=submit]")
    expect(page.locator("#lead-result .ok")).to_contain_text("Lead LD-")

    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['nav.top', '#lead', 'button'].map(
        (s) => getComputedStyle(document.querySelector(s)).display)""")
    assert hidden == ["none", "none", "none"]
    assert page.evaluate("getComputedStyle(document.querySelector('#signup')).display") != "none"
    assert page.errors == []  # type: ignore[attr-defined]

    leads = _page(browser, viewport={"width": 390, "height": 844})
    leads.goto(f"{srv.url}/ui/leads.html?token={people.tokens['technician']}")
    expect(leads.locator("#leads")).to_contain_text("<img src=x onerror=alert(1)>")
    assert leads.locator("#leads img").count() == 0  # shown as text, never as markup


def test_machine_page_plots_telemetry(browser: Browser, site: Any) -> None:
    srv, people = site
    page = _page(browser, viewport={"width": 1280, "height": 900})
    connected = [(s, t) for s in people.tech_serials
                 if (t := httpx.get(f"{srv.url}/api/machines/{s}/telemetry", headers=people.headers("technician")).json())]
    assert connected, "a technician's machine should send telemetry"
    serial, telemetry = connected[0]
    page.goto(f"{srv.url}/ui/machine.html?serial={serial}&token={people.tokens['technician']}")
    expect(page.locator("#history")).to_be_visible()
    assert page.locator("#plots svg polyline").count() == len(telemetry)
    other = page.context.new_page()
    other.goto(f"{srv.url}/ui/machine.html?serial=NO-SUCH&token={people.tokens['technician']}")
    expect(other.locator(".error")).to_contain_text("Not found")
