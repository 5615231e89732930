"""SSE streaming against a real uvicorn server with the real default LLM: sentences arrive as they pass the check."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.integration.api_base import LiveServer, People, live, parse_sse


@pytest.fixture(scope="module")
def server() -> tuple[LiveServer, People, dict[str, str]]:
    srv, people, _ = live()
    opps = httpx.get(f"{srv.url}/api/opportunities?limit=5&owner_role=sales_rep", headers=people.headers("sales_rep")).json()
    assert opps["items"], "the rep needs opportunities"
    return srv, people, {"opp": opps["items"][0]["id"], "serial": opps["items"][0]["serial"]}


def _stream(url: str, headers: dict[str, str], body: Any = None) -> tuple[httpx.Response, list[tuple[float, str, Any]]]:
    """Read an SSE response frame by frame, timing each event."""
    events: list[tuple[float, str, Any]] = []
    start = time.perf_counter()
    with httpx.stream("POST", url, headers=headers, json=body or {}, timeout=300) as resp:
        name = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                events.append((time.perf_counter() - start, name, json.loads(line[6:])))
                name = None
    return resp, events


def test_why_streams_sentences_then_the_draft(server: Any) -> None:
    srv, people, ids = server
    resp, events = _stream(f"{srv.url}/api/opportunities/{ids['opp']}/why/stream", people.headers("sales_rep"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    names = [n for _, n, _ in events]
    assert names[0] == "queued" and names[-2:] == ["draft", "done"], names
    sentences = [d for _, n, d in events if n == "sentence"]
    draft = next(d for _, n, d in events if n == "draft")
    assert sentences and [s["text"] for s in sentences] == [s["text"] for s in draft["sentences"]]
    known = {s["id"] for s in draft["sources"]}
    assert all(s["citations"] and set(s["citations"]) <= known for s in draft["sentences"])
    assert draft["model"]["backend"] == "smollm2" and draft["audit_id"]
    first = next(t for t, n, _ in events if n == "sentence")
    last = next(t for t, n, _ in events if n == "draft")
    assert last - first > 0.2, "the first sentence should arrive well before the draft is finished"


def test_ask_is_multi_turn(server: Any) -> None:
    srv, people, ids = server
    url = f"{srv.url}/api/opportunities/{ids['opp']}/ask/stream"
    _, first = _stream(url, people.headers("sales_rep"), {"question": "When was the last maintenance?"})
    draft = next(d for _, n, d in first if n == "draft")
    conversation = draft["subject"]["conversation_id"]
    assert conversation
    _, second = _stream(url, people.headers("sales_rep"), {"question": "Which parts were replaced?", "conversation_id": conversation})
    follow = next(d for _, n, d in second if n == "draft")
    assert follow["subject"]["conversation_id"] == conversation and follow["kind"] == "ask"


def test_errors_arrive_as_an_error_event(server: Any) -> None:
    srv, people, ids = server
    resp, events = _stream(f"{srv.url}/api/opportunities/{ids['opp']}/ask/stream", people.headers("sales_rep"),
                           {"question": "And then?", "conversation_id": "CV-doesnotexist"})
    assert resp.status_code == 200
    error = [d for _, n, d in events if n == "error"]
    assert error and error[0]["status"] == 404 and "CV-doesnotexist" in error[0]["detail"]
    assert "done" not in [n for _, n, _ in events]


def test_stream_refuses_before_streaming(server: Any) -> None:
    srv, people, ids = server
    r = httpx.post(f"{srv.url}/api/opportunities/{ids['opp']}/why/stream")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/json")
    r = httpx.post(f"{srv.url}/api/opportunities/{ids['opp']}/why/stream", headers=people.headers("compliance"))
    assert r.status_code == 403
    r = httpx.post(f"{srv.url}/api/opportunities/OPP-0000000000/why/stream", headers=people.headers("sales_rep"))
    assert r.status_code == 404


def test_a_client_that_leaves_does_not_break_the_server(server: Any) -> None:
    srv, people, ids = server
    with httpx.stream("POST", f"{srv.url}/api/briefings/{people.tech_serials[0]}/stream",
                      headers=people.headers("technician"), timeout=60) as resp:
        for line in resp.iter_lines():
            if line.startswith("event: sentence"):
                break  # hang up mid-stream
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        health = httpx.get(f"{srv.url}/health").json()["drafting"]
        if not health["running"] and health["waiting"] == 0:
            break
        time.sleep(0.2)
    assert health["state"] == "ready" and not health["running"]
    r = httpx.get(f"{srv.url}/api/opportunities?limit=1", headers=people.headers("sales_rep"))
    assert r.status_code == 200


def test_sse_events_parse(server: Any) -> None:
    srv, people, ids = server
    r = httpx.post(f"{srv.url}/api/opportunities/{ids['opp']}/talking-points/stream", headers=people.headers("sales_rep"),
                   json={"channel": "call"}, timeout=300)
    events = parse_sse(r.text)
    assert [n for n, _ in events][-1] == "done"
    draft = next(d for n, d in events if n == "draft")
    assert draft["kind"] == "talking_points" and draft["subject"]["channel"] == "call"
