"""Compliance in the browser: drafts to review, the whole audit trail with filters, chain verification, bundle export."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from sdi.audit.bundle import verify_bundle
from sdi.audit.log import AuditLog
from sdi.store import MachineFile
from tests.integration.api_base import LiveServer, People, fresh_home, live, make_people, settings_for, open_page


@pytest.fixture(scope="module")
def private() -> Iterator[tuple[TestClient, People, Path]]:
    """A private copy with the template drafter: real draft entries in a second or two, and a log to tamper with."""
    from sdi.api.app import create_app

    home = fresh_home("compliance")
    settings = settings_for(home, llm="template")
    db = MachineFile(settings.db_path)
    people = make_people(db)
    with TestClient(create_app(settings, db)) as client:
        yield client, people, home
    db.close()


@pytest.fixture(scope="module")
def made(private: tuple[TestClient, People, Path]) -> list[dict[str, Any]]:
    """Two real why-drafts in the private copy's log; their payloads."""
    client, people, _ = private
    opps = client.get("/api/opportunities?limit=10", headers=people.headers("sales_rep")).json()["items"][:2]
    for opp in opps:
        r = client.post(f"/api/opportunities/{opp['id']}/why", headers=people.headers("sales_rep"))
        assert r.status_code == 200, r.text
    return [e["payload"] for e in client.get("/api/audit?kind=draft", headers=people.headers("compliance")).json()["items"]]


@pytest.fixture(scope="module")
def site(made: list[dict[str, Any]]) -> tuple[LiveServer, People, Path, list[str], list[dict[str, Any]]]:
    """The live server with two real drafts in its log (made by the template drafter, recorded as the rep's)."""
    srv, people, home = live()
    log = AuditLog(home)
    ids = [log.append("draft", payload, people.names["sales_rep"])["id"] for payload in made]
    return srv, people, home, ids, made


def _settled(page: Page) -> Any:
    """The audit list once its latest load has drawn (it is aria-busy while it fetches)."""
    expect(page.locator("#audit-list[aria-busy=false]")).to_be_visible()
    return page.locator("#audit-entries .audit-entry")


def _page(browser: Browser, **context: Any) -> Page:
    return open_page(browser, accept_downloads=True, **context)


def test_compliance_reviews_drafts_reads_the_trail_verifies_and_exports(browser: Browser, site: Any, tmp_path: Path,
                                                                         screenshot: Any) -> None:
    srv, people, home, drafts, made = site
    rep, tech, officer = (people.names[k] for k in ("sales_rep", "technician", "compliance"))
    api = lambda who: httpx.Client(base_url=srv.url, headers=people.headers(who), timeout=60)  # noqa: E731
    # human actions through the API: a rep's status change and a technician's lead
    opp = api("sales_rep").get("/api/opportunities?limit=1").json()["items"][0]
    assert api("sales_rep").post(f"/api/opportunities/{opp['id']}/status", json={"status": "in_progress", "note": "called"}).status_code == 200
    serial = people.tech_serials[0]
    assert api("technician").post("/api/leads", json={"serial": serial, "observed": "gearbox whines"}).status_code == 201
    before = {e["id"]: e["hash"] for e in AuditLog(home).list("draft")}

    # compliance lands on the drafts not yet reviewed, newest first
    page = _page(browser, viewport={"width": 1366, "height": 900})
    page.goto(f"{srv.url}/ui/?token={people.tokens['compliance']}")
    expect(page.locator("#drafts")).to_be_visible()
    assert page.url.split("?")[0].endswith("/ui/drafts.html") and page.locator("select[name=reviewed]").input_value() == "no"
    rows = page.locator("#drafts tbody tr")
    assert rows.first.get_attribute("data-audit-id") == drafts[-1]  # newest first
    first = page.locator(f"#drafts tr[data-audit-id='{drafts[0]}']")
    expect(first.locator("td.check")).to_contain_text("passed")
    expect(first).to_contain_text(rep)
    assert "T" not in first.locator(".when").text_content()  # a localised time, not an ISO stamp
    count = int(page.locator("#drafts-count").text_content().split()[0].replace(",", ""))
    first.locator("button.mark-reviewed").click()
    expect(page.locator("#review-status")).to_contain_text(f"Draft {drafts[0]} marked reviewed")
    expect(first).to_have_count(0)  # it leaves the default list
    expect(page.locator("#drafts-count")).to_contain_text(f"{count - 1:,} draft")
    unreviewed = httpx.get(f"{srv.url}/api/drafts?reviewed=no&limit=500", headers=people.headers("compliance")).json()["items"]
    assert drafts[0] not in {d["audit_id"] for d in unreviewed} and drafts[1] in {d["audit_id"] for d in unreviewed}
    review = AuditLog(home).list("draft_review", 1)[0]
    assert review["user"] == officer and review["payload"]["draft"] == drafts[0]
    assert review["payload"]["draft_hash"] == before[drafts[0]]
    assert {e["id"]: e["hash"] for e in AuditLog(home).list("draft")} == before  # the draft's own entry is untouched
    page.select_option("select[name=reviewed]", "all")
    expect(first.locator(".reviewed")).to_contain_text(f"Reviewed by {officer}")

    # the whole trail: filter by kind, then by user; the filters stay in the address bar
    page.goto(f"{srv.url}/ui/audit.html")
    entries = _settled(page)
    assert {"draft", "draft_review", "status", "lead"} <= {entries.nth(i).get_attribute("data-kind") for i in range(entries.count())}
    page.select_option("select[name=kind]", "status")
    expect(page).to_have_url(re.compile(r"[?&]kind=status"))
    _settled(page)
    assert {entries.nth(i).get_attribute("data-kind") for i in range(entries.count())} == {"status"}
    mine = page.locator(f"#audit-entries .audit-entry:has-text('{opp['id']}')").first
    mine.locator("summary").click()
    expect(mine.locator("dl.kv")).to_contain_text("in_progress")  # the payload as key and value
    expect(mine.locator("dl.kv dt", has_text="note")).to_be_visible()
    screenshot(page, "audit-status-open")
    page.select_option("select[name=kind]", "")
    page.select_option("select[name=user]", tech)
    expect(page).to_have_url(re.compile(r"\?user=[^&]+$"))
    _settled(page)
    users = {entries.nth(i).locator(".entry-user").text_content() for i in range(entries.count())}
    assert users == {tech}
    page.fill("input[name=serial]", serial)
    page.click("#audit-filters button[type=submit]")
    _settled(page)
    assert entries.count() >= 1 and page.locator("#audit-entries .audit-entry[data-kind=lead]").first.text_content().count("gearbox whines")
    page.reload()  # the address bar holds the filters
    expect(page.locator("select[name=user]")).to_have_value(tech)
    expect(page.locator("input[name=serial]")).to_have_value(serial)
    page.goto(f"{srv.url}/ui/audit.html?kind=draft")
    _settled(page)
    draft_entry = page.locator(f"#audit-entries .audit-entry[data-id='{drafts[1]}']")
    draft_entry.locator("summary").click()
    draft_entry.locator("a.draft-link").click()
    expect(page.locator("#title")).to_contain_text(drafts[1])
    expect(page.locator("#review .reviews")).to_contain_text("Not yet reviewed")
    page.fill("#review-note", "sources match the records")  # a review with a note, from the draft's record
    page.click("#review-form button[type=submit]")
    expect(page.locator("#review .reviews")).to_contain_text(f"Reviewed by {officer}")
    expect(page.locator("#review .reviews q")).to_have_text("sources match the records")
    assert AuditLog(home).list("draft_review", 1)[0]["payload"] == {
        "draft": drafts[1], "draft_hash": before[drafts[1]], "note": "sources match the records",
        "opportunity_id": made[1]["subject"]["opportunity_id"], "serial": made[1]["subject"]["serial"]}
    screenshot(page, "draft-reviewed")

    # verify the chain and export the bundle from the browser
    page.goto(f"{srv.url}/ui/audit.html")
    _settled(page)
    entries_now = AuditLog(home).head()["count"]
    page.click("#verify")
    expect(page.locator("#verify-result.ok")).to_contain_text(f"Chain intact: {entries_now:,} entries")
    screenshot(page, "audit-trail")
    with page.expect_download() as download:
        page.click("#export")
    got = download.value
    assert got.suggested_filename.startswith("sdi-audit-bundle-") and got.suggested_filename.endswith(".tar.gz")
    archive = tmp_path / got.suggested_filename
    got.save_as(archive)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    folder = next((tmp_path / "x").iterdir())
    check = verify_bundle(folder)
    assert check.ok, check.to_dict()
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["entries"] == entries_now + 1  # everything, the verification just recorded included
    logged = [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert review["id"] in {e["id"] for e in logged} and logged[-1]["kind"] == "audit_verify"
    expect(page.locator("#export-result.ok")).to_contain_text(got.suggested_filename)
    last = AuditLog(home).list(limit=1)[0]
    assert last["kind"] == "audit_export" and last["user"] == officer and last["payload"]["entries"] == entries_now + 1
    assert "null" not in page.locator("#content").text_content()
    page.select_option("select.lang", "de-DE")  # Deutsch: dates and numbers follow the header's choice
    expect(page.locator(".entry-when").first).to_have_text(re.compile(r"^\d{1,2}\. \w+\.? \d{4}, \d{2}:\d{2}$"))
    assert page.errors == []  # type: ignore[attr-defined]

    # on a phone: the drafts are cards, nothing clipped sideways
    phone = _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{srv.url}/ui/?token={people.tokens['compliance']}")
    expect(phone.locator("#drafts-count")).to_be_visible()
    phone.goto(f"{srv.url}/ui/drafts.html?reviewed=all")
    expect(phone.locator("#drafts tbody tr").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone, "drafts-phone")


def test_verify_names_a_tampered_entry_and_the_api_checks_its_input(private: tuple[TestClient, People, Path],
                                                                    made: list[dict[str, Any]]) -> None:
    client, people, home = private
    officer, rep = people.headers("compliance"), people.headers("sales_rep")
    assert client.post("/api/audit/verify", headers=rep).status_code == 403
    assert client.get("/api/audit/export", headers=rep).status_code == 403
    assert client.post("/api/drafts/A-0000001/review", headers=rep, json={}).status_code == 403
    bad = client.get("/api/audit?since=2026-13-01", headers=officer)
    assert bad.status_code == 422 and "since" in json.dumps(bad.json()["detail"])
    backwards = client.get("/api/audit?since=2026-02-01&until=2026-01-01", headers=officer)
    assert backwards.status_code == 400 and "starts after it ends" in backwards.json()["detail"]
    assert client.get("/api/audit/export?since=2099-01-01", headers=officer).status_code == 400
    assert client.post("/api/drafts/A-9999999/review", headers=officer, json={}).status_code == 404

    intact = client.post("/api/audit/verify", headers=officer).json()
    assert intact["ok"] and intact["entries"] >= 3 and intact["first_bad_entry"] is None
    # a bundle of one day verifies on its own (its first entry links to the hash the manifest records)
    day = client.get("/api/audit", headers=officer).json()["items"][0]["ts"][:10]
    ranged = client.get(f"/api/audit/export?since={day}&until={day}", headers=officer)
    assert ranged.status_code == 200 and ranged.headers["content-disposition"].endswith('.tar.gz"')
    with tarfile.open(fileobj=io.BytesIO(ranged.content)) as tar:
        tar.extractall(home / "ranged", filter="data")
    bundle = next((home / "ranged").iterdir())
    check = verify_bundle(bundle)
    assert check.ok and "a date range" in check.chain.note, check.to_dict()

    path = home / "audit" / "audit.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    victim = json.loads(lines[1])
    victim["payload"]["tampered"] = True  # edit one row of the store, keeping its recorded hash
    lines[1] = json.dumps(victim) + "\n"
    path.write_text("".join(lines))
    broken = client.post("/api/audit/verify", headers=officer).json()
    assert not broken["ok"] and broken["first_bad_entry"] == victim["id"] and "altered" in broken["message"]
    assert broken["entries"] == 2
