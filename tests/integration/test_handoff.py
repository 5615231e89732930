"""Hand-off to the CRM and talking points on the opportunity page: the API (roles, 409, audit, event, webhook delivery)
and the page in headless Chromium (draft, copy, mailto, Send to CRM, phone size); template LLM, loopback receiver."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from sdi.config import load_settings
from sdi.loop.webhooks import new_secret
from sdi.store import MachineFile
from sdi.store.events import list_events
from tests.integration.api_base import LiveServer, People, fresh_home, make_people
from tests.integration.test_ui_browser import _page  # a page that records its script errors
from tests.integration.webhook_receiver import Receiver

SECRET = new_secret()
NO_ENDPOINT = "recorded; no CRM endpoint configured — an admin sets SDI_WEBHOOK_URL"
DRAFT_WAIT_MS = 30_000


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[LiveServer, People, MachineFile, Receiver]]:
    """A live server (template LLM) whose webhook endpoint is a loopback receiver."""
    from sdi.api.app import create_app

    receiver = Receiver(SECRET)
    home = fresh_home("handoff")
    settings = load_settings(home=home, llm="template", webhook_url=receiver.url, webhook_secret=SECRET,
                             webhook_timeout=2, webhook_backoff_base=0.05, webhook_backoff_cap=0.4)
    db = MachineFile(settings.db_path)
    people = make_people(db)
    server = LiveServer(create_app(settings, db)).start()
    yield server, people, db, receiver
    server.stop()
    db.close()
    receiver.close()


def _rep_opportunities(srv: LiveServer, people: People) -> list[dict[str, Any]]:
    url = f"{srv.url}/api/opportunities?limit=100&owner_role=sales_rep"
    return httpx.get(url, headers=people.headers("sales_rep")).json()["items"]


def _post(srv: LiveServer, people: People, who: str, opp_id: str) -> httpx.Response:
    return httpx.post(f"{srv.url}/api/opportunities/{opp_id}/handoff", headers=people.headers(who))


def test_handoff_api_roles_conflict_audit_event_and_delivery(world: Any) -> None:
    srv, people, db, receiver = world
    opp_id = _rep_opportunities(srv, people)[-1]["id"]
    mark = db.child().scalar("SELECT max(id) FROM event_log")
    assert _post(srv, people, "compliance", opp_id).status_code == 403  # compliance reads, never acts
    assert _post(srv, people, "other_rep", opp_id).status_code == 404  # another territory: not even its existence
    assert _post(srv, people, "sales_rep", "OPP-nosuchthing").status_code == 404
    seen_by_tech = _technician_sees_but_does_not_own(db, people)
    assert seen_by_tech and _post(srv, people, "technician", seen_by_tech).status_code == 403  # as for status changes

    first = _post(srv, people, "sales_rep", opp_id)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["handoff"]["by"] == people.names["sales_rep"] and body["crm"] == "queued for 1 webhook endpoint(s)"
    again = _post(srv, people, "admin", opp_id)
    assert again.status_code == 409 and people.names["sales_rep"] in again.json()["detail"]
    assert again.json()["handoff"] == body["handoff"]
    detail = httpx.get(f"{srv.url}/api/opportunities/{opp_id}", headers=people.headers("sales_rep")).json()
    assert detail["handoff"] == body["handoff"]

    entry = httpx.get(f"{srv.url}/api/audit/{body['audit_id']}", headers=people.headers("compliance")).json()
    assert entry["kind"] == "handoff" and entry["payload"]["opportunity_id"] == opp_id
    events = [e for e in list_events(db.child(), mark) if e["type"] == "opportunity.handed_off"]
    assert [e["entity_id"] for e in events] == [opp_id]  # one event, none for the refused or repeated calls
    assert events[0]["payload"]["handoff"]["by"] == people.names["sales_rep"]
    delivered = _wait_for_delivery(receiver, opp_id)
    assert delivered["data"]["opportunity"]["customer_id"] and delivered["data"]["handoff"] == body["handoff"]


def _technician_sees_but_does_not_own(db: MachineFile, people: People) -> str | None:
    """An opportunity on one of the technician's machines that a sales rep owns (visible, not theirs to change)."""
    return db.child().scalar(
        "SELECT id FROM opportunities WHERE owner_role <> 'technician' AND serial IN "
        "(SELECT serial FROM user_serials WHERE name = ?) ORDER BY id LIMIT 1", [people.names["technician"]])


def _wait_for_delivery(receiver: Receiver, opp_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for hit in list(receiver.hits):
            body = json.loads(hit.body)
            if hit.answer == 200 and hit.signed_ok and body["type"] == "opportunity.handed_off":
                assert body["data"]["opportunity"]["id"] == opp_id
                return body
        time.sleep(0.05)
    raise AssertionError("the webhook deliverer did not send opportunity.handed_off")


def test_without_an_endpoint_the_answer_says_so_and_a_rerun_keeps_the_handoff() -> None:
    from sdi.api.app import create_app
    from sdi.triggers import opportunities
    from sdi.triggers.engine import detect
    from sdi.triggers.rules import load_rules

    home = fresh_home("handoff-no-endpoint")
    settings = load_settings(home=home, llm="template")
    db = MachineFile(settings.db_path)
    people = make_people(db)
    owned = db.scalar("SELECT id FROM opportunities WHERE owner_role = 'technician' AND owner = ? AND trigger_state = "
                      "'active' ORDER BY id LIMIT 1", [people.names["technician"]])
    with TestClient(create_app(settings, db)) as client:
        answer = client.post(f"/api/opportunities/{owned}/handoff", headers=people.headers("technician"))
        assert answer.status_code == 200, answer.text  # a technician hands off what they own
        assert answer.json()["crm"] == NO_ENDPOINT and answer.json()["handoff"]["endpoints"] == 0
    rules, as_of = load_rules(home), db.data_as_of()
    opportunities.sync(db, opportunities.build(db, rules, detect(db, rules, as_of)), as_of)
    kept = opportunities.handoff_of(db, owned)
    db.close()
    assert kept == answer.json()["handoff"]  # like a person's status, the hand-off survives a trigger re-run


def _draft(page: Page, channel: str = "email") -> None:
    page.select_option("#tp-channel", channel)
    page.click("#tp-draft")
    expect(page.locator("#tp-out .draft-meta")).to_be_visible(timeout=DRAFT_WAIT_MS)
    expect(page.locator("#tp-copy")).to_be_visible()


def _expected_lines(page: Page) -> list[str]:
    sentences = page.locator("#tp-out .sentence").all_text_contents()
    assert sentences and all("[T" in s or "[H" in s for s in sentences)  # shown with their citations
    return [page.evaluate("(t) => TalkingPoints.plain(t)", s) for s in sentences]


def test_talking_points_copy_mailto_and_send_to_crm_in_the_browser(browser: Browser, world: Any) -> None:
    srv, people, db, _ = world
    opp = _rep_opportunities(srv, people)[0]
    customer = httpx.get(f"{srv.url}/api/machines/{opp['serial']}", headers=people.headers("sales_rep")).json()["customer"]
    page = _page(browser, viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    page.goto(f"{srv.url}/ui/opportunity.html?id={opp['id']}&token={people.tokens['sales_rep']}")
    _draft(page)
    lines = _expected_lines(page)
    page.click("#tp-copy")
    expect(page.locator("#tp-said.ok")).to_contain_text("Copied")
    clip = page.evaluate("navigator.clipboard.readText()")
    assert clip == "\n".join(f"- {line}" for line in lines) and "[T" not in clip

    href = page.locator("#tp-mailto").get_attribute("href") or ""
    assert len(href) <= 1800
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    assert parts.scheme == "mailto" and unquote(parts.path) == customer["contact_email"]
    assert query["subject"][0].startswith(f"Your {opp['model']} {opp['serial']}")
    body = query["body"][0]
    assert body.startswith(f"Dear {customer['contact_name']},") and f"- {lines[0]}" in body and "[T" not in body

    expect(page.locator("#handoff")).to_contain_text("Not handed off")
    page.click("#handoff-btn")
    expect(page.locator("#handoff")).to_contain_text(f"Handed off to the CRM by {people.names['sales_rep']} on ")
    expect(page.locator("#handoff-btn")).to_be_hidden()
    page.reload()
    expect(page.locator("#handoff")).to_contain_text("Handed off to the CRM by")  # stored, not only on screen
    assert page.errors == []  # type: ignore[attr-defined]


def test_on_a_phone_without_a_clipboard_the_text_is_selected_and_nothing_scrolls_sideways(browser: Browser, world: Any) -> None:
    srv, people, _, _ = world
    opp = _rep_opportunities(srv, people)[1]  # not the one the desktop test hands off
    page = _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined })")  # as on http on a LAN
    page.goto(f"{srv.url}/ui/opportunity.html?id={opp['id']}&token={people.tokens['sales_rep']}")
    _draft(page)
    lines = _expected_lines(page)
    page.click("#tp-copy")
    expect(page.locator("#tp-text")).to_be_visible()
    selected = page.evaluate("(() => { const t = document.querySelector('#tp-text'); "
                             "return t.value.slice(t.selectionStart, t.selectionEnd); })()")
    assert selected == "\n".join(f"- {line}" for line in lines)
    expect(page.locator("#tp-said")).to_contain_text("Copied" if "ok" in (page.locator("#tp-said").get_attribute("class") or "")
                                                    else "selected below")
    for sel in ("#tp-draft", "#tp-copy", "#tp-mailto", "#handoff-btn"):
        box = page.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, sel
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
    long = page.evaluate("TalkingPoints.mailto('a.b@example.com', 'S', 'Hello,', Array(40).fill('x'.repeat(90)), ['R'])")
    assert len(long["url"]) <= 1800 and long["cut"] > 0 and "more point(s) cut" in unquote(long["url"])
    assert page.errors == []  # type: ignore[attr-defined]
