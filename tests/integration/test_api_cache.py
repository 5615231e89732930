"""The view cache on a real server: reused per token only, never stale after a write, never past a bad token."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from sdi.api.app import create_app
from sdi.store import MachineFile
from tests.integration.api_base import LiveServer, People, fresh_home, make_people, settings_for


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[LiveServer, People]]:
    home = fresh_home("cache")
    settings = settings_for(home, llm="template")
    db = MachineFile(settings.db_path)
    people = make_people(db)
    server = LiveServer(create_app(settings, db)).start()
    yield server, people
    server.stop()
    db.close()


def get(srv: LiveServer, people: People, who: str, path: str) -> httpx.Response:
    return httpx.get(f"{srv.url}{path}", headers=people.headers(who), timeout=30)


def test_a_repeated_read_is_served_from_the_cache_with_the_same_body(env: Any) -> None:
    srv, people = env
    first = get(srv, people, "sales_rep", "/api/opportunities?limit=20&offset=3")
    second = get(srv, people, "sales_rep", "/api/opportunities?limit=20&offset=3")
    assert first.status_code == second.status_code == 200
    assert "x-sdi-cache" not in first.headers and second.headers["x-sdi-cache"] == "hit"
    assert second.content == first.content
    assert second.headers["x-content-type-options"] == "nosniff"  # the security headers still apply to hits
    assert httpx.get(f"{srv.url}/health").json()["view_cache"]["hits"] >= 1


def test_another_user_never_gets_a_cached_view(env: Any) -> None:
    srv, people = env
    path = "/api/opportunities?limit=50"
    mine = get(srv, people, "sales_rep", path)
    get(srv, people, "sales_rep", path)
    theirs = get(srv, people, "other_rep", path)
    assert "x-sdi-cache" not in theirs.headers
    territories = {o["territory"] for o in theirs.json()["items"]}
    assert territories == {people.other_territory} and mine.json()["items"] != theirs.json()["items"]
    bad = httpx.get(f"{srv.url}{path}", headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert bad.status_code == 401 and b"items" not in bad.content
    assert httpx.get(f"{srv.url}{path}", timeout=30).status_code == 401


def test_a_write_drops_cached_views_at_once(env: Any) -> None:
    srv, people = env
    items = get(srv, people, "sales_rep", "/api/opportunities?limit=50&owner_role=sales_rep").json()["items"]
    opp = next(o for o in items if o["status"] == "open")
    path = f"/api/opportunities/{opp['id']}"
    get(srv, people, "sales_rep", path)
    assert get(srv, people, "sales_rep", path).headers.get("x-sdi-cache") == "hit"
    changed = httpx.post(f"{srv.url}{path}/status", json={"status": "in_progress", "note": "called the customer"},
                         headers=people.headers("sales_rep"), timeout=30)
    assert changed.status_code == 200, changed.text
    after = get(srv, people, "sales_rep", path)
    assert "x-sdi-cache" not in after.headers and after.json()["status"] == "in_progress"
    listed = get(srv, people, "admin", "/api/opportunities?limit=500&status=in_progress").json()["items"]
    assert opp["id"] in {o["id"] for o in listed}


def test_drafting_does_not_empty_the_cache_but_a_rejected_write_still_does(env: Any) -> None:
    srv, people = env
    path = "/api/opportunities?limit=5"
    get(srv, people, "admin", path)
    opp = get(srv, people, "admin", path).json()["items"][0]
    drafted = httpx.post(f"{srv.url}/api/opportunities/{opp['id']}/why", headers=people.headers("admin"), timeout=120)
    assert drafted.status_code == 200, drafted.text
    assert get(srv, people, "admin", path).headers.get("x-sdi-cache") == "hit"
    refused = httpx.post(f"{srv.url}/api/opportunities/{opp['id']}/status", json={"status": "won"},
                         headers=people.headers("admin"), timeout=30)
    assert refused.status_code == 422
    assert "x-sdi-cache" not in get(srv, people, "admin", path).headers
