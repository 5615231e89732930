"""Accessibility and phone layout of every page, per role: axe-core (vendored) in headless Chromium, keyboard use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.integration.api_base import LiveServer, People, live
from tests.integration.conftest import DESKTOP, PHONE

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
# rows past the 20th of a list repeat the same template: axe checks 20 (a 200-row list would take seconds more)
AXE_RUN = """() => axe.run({exclude: [['tbody > tr:nth-child(n+21)']]}, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
  resultTypes: ['violations']}).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  .map((v) => ({id: v.id, impact: v.impact, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')), help: v.help})))"""
WIDEST = """() => { const out = []; const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n && out.length < 3; n = walk.nextNode()) {  // text that runs past the right edge
    const r = document.createRange(); r.selectNodeContents(n);
    if (r.getBoundingClientRect().right > innerWidth + 1 && !n.parentElement.closest('.table-wrap'))
      out.push(`${n.parentElement.tagName.toLowerCase()}.${n.parentElement.className}: ${n.textContent.slice(0, 40)}`);
  }
  return out; }"""
PENDING = """(() => { window.__sdiPending = 0; window.__sdiLastDone = 0; const real = window.fetch;
  window.fetch = (...args) => { window.__sdiPending += 1; return real(...args).finally(() => {
    window.__sdiPending -= 1; window.__sdiLastDone = performance.now(); }); }; })();"""
CLIPPED = """() => [...document.querySelectorAll('.table-wrap')].filter((w) => w.offsetParent && w.scrollWidth > w.clientWidth + 1)
  .map((w) => `${(w.querySelector('table') || w).id || 'table'} (${w.scrollWidth} px in ${w.clientWidth} px)`)"""
COMMON = ["opportunities", "opportunity", "machines", "machine", "leads", "kpis", "performance"]
GERMAN = {"technician", "compliance"}  # longer words on a phone: half the roles read the pages in German
PAGES = {  # what each role may open (sdi/access/policy.ABILITIES; the header's links)
    "sales_rep": COMMON + ["briefing"],
    "technician": COMMON + ["briefing"],
    "compliance": COMMON + ["drafts", "draft", "audit"],
    "admin": COMMON + ["briefing", "drafts", "draft", "audit", "status", "dataload", "admin"],
}


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _context(browser: Browser, locale: str = "en-GB") -> BrowserContext:
    """A browser context with axe and a count of the page's pending API calls; drafting streams refused (no LLM)."""
    # init scripts come through CDP, outside the page's CSP: the app's CSP stays as served, nothing is bypassed
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.add_init_script(path=str(AXE))
    ctx.add_init_script(script=PENDING + f"try {{ localStorage.setItem('sdi.locale', '{locale}'); }} catch (e) {{}}")
    ctx.route("**/stream", lambda route: route.abort())
    return ctx


def _targets(srv: LiveServer, people: People, role: str) -> dict[str, str]:
    """page name -> its query string for this role: an opportunity, a machine and a draft it may see."""
    get = lambda path: httpx.get(f"{srv.url}{path}", headers=people.headers(role), timeout=30).json()  # noqa: E731
    opp = get("/api/opportunities?limit=1")["items"][0]
    serial = people.tech_serials[0] if role == "technician" else get("/api/machines?limit=1")["items"][0]["serial"]
    out = {"opportunity": f"?id={opp['id']}", "machine": f"?serial={serial}", "briefing": f"?serial={serial}"}
    if "draft" in PAGES[role]:
        drafts = get("/api/drafts?limit=1")["items"]
        if drafts:
            out["draft"] = f"?id={drafts[0]['audit_id']}"
    return out


def _settle(page: Page) -> None:
    """Wait until the page has drawn itself: header there, no API call pending for 150 ms, no bare "Loading…"."""
    page.wait_for_function("""() => document.querySelector('header.site') && window.__sdiPending === 0
      && performance.now() - window.__sdiLastDone > 150
      && ![...document.querySelectorAll('#content p.muted')].some((p) => p.textContent === 'Loading…')""",
                           polling=50)


def _audit(page: Page, where: str, problems: list[str]) -> None:
    """axe at desktop width, then at phone width (no reload: the same DOM, the narrow CSS), and sideways scroll."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for v in page.evaluate(AXE_RUN):
            problems.append(f"{where} @{size['width']}: {v['impact']} {v['id']} ({v['help']}) at {v['targets']}")
    wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1] + 1:
        culprits = page.evaluate(WIDEST)
        problems.append(f"{where} @390: scrolls sideways ({wide[0]} px > {wide[1]} px): {culprits}")
    for table in page.evaluate(CLIPPED):
        problems.append(f"{where} @390: table clipped, scrolls inside its box: {table}")
    mouse_only = page.evaluate("() => [...document.querySelectorAll('tr.clickable')].filter((r) => !r.querySelector('a[href]')).length")
    if mouse_only:
        problems.append(f"{where}: {mouse_only} clickable rows without a link, so not reachable by keyboard")


def test_every_page_and_role_has_no_serious_axe_violation_and_fits_a_phone(browser: Browser, site: Any) -> None:
    srv, people = site
    problems: list[str] = []
    visited, skipped = 0, 0
    for role, pages in PAGES.items():
        targets = _targets(srv, people, role)
        ctx = _context(browser, "de-DE" if role in GERMAN else "en-GB")
        page = ctx.new_page()
        page.on("pageerror", lambda e, page=page, role=role: problems.append(
            f"{page.url.split('/ui/')[-1]} ({role}): script error {e}"))
        if role == "sales_rep":  # signed out: the sign-in page and the not-found page
            page.goto(f"{srv.url}/ui/index.html")
            expect(page.locator("#content input, #content form").first).to_be_visible()
            _audit(page, "index (signed out)", problems)
            missing = page.goto(f"{srv.url}/ui/no-such-page.html")
            if missing and "text/html" in (missing.headers.get("content-type") or ""):
                page.wait_for_load_state("networkidle")
                _audit(page, "404 (signed out)", problems)
        page.set_viewport_size(DESKTOP)
        page.goto(f"{srv.url}/ui/?token={people.tokens[role]}")
        expect(page.locator("header.site nav.top")).to_be_visible()
        for name in pages:
            if name == "draft" and name not in targets:
                skipped += 1
                continue  # no draft recorded yet in this home (the suite's earlier modules draft): nothing to open
            page.set_viewport_size(DESKTOP)
            page.goto(f"{srv.url}/ui/{name}.html{targets.get(name, '')}")
            _settle(page)
            expect(page.locator("header.site nav.top")).to_be_visible()
            _audit(page, f"{name} ({role}{', de' if role in GERMAN else ''})", problems)
            visited += 1
        ctx.close()
    assert visited == sum(map(len, PAGES.values())) - skipped
    assert problems == [], "accessibility / phone problems:\n" + "\n".join(problems)


def test_keyboard_reaches_and_opens_the_first_opportunity_and_phone_tables_are_cards(browser: Browser, site: Any) -> None:
    srv, people = site
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.goto(f"{srv.url}/ui/opportunities.html?token={people.tokens['sales_rep']}")
    first = page.locator("#opportunities tbody tr a").first
    expect(first).to_be_visible()
    href = first.get_attribute("href")
    page.keyboard.press("Tab")  # the first Tab stop is the skip link, shown while focused
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('#opportunities tbody a')"):
            break
    else:
        pytest.fail("Tab never reached an opportunity link")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == href
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/{href}")
    expect(page.locator("#content h2, #triggers").first).to_be_visible()

    # on a phone the list reads as cards: a cell carries its column's label, the header row is out of sight
    page.set_viewport_size(PHONE)
    page.goto(f"{srv.url}/ui/opportunities.html")
    cell = page.locator("#opportunities tbody tr td").nth(2)
    expect(cell).to_have_attribute("data-label", "Machine")
    assert page.evaluate("() => getComputedStyle(document.querySelector('#opportunities tbody tr')).display") == "block"
    label = page.evaluate("(td) => getComputedStyle(td, '::before').content", cell.element_handle())
    assert "Machine" in label
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    ctx.close()
    _escape_closes_the_source_panel(browser, srv, people)


def _escape_closes_the_source_panel(browser: Browser, srv: LiveServer, people: People) -> None:
    """A recorded draft's citation opens the source panel from the keyboard; Escape closes it, focus returns."""
    drafts = httpx.get(f"{srv.url}/api/drafts?limit=20", headers=people.headers("compliance"), timeout=30).json()["items"]
    if not drafts:
        return  # nothing drafted in this home yet (the suite's earlier modules draft; alone, this part has nothing to open)
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.goto(f"{srv.url}/ui/draft.html?id={drafts[0]['audit_id']}&token={people.tokens['compliance']}")
    cite = page.locator("#content a.cite").first
    expect(cite).to_be_visible()
    cite.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('cite')"), "focus should return to the citation"
    ctx.close()
