"""What leaves the building, and the edges: the customer's sign-up sheet printed to PDF by Chromium and read back,
an out-of-scope briefing, the HTML 404 page beside the API's JSON 404, and a sign-in link whose token is refused."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.api_base import LiveServer, People, live, open_page
from tests.integration.conftest import ARTIFACTS

LLM_WAIT_MS = 240_000
TECH_HOME = re.compile(r"/ui/machines\.html")  # where a technician lands after signing in
# What the technician sees on screen but the customer must never read.
INTERNAL = [re.compile(p, re.I) for p in (
    r"\[[TH]\d+\]", r"trigger", r"citation", r"model sentence", r"\baudit\b", r"AUD-", "✦", r"answers the", r"prompt",
    r"standard activity for this model", r"service history mentions", r"talking points", r"report a lead", r"sign out",
    r"[a-z]+_[a-z_]+",  # rule ids and field names (error_pattern, maintenance_due …)
    r"error pattern", r"parts reminder", r"maintenance due", r"note lead", r"warranty → SLA")]


@pytest.fixture(scope="module")
def site() -> tuple[LiveServer, People]:
    srv, people, _ = live()
    return srv, people


def _page(browser: Browser) -> Page:
    return open_page(browser, viewport={"width": 1366, "height": 900}, locale="en-GB")


def _serial_with_open_trigger(srv: LiveServer, people: People) -> str:
    """A technician's machine with an open opportunity, so the sheet on screen carries trigger reasons and citations."""
    items = httpx.get(f"{srv.url}/api/opportunities?limit=50", headers=people.headers("technician")).json()["items"]
    mine = [o["serial"] for o in items if o["serial"] in people.tech_serials]
    return mine[0] if mine else people.tech_serials[0]


def _en_gb(d: date) -> str:
    month = "Sept" if d.month == 9 else d.strftime("%b")  # en-GB's short September
    return f"{d.day} {month} {d.year}"


def _png(pixels: Any, path: Path) -> None:
    """An RGB(A) numpy image as a PNG file (no imaging library in the test extras)."""
    height, width, channels = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colour = {3: 2, 4: 6}[channels]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def test_technician_prints_a_customer_ready_sheet_and_meets_the_edges(browser: Browser, site: Any, tmp_path: Path) -> None:
    import pypdfium2

    srv, people = site
    serial = _serial_with_open_trigger(srv, people)
    me = httpx.get(f"{srv.url}/api/me", headers=people.headers("technician")).json()
    machine = httpx.get(f"{srv.url}/api/machines/{serial}", headers=people.headers("technician")).json()
    page = _page(browser)
    page.goto(f"{srv.url}/ui/?token={people.tokens['technician']}")
    page.wait_for_url(TECH_HOME)  # the login link lands on the technician's home

    # --- the briefing on screen: internal parts are there for the technician ---
    page.goto(f"{srv.url}/ui/briefing.html?serial={serial}")
    expect(page.locator("#print")).to_be_visible(timeout=LLM_WAIT_MS)
    expect(page.locator("#brief .draft-meta")).to_contain_text("citation check")
    rows = page.locator("#signup table.signup tbody tr")
    assert rows.count() >= 1
    offers = [n.strip() for n in page.locator("#signup .offer-name").all_text_contents()]
    prices = [p.strip() for p in page.locator("#signup td.price").all_text_contents()]
    reasons = " ".join(page.locator("#signup .internal").all_text_contents())
    assert "answers the" in reasons or "standard activity" in reasons, "the technician sees why each offer is there"

    # --- printed by Chromium to PDF: the sheet alone, with company, date, customer, machine, offers, signature ---
    pdf_path = tmp_path / "signup.pdf"
    page.pdf(path=str(pdf_path), format="A4")
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    text = " ".join(" ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).split())
    assert len(pdf) == 1, f"the sheet fits on one page, got {len(pdf)}"
    today = date.today()
    for wanted in [me["company"], _en_gb(today), machine["customer"]["name"], serial, machine["machine"]["model"],
                   "Service offer", "Signature (customer)", *offers, *prices]:
        assert " ".join(wanted.split()) in text, f"{wanted!r} missing from the printed sheet: {text[:600]}"
    leaks = [m.group(0) for rx in INTERNAL for m in rx.finditer(text)]
    assert not leaks, f"internal text printed for the customer: {leaks}"
    assert "Briefing" not in text and "At a glance" not in text and "Check on site" not in text

    # page 1 as an image, for a person to look at (kept as a test artifact) and for a blank-page check
    bitmap = pdf[0].render(scale=1.5)
    pixels = bitmap.to_numpy()
    png = tmp_path / "signup-page1.png"
    _png(pixels[:, :, :3].copy() if pixels.shape[2] == 4 else pixels, png)
    (ARTIFACTS / "print").mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTIFACTS / "print" / "signup-page1.png")
    ink = pixels[:, :, :3].mean(axis=2)
    assert ink.std() > 10 and (ink < 128).mean() > 0.003, "the printed page is not blank"
    assert (ink[: ink.shape[0] // 8] < 128).mean() > 0.001, "the company heading sits at the top of the page"
    pdf.close()
    assert page.errors == []  # type: ignore[attr-defined]

    # --- a serial the technician may not see, and one that does not exist: a message, nothing to sign or print ---
    other = httpx.get(f"{srv.url}/api/machines?limit=500", headers=people.headers("admin")).json()["items"]
    hidden = next(m["serial"] for m in other if m["serial"] not in people.tech_serials)
    for missing in (hidden, "NO-SUCH-SERIAL"):
        page.goto(f"{srv.url}/ui/briefing.html?serial={missing}")
        expect(page.locator("#out-of-scope")).to_contain_text(f"Machine {missing} does not exist or is not one of your machines")
        expect(page.locator("#out-of-scope a[href='machines.html']")).to_be_visible()
        assert page.locator("#signup, #print, #brief, #lead").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]

    # --- an unknown address: the app's 404 page with a way home; API paths keep answering JSON ---
    for path in ("/no/such/page", "/ui/no-such-page.html"):
        resp = page.goto(f"{srv.url}{path}")
        assert resp is not None and resp.status == 404 and resp.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in resp.headers.get("content-security-policy", "")
        expect(page.locator("h1")).to_have_text("Page not found")
        expect(page.locator("#missing")).to_contain_text(path)
    page.click("#home")
    page.wait_for_url(TECH_HOME)  # home: the signed-in technician's machines
    for path in ("/api/nope", "/api/machines/NO-SUCH-SERIAL"):
        api = httpx.get(f"{srv.url}{path}", headers={**people.headers("technician"), "Accept": "text/html,*/*"})
        assert api.status_code == 404 and api.headers["content-type"] == "application/json" and "detail" in api.json()
    assert page.errors == []  # type: ignore[attr-defined]

    # --- a sign-in link whose token is refused: said so, the bad token dropped, and pasting a good one works ---
    fresh = _page(browser)
    fresh.goto(f"{srv.url}/ui/?token=sdi_not-a-real-token")
    expect(fresh.locator("#signin-notice")).to_contain_text("This sign-in link is not valid or has expired")
    expect(fresh.locator("#signin-notice")).to_contain_text("ask your admin for a new one")
    assert "token=" not in fresh.url and fresh.evaluate("localStorage.getItem('sdi.token')") is None
    fresh.fill("#token", people.tokens["technician"])
    fresh.click("#login button[type=submit]")
    fresh.wait_for_url(TECH_HOME)
    fresh.goto(f"{srv.url}/ui/index.html?expired=1")  # a valid stored token still goes straight home …
    fresh.wait_for_url(TECH_HOME)
    fresh.evaluate("localStorage.setItem('sdi.token', 'sdi_revoked')")
    fresh.goto(f"{srv.url}/ui/index.html?expired=1")  # … a refused one keeps the existing message
    expect(fresh.locator("#signin-notice")).to_have_text("Your token was not accepted; sign in again.")
    assert fresh.errors == []  # type: ignore[attr-defined]
