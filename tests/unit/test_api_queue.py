"""The LLM work queue and the API around it, with a fake DraftService: backpressure (429), errors, SSE framing."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from sdi.api.app import create_app
from sdi.api.queue import DraftingUnavailable, QueueFull, WorkQueue
from sdi.config import load_settings
from sdi.drafting.service import NotFound
from sdi.drafting.types import Check, Draft, Sentence, Source
from sdi.triggers.leads import create_lead
from sdi.store import MachineFile
from sdi.access.users import add_user


class FakeDrafts:
    """Same calls as DraftService; drafts are built from the opportunity id; `gate` holds the worker."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.fail: BaseException | None = None
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _draft(self, kind: str, subject: dict[str, Any]) -> Draft:
        self.gate.wait(10)
        if self.fail:
            raise self.fail
        sentences = [Sentence(f"Recommended for {subject.get('opportunity_id') or subject.get('serial')} [T1].", ["T1"], "template"),
                     Sentence("It has been running long [T1].", ["T1"], "llm")]
        return Draft(kind, subject, sentences, [Source("T1", f"opportunity:{subject.get('opportunity_id')}", "fact")],  # type: ignore[arg-type]
                     {"backend": "fake", "name": "fake"}, {"name": kind, "version": "1", "sha256": "0"}, Check(1, 1))

    def why(self, opportunity_id: str, user: str | None = None, reveal_contacts: bool = True) -> Draft:
        self.calls.append(("why", {"user": user}))
        return self._draft("why", {"opportunity_id": opportunity_id})

    def ask(self, opportunity_id: str, question: str, conversation_id: str | None = None, user: str | None = None,
            reveal_contacts: bool = True) -> Draft:
        if conversation_id == "CV-unknown":
            raise NotFound("no conversation CV-unknown")
        return self._draft("ask", {"opportunity_id": opportunity_id, "question": question, "conversation_id": "CV-1"})

    def brief(self, serial: str, user: str | None = None, reveal_contacts: bool = True) -> Draft:
        return self._draft("brief", {"serial": serial})

    def talking_points(self, opportunity_id: str, channel: str = "email", user: str | None = None,
                       reveal_contacts: bool = True) -> Draft:
        return self._draft("talking_points", {"opportunity_id": opportunity_id})

    def stream(self, kind: str, **kwargs: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        draft = {"why": self.why, "ask": self.ask, "brief": self.brief, "talking_points": self.talking_points}[kind](**kwargs)
        for s in draft.sentences:
            yield "sentence", {"text": s.text, "citations": s.citations, "origin": s.origin, "section": s.section}
        yield "draft", draft.to_dict()


def test_queue_is_bounded() -> None:
    fake = FakeDrafts()
    fake.gate.clear()
    queue = WorkQueue(lambda: fake, max_waiting=2)
    futures = [queue.submit(lambda svc: svc.why("OPP-1"))]
    time.sleep(0.2)  # the worker takes the first job and blocks on the gate
    futures += [queue.submit(lambda svc: svc.why("OPP-2")), queue.submit(lambda svc: svc.why("OPP-3"))]
    with pytest.raises(QueueFull) as full:
        queue.submit(lambda svc: svc.why("OPP-4"))
    assert full.value.retry_after >= 1
    fake.gate.set()
    assert [f.result(10).subject["opportunity_id"] for f in futures] == ["OPP-1", "OPP-2", "OPP-3"]
    assert queue.stats()["done"] == 3 and queue.waiting == 0
    queue.stop()


def test_queue_reports_a_service_that_cannot_start() -> None:
    def broken() -> Any:
        raise RuntimeError("model file missing")

    queue = WorkQueue(broken)
    queue.start()
    for _ in range(50):
        if queue.state != "starting":
            break
        time.sleep(0.05)
    assert queue.state == "unavailable" and "model file missing" in (queue.error or "")
    with pytest.raises(DraftingUnavailable):
        queue.submit(lambda svc: svc.why("x"))
    queue.stop()


@pytest.fixture()
def app_world(tmp_path: Path) -> Iterator[tuple[Any, FakeDrafts, dict[str, str], str]]:
    home = tmp_path / "home"
    db = MachineFile(home / "machine-file.duckdb")
    db.con.execute("INSERT INTO customers (customer_id, name, territory, account_manager) VALUES ('C1', 'Acme', 'North', 'Ann Rep')")
    db.con.execute("INSERT INTO machines (serial, model, customer_id) VALUES ('M1', 'TL', 'C1')")
    tech, tech_token = add_user(db, "Tom Tech", "technician", serials=["M1"])
    _, rep_token = add_user(db, "Ann Rep", "sales_rep", "North")
    lead = create_lead(db, home, tech, "M1", "worn belt", "a new belt")
    fake = FakeDrafts()
    app = create_app(load_settings(home=home, llm="template"), db, drafts=fake, queue_size=1)
    yield app, fake, {"Authorization": f"Bearer {rep_token}"}, lead["opportunity_id"]
    app.state.sdi.queue.stop()
    db.close()


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=20)


def test_json_and_sse_drafts_with_a_fake_service(app_world: Any) -> None:
    app, fake, headers, opp = app_world

    async def go() -> None:
        async with _client(app) as http:
            r = await http.post(f"/api/opportunities/{opp}/why", headers=headers)
            assert r.status_code == 200 and r.json()["subject"]["opportunity_id"] == opp
            assert fake.calls[-1] == ("why", {"user": "Ann Rep"})
            r = await http.post(f"/api/opportunities/{opp}/why/stream", headers=headers)
            assert r.headers["content-type"].startswith("text/event-stream")
            events = [line[7:] for line in r.text.splitlines() if line.startswith("event: ")]
            assert events == ["queued", "sentence", "sentence", "draft", "done"]
            r = await http.post(f"/api/opportunities/{opp}/ask/stream", headers=headers,
                                json={"question": "why?", "conversation_id": "CV-unknown"})
            assert "event: error" in r.text and '"status": 404' in r.text

    asyncio.run(go())


def test_full_queue_answers_429_with_retry_after(app_world: Any) -> None:
    app, fake, headers, opp = app_world
    fake.gate.clear()

    async def go() -> None:
        async with _client(app) as http:
            running = asyncio.create_task(http.post(f"/api/opportunities/{opp}/why", headers=headers))
            await asyncio.sleep(0.3)
            waiting = asyncio.create_task(http.post(f"/api/opportunities/{opp}/why", headers=headers))
            await asyncio.sleep(0.3)
            for path in ("why", "why/stream", "talking-points"):
                r = await http.post(f"/api/opportunities/{opp}/{path}", headers=headers, json={"channel": "email"})
                assert r.status_code == 429, path
                assert int(r.headers["retry-after"]) >= 1 and "queue is full" in r.json()["detail"]
            health = (await http.get("/health")).json()["drafting"]
            assert health["running"] and health["waiting"] == 1
            fake.gate.set()
            assert (await running).status_code == 200 and (await waiting).status_code == 200

    asyncio.run(go())


def test_a_failing_draft_is_a_clean_error(app_world: Any) -> None:
    app, fake, headers, opp = app_world
    fake.fail = RuntimeError("boom")

    async def go() -> None:
        async with _client(app) as http:
            r = await http.post(f"/api/opportunities/{opp}/why", headers=headers)
            assert r.status_code == 500 and r.json()["detail"] == "internal error; it was logged"
            r = await http.post(f"/api/opportunities/{opp}/why/stream", headers=headers)
            assert "event: error" in r.text and '"status": 500' in r.text and "boom" not in r.text
            fake.fail = None
            assert (await http.post(f"/api/opportunities/{opp}/why", headers=headers)).status_code == 200

    asyncio.run(go())
