"""The admin's day in headless Chromium: data health on the status page, an uploaded export imported with progress,
its counts and rejected rows, the import history, and an admin who cannot remove their own account."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from sdi.llm.catalog import BY_NAME, BUNDLED
from tests.integration.api_base import LiveServer, People, live
from tests.integration.conftest import DESKTOP, PHONE

# Modelled on the messy-ingest tests: a good row, an impossible date, an unknown machine, another good row.
RECORDS = ("machine,when,note,cost\n"
           "{s},2024-01-05,Replaced hydraulic hose after leak,120.5\n"
           "{s},31.02.2024,bad day,\n"
           "NO-SUCH-SERIAL-1,2024-03-05,chk oil,\n"
           "{s},2024-05-02,Filter changed,80\n")
MAPPING = """files:
  - path: records.csv
    entity: service_record
    columns: {serial: machine, date: when, text: note, cost: cost}
"""


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _quiet_serial(srv: LiveServer, people: People) -> str:
    """A machine no other test's user looks at (outside both reps' territories and the technicians' machines)."""
    items = httpx.get(f"{srv.url}/api/machines?sort=serial&limit=200", headers=people.headers("admin"), timeout=30).json()["items"]
    busy = set(people.tech_serials)
    for m in items:
        if m.get("territory") not in (people.rep_territory, people.other_territory) and m["serial"] not in busy:
            return str(m["serial"])
    raise AssertionError("no machine outside the test users' scopes")


def _page(browser: Browser, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport, locale="en-GB").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def test_admin_checks_health_loads_an_export_and_cannot_remove_themself(
    browser: Browser, site: Any, tmp_path: Path, screenshot: Callable[[Page, str], Path],
) -> None:
    srv, people = site
    admin = people.headers("admin")
    started = time.monotonic()
    status = httpx.get(f"{srv.url}/api/admin/status", headers=admin, timeout=30).json()
    index, triggers = status["index"], status["triggers"]
    assert 0 < index["records_indexed"] < index["records_to_index"]  # the test index covers part of the base
    assert triggers and triggers["machines"] > 0 and triggers["when"]

    # The admin's login link lands on data health: model name and hash, index progress, last trigger run.
    page = _page(browser, DESKTOP)
    page.goto(f"{srv.url}/ui/?token={people.tokens['admin']}")
    page.wait_for_url(re.compile(r"/ui/status\.html"))
    entry = BY_NAME[BUNDLED]
    expect(page.locator("#model-name")).to_have_text(entry.name)
    expect(page.locator("#model-sha256")).to_have_text(entry.sha256)
    expect(page.locator("#model-size")).to_contain_text(f"{entry.size / 2**20:,.1f} MB")
    expect(page.locator("#index-summary")).to_contain_text(
        f"{index['records_indexed']:,} of {index['records_to_index']:,} service records indexed")
    expect(page.locator("#index progress")).to_have_attribute("value", str(index["records_indexed"]))
    expect(page.locator("#trigger-machines")).to_have_text(f"{triggers['machines']:,}")
    as_of = page.locator("#trigger-as-of").inner_text()
    assert triggers["as_of"][:4] in as_of and triggers["as_of"] not in as_of  # a date a person reads, not ISO
    expect(page.locator("#schema-version")).to_have_text(str(status["machine_file"]["schema_version"]))
    screenshot(page, "status")

    # Data loads: a mapping without its export is refused in the page; then an export with bad rows and its mapping.
    serial = _quiet_serial(srv, people)
    (tmp_path / "records.csv").write_text(RECORDS.format(s=serial), encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    page.click("nav.top a[href='dataload.html']")
    expect(page.locator("#mapping-select option", has_text="demo data")).to_have_count(1)  # the server's own mapping
    page.set_input_files("#upload-files", [str(tmp_path / "records.csv")])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#upload-msg .error")).to_contain_text("exactly one mapping file")
    page.set_input_files("#upload-files", [str(tmp_path / "records.csv"), str(tmp_path / "mapping.yaml")])
    page.uncheck("#upload-triggers")  # the shared test base keeps its opportunities for the other tests
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#job-result")).to_contain_text("finished: 2 rows stored, 2 rejected", timeout=60_000)
    expect(page.locator("#job-phase")).to_have_text("Finished")
    expect(page.locator("#job-progress")).to_have_attribute("value", "1")
    expect(page.locator("#job-counts")).to_contain_text("1 of 1 files · 4 rows read, 2 stored, 2 rejected")

    # The import's counts per file and its rejected rows with line and reason.
    cells = page.locator("#run-files tbody tr").first.locator("td")
    assert [cells.nth(i).inner_text() for i in range(6)] == ["records.csv", "service_record", "4", "2", "2", "0"]
    rejected = page.locator("#rejections-table tbody tr")
    expect(rejected).to_have_count(2)
    assert rejected.nth(0).locator("td.line").inner_text() == "3"
    assert "'31.02.2024'" in rejected.nth(0).locator("td.reason").inner_text()
    assert rejected.nth(1).locator("td.line").inner_text() == "4"
    assert "unknown machine serial 'NO-SUCH-SERIAL-1'" in rejected.nth(1).locator("td.reason").inner_text()
    run_id = page.locator("#run").get_attribute("data-run")
    first = page.locator("#history-table tbody tr").first
    assert first.get_attribute("data-run") == run_id
    expect(first).to_contain_text("mapping.yaml")
    expect(first.locator(".run-state")).to_have_text("done")
    machine = httpx.get(f"{srv.url}/api/machines/{serial}", headers=admin, timeout=30).json()
    assert "Replaced hydraulic hose after leak" in [r.get("text") for r in machine["service_records"]]
    screenshot(page, "dataload")

    # On a phone the import's detail reads as cards, nothing wider than the screen.
    phone = _page(browser, PHONE)
    phone.goto(f"{srv.url}/ui/dataload.html?run={run_id}&token={people.tokens['admin']}")
    expect(phone.locator("#rejections-table tbody tr")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "dataload-phone")

    # The admin cannot remove their own account: the button is off with the reason, and the API refuses with a message.
    me = people.names["admin"]
    page.click("nav.top a[href='admin.html']")
    row = page.locator(f"#users tr[data-user='{me}']")
    expect(row.locator("button")).to_be_disabled()
    expect(row.locator(".remove-why")).to_contain_text("your own account")
    refused = httpx.delete(f"{srv.url}/api/users/{me}", headers=admin, timeout=30)
    assert refused.status_code == 409 and "your own account" in refused.json()["detail"]
    assert httpx.get(f"{srv.url}/api/me", headers=admin, timeout=30).status_code == 200

    # Back on status: the last import is the upload.
    page.click("nav.top a[href='status.html']")
    expect(page.locator("#import-rejected")).to_have_text("2")
    expect(page.locator("#import-files")).to_have_text("1")
    assert page.errors == [] and phone.errors == []  # type: ignore[attr-defined]
    print(f"admin journey: {time.monotonic() - started:.1f} s")
