"""The admin's view of webhooks (issue 13): endpoint state and counts, the delivery log, replay and re-enable from
the app — API and page in headless Chromium, against a real loopback receiver."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sdi.access.users import add_user
from sdi.loop.webhooks import deliver
from sdi.store import MachineFile
from sdi.store.events import record
from tests.integration.test_webhooks import _settings as _webhook_settings
from tests.integration.test_webhooks import receiver  # noqa: F401 (the loopback receiver fixture)
from tests.integration.webhook_receiver import Receiver


def _settings(home: Path, url: str) -> Any:
    return _webhook_settings(home, url, llm="template")


def test_status_replay_and_enable_through_the_api(tmp_path: Path, receiver: Receiver) -> None:
    from sdi.api.app import create_app

    settings = _settings(tmp_path, receiver.url)
    receiver.plan = deque(["410"])
    with MachineFile(settings.db_path) as db:
        deliver(db, settings)
        record(db, [("opportunity.updated", f"OPP-{i}", {"n": i}) for i in range(3)])
        deliver(db, settings, wait=2)  # the receiver answers 410: the endpoint is disabled
        _, admin = add_user(db, "Ada", "admin")
        _, rep = add_user(db, "Rita", "sales_rep", territory="DE-North")
        client = TestClient(create_app(settings, db))  # no lifespan: the background deliverer stays off, the test delivers by hand
        auth = {"Authorization": f"Bearer {admin}"}
        report = client.get("/api/admin/webhooks", headers=auth).json()
        ep = report["endpoints"][0]
        assert ep["url"] == receiver.url and ep["state"] == "disabled" and report["events"] == 3
        assert 410 in [d["status_code"] for d in report["deliveries"]]
        assert client.get("/api/admin/webhooks", headers={"Authorization": f"Bearer {rep}"}).status_code == 403

        assert client.post("/api/admin/webhooks/enable", headers=auth, json={"url": receiver.url}).json()["enabled"]
        replay = client.post("/api/admin/webhooks/replay", headers=auth, json={"since": "2000-01-01"})
        assert replay.status_code == 200 and replay.json()["queued"] == 3
        unknown = client.post("/api/admin/webhooks/replay", headers=auth,
                              json={"since": "2000-01-01", "endpoint": "http://127.0.0.1:9/nope"})
        assert unknown.status_code == 400 and "no configured webhook endpoint" in unknown.text
        assert client.post("/api/admin/webhooks/replay", headers=auth, json={"since": "soon"}).status_code == 422
        deliver(db, settings, wait=5)
        after = client.get("/api/admin/webhooks", headers=auth).json()["endpoints"][0]
    assert after["state"] == "active" and after["delivered"] == 3 and len(receiver.accepted) == 3
    audit = (tmp_path / "audit").glob("*.jsonl")
    text = "".join(p.read_text(encoding="utf-8") for p in audit)
    assert '"webhooks_replay"' in text and '"webhooks_enable"' in text


def test_admin_page_shows_endpoints_and_replays(tmp_path: Path, receiver: Receiver, browser: Any) -> None:
    from playwright.sync_api import expect

    from sdi.api.app import create_app
    from tests.integration.api_base import LiveServer

    settings = _settings(tmp_path, receiver.url)
    db = MachineFile(settings.db_path)
    deliver(db, settings)
    record(db, [("opportunity.updated", "OPP-1", {"n": 1})])
    deliver(db, settings, wait=5)
    _, token = add_user(db, "Ada", "admin")
    server = LiveServer(create_app(settings, db)).start(wait_for_model=False)
    try:
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/ui/admin.html?token={token}")
        expect(page.locator("#webhook-endpoints tbody tr").first).to_contain_text(receiver.url)
        expect(page.locator("#webhook-log tbody tr").first).to_contain_text("opportunity.updated")
        page.fill("#webhooks-replay input[name=since]", "2000-01-01")
        page.click("#webhooks-replay button[type=submit]")
        expect(page.locator("#webhooks")).to_contain_text("1 deliveries queued")
        assert not errors, errors
    finally:
        server.stop()
        db.close()
