"""The sales rep's day in headless Chromium against the live server and the real model: her own opportunities first,
the team one click away, the priority and every condition in words, German formats, and an answer that streams."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.api_base import LiveServer, People, live, open_page
from tests.integration.conftest import DESKTOP, PHONE

LLM_WAIT_MS = 240_000
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+")
UNITS = re.compile(r"\d[\d,.]*\s?(days?|years?|events?|hours|months|mm/s|EUR|€)")
REASON = re.compile(r"^(High|Medium|Low) because: \S")


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _page(browser: Browser, **context: Any) -> Page:
    return open_page(browser, **{"viewport": DESKTOP, **context})


def _own_opportunity_with_history(srv: LiveServer, people: People) -> dict[str, Any]:
    """One of the rep's own opportunities whose machine has service history (so a question finds a record)."""
    me = people.names["sales_rep"]
    items = httpx.get(f"{srv.url}/api/opportunities", params={"owner": me, "limit": 50},
                      headers=people.headers("sales_rep")).json()["items"]
    for opp in items:
        machine = httpx.get(f"{srv.url}/api/machines/{opp['serial']}", headers=people.headers("sales_rep")).json()
        if len(machine["service_records"]) >= 3:
            return opp
    raise AssertionError("no opportunity of the rep has service history")


def _rows_owners(page: Page) -> list[str]:
    return page.eval_on_selector_all("#opportunities tbody tr", "rows => rows.map(r => r.dataset.owner)")


def test_rep_lands_on_her_own_list_sees_why_and_asks_with_a_streamed_answer(browser: Browser, site: Any,
                                                                            screenshot: Any) -> None:
    srv, people = site
    me = people.names["sales_rep"]
    opp = _own_opportunity_with_history(srv, people)
    page = _page(browser, locale="en-GB")

    # lands on her own opportunities, best first, each with its reasons
    page.goto(f"{srv.url}/ui/?token={people.tokens['sales_rep']}")
    expect(page.locator("#opportunities tbody tr").first).to_be_visible()
    expect(page.locator("#view-toggle button[data-view=mine]")).to_have_attribute("aria-pressed", "true")
    owners = _rows_owners(page)
    assert owners and set(owners) == {me}
    mine_total = httpx.get(f"{srv.url}/api/opportunities", params={"owner": me, "limit": 1},
                           headers=people.headers("sales_rep")).json()["total"]
    expect(page.locator("#list-summary")).to_contain_text(f"{mine_total:,} opportunities of yours")
    first = page.locator("#opportunities tbody tr").first
    assert first.locator(".prio-factors .pf").count() >= 3  # a small bar per factor
    assert REASON.match(first.locator(".prio-why").text_content() or "")
    prios = [float(t.replace(",", "")) for t in page.locator("#opportunities .prio-num").all_text_contents()]
    assert prios == sorted(prios, reverse=True)
    screenshot(page, "1-my-opportunities")

    # the team view is one click away and stays in the address bar
    page.click("#view-toggle button[data-view=team]")
    expect(page.locator("#list-summary")).to_contain_text("in your scope")
    assert "view=team" in page.url
    page.reload()
    expect(page.locator("#view-toggle button[data-view=team]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#opportunities tbody tr").first).to_be_visible()
    assert len(set(_rows_owners(page))) > 1, "the team view shows the territory's other owners too"

    # the opportunity: priority explained in full, routing in words, conditions as sentences with units
    page.goto(f"{srv.url}/ui/opportunity.html?id={opp['id']}")
    expect(page.locator("#triggers .trigger").first).to_be_visible()
    assert page.locator("#priority .pf-row").count() >= 3
    assert REASON.match(page.locator("#priority .prio-why").text_content() or "")
    expect(page.locator("#routing")).to_contain_text(me)
    sentences = page.locator("#triggers li.condition").all_text_contents()
    assert sentences and not any("→" in s or "_" in s for s in sentences), sentences
    assert any(UNITS.search(s) for s in sentences), sentences
    page.locator("#triggers details.rule-raw summary").first.click()  # the raw rule stays one click away
    expect(page.locator("#triggers details.rule-raw code").first).to_contain_text("→")
    text = page.evaluate("() => document.body.innerText")
    assert not ISO_TIMESTAMP.search(text), ISO_TIMESTAMP.search(text)
    screenshot(page, "2-opportunity")

    # an empty question says what to do; a real one streams: a sentence shows before the finished draft
    page.click("#ask-form button[type=submit]")
    expect(page.locator("#ask-error")).to_contain_text("Type a question first")
    page.evaluate("""() => {
        window.seen = {};
        new MutationObserver(() => {
            for (const [key, sel] of [["sentence", ".bubble.answer .sentence"], ["meta", ".bubble.answer .draft-meta"]]) {
                if (!window.seen[key] && document.querySelector(sel)) window.seen[key] = performance.now();
            }
        }).observe(document.body, { childList: true, subtree: true });
    }""")
    page.fill("#question", "What was repaired last?")
    page.click("#ask-form button[type=submit]")
    expect(page.locator(".bubble.question")).to_have_text("What was repaired last?")
    expect(page.locator(".bubble.answer .draft-meta")).to_be_visible(timeout=LLM_WAIT_MS)
    seen = page.evaluate("() => window.seen")
    assert seen["sentence"] < seen["meta"], seen
    assert page.locator(".bubble.answer .sentence").count() >= 1
    assert page.errors == []  # type: ignore[attr-defined]
    screenshot(page, "3-asked")

    # in German: dates and numbers as a German reader writes them
    de = _page(browser, locale="de-DE")
    de.goto(f"{srv.url}/ui/opportunity.html?id={opp['id']}&token={people.tokens['sales_rep']}")
    expect(de.locator("#priority .pf-row").first).to_be_visible()
    first_seen = de.locator("xpath=//dt[normalize-space()='First seen']/following-sibling::dd[1]").text_content() or ""
    assert re.fullmatch(r"\d{1,2}\. \S+ \d{4}", first_seen), first_seen
    points = de.locator("#priority .pf-points").all_text_contents()
    assert any("," in p for p in points) and not any("." in p for p in points), points
    assert not ISO_TIMESTAMP.search(de.evaluate("() => document.body.innerText"))
    assert de.errors == []  # type: ignore[attr-defined]
    de.set_viewport_size(PHONE)
    screenshot(de, "4-opportunity-de-phone")
    assert de.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling on a phone"
