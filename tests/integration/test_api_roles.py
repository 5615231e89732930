"""Every role × every route: the expected status, scope enforced server-side, out-of-scope data never returned."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sdi.store import MachineFile
from tests.integration.api_base import People, fresh_home, make_people, settings_for

ROLES = ("sales_rep", "technician", "compliance", "admin")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


@dataclass
class World:
    """The app under test and the objects each route is called on."""

    client: TestClient
    people: People
    ids: dict[str, Any]
    home: Path


def _pick(db: MachineFile, people: People) -> dict[str, Any]:
    rep, tech = people.rep_territory, people.names["technician"]
    serials = people.tech_serials
    one = lambda q, p: db.scalar(q, p)  # noqa: E731
    ids: dict[str, Any] = {}
    # an opportunity of the rep's territory that the technician can neither own nor reach through assignments
    ids["rep_opp"] = one("SELECT id FROM opportunities WHERE territory = ? AND owner_role = 'sales_rep' AND serial NOT IN "
                         "(SELECT unnest(?::VARCHAR[])) ORDER BY priority DESC LIMIT 1", [rep, serials])
    ids["rep_opp2"] = one("SELECT id FROM opportunities WHERE territory = ? AND owner_role = 'sales_rep' AND id <> ? AND serial "
                          "NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY priority DESC LIMIT 1", [rep, ids["rep_opp"], serials])
    # an opportunity the technician owns, outside the rep's territory
    ids["tech_opp"] = one("SELECT id FROM opportunities WHERE owner_role = 'technician' AND owner = ? AND territory <> ? "
                          "ORDER BY priority DESC LIMIT 1", [tech, rep])
    ids["tech_opp2"] = one("SELECT id FROM opportunities WHERE owner_role = 'technician' AND owner = ? AND territory <> ? "
                           "AND id <> ? ORDER BY priority DESC LIMIT 1", [tech, rep, ids["tech_opp"]])
    ids["rep_serial"] = one("SELECT serial FROM opportunities WHERE id = ?", [ids["rep_opp"]])
    ids["tech_serial"] = one("SELECT serial FROM machines WHERE serial IN (SELECT unnest(?::VARCHAR[])) AND customer_id IN "
                             "(SELECT customer_id FROM customers WHERE territory <> ?) ORDER BY serial LIMIT 1", [serials, rep])
    ids["rep_contract"] = "contract:" + one("SELECT contract_id FROM contracts WHERE serial IN (SELECT m.serial FROM machines m "
                                            "JOIN customers c USING (customer_id) WHERE c.territory = ? AND m.serial NOT IN "
                                            "(SELECT unnest(?::VARCHAR[]))) ORDER BY 1 LIMIT 1", [rep, serials])
    ids["rep_customer"] = one("SELECT name FROM customers WHERE customer_id = (SELECT customer_id FROM machines WHERE serial = ?)",
                              [ids["rep_serial"]])
    assert all(ids.values()), ids
    return ids


@pytest.fixture(scope="module")
def world() -> World:
    home = fresh_home("roles")
    settings = settings_for(home, llm="template")
    db = MachineFile(settings.db_path)
    people = make_people(db)
    ids = _pick(db, people)
    from sdi.api.app import create_app

    with TestClient(create_app(settings, db)) as client:
        tech = people.headers("technician")
        lead = client.post("/api/leads", headers=tech, json={
            "serial": ids["tech_serial"], "observed": "oil mist at the spindle", "customer_wants": "a quote",
            "photo": {"content_type": "image/png", "data_base64": PNG}})
        assert lead.status_code == 201, lead.text
        ids["lead"] = lead.json()["id"]
        draft = client.post(f"/api/opportunities/{ids['rep_opp']}/why", headers=people.headers("admin"))
        assert draft.status_code == 200, draft.text
        ids["draft"] = draft.json()["audit_id"]
        ids["audit"] = ids["draft"]
        tiny = home / "tiny"
        tiny.mkdir()
        (tiny / "offers.json").write_text('[{"id": "OF-X1", "name": "Extra check", "price": 99}]')
        (tiny / "mapping.yaml").write_text("files:\n  - path: offers.json\n    entity: service_offer\n"
                                           "    columns: {offer_id: id, name: name, price: price}\n")
        ids["mapping"] = str(tiny / "mapping.yaml")
        yield World(client, people, ids, home)
    db.close()


_victims = itertools.count(1)

# (method, path, body, expected status per role); {name} placeholders are filled from World.ids.
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/me", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/opportunities", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/opportunities/facets", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/opportunities/{rep_opp}", None, {"sales_rep": 200, "technician": 404, "compliance": 200, "admin": 200}),
    ("GET", "/api/opportunities/{tech_opp}", None, {"sales_rep": 404, "technician": 200, "compliance": 200, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/status", {"status": "in_progress"},
     {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{tech_opp}/status", {"status": "in_progress"},
     {"sales_rep": 404, "technician": 200, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp2}/outcome", {"result": "lost_to_partner", "partner": "Local GmbH", "reason": "price",
                                                       "discount_pct": 5}, {"sales_rep": 201, "technician": 404, "compliance": 403, "admin": 201}),
    ("POST", "/api/opportunities/{tech_opp2}/outcome", {"result": "won", "value": 650, "currency": "EUR"},
     {"sales_rep": 404, "technician": 201, "compliance": 403, "admin": 201}),
    ("POST", "/api/opportunities/{rep_opp}/why", None, {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{tech_opp}/why", None, {"sales_rep": 404, "technician": 200, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/why/stream", None, {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/ask", {"question": "When does the contract end?"},
     {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/ask/stream", {"question": "What was repaired last?"},
     {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/talking-points", {"channel": "call"},
     {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/opportunities/{rep_opp}/talking-points/stream", {"channel": "email"},
     {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/briefings/{rep_serial}", None, {"sales_rep": 200, "technician": 404, "compliance": 403, "admin": 200}),
    ("POST", "/api/briefings/{tech_serial}", None, {"sales_rep": 404, "technician": 200, "compliance": 403, "admin": 200}),
    ("POST", "/api/briefings/{tech_serial}/stream", None, {"sales_rep": 404, "technician": 200, "compliance": 403, "admin": 200}),
    ("GET", "/api/machines", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/machines/{rep_serial}", None, {"sales_rep": 200, "technician": 404, "compliance": 200, "admin": 200}),
    ("GET", "/api/machines/{tech_serial}", None, {"sales_rep": 404, "technician": 200, "compliance": 200, "admin": 200}),
    ("GET", "/api/machines/{rep_serial}/telemetry", None, {"sales_rep": 200, "technician": 404, "compliance": 200, "admin": 200}),
    ("GET", "/api/sources/{rep_contract}", None, {"sales_rep": 200, "technician": 404, "compliance": 200, "admin": 200}),
    ("POST", "/api/leads", {"serial": "{tech_serial}", "observed": "belt squeals"},
     {"sales_rep": 403, "technician": 201, "compliance": 403, "admin": 201}),
    ("GET", "/api/leads", None, dict.fromkeys(ROLES, 200)),
    ("GET", "/api/leads/{lead}", None, {"sales_rep": 404, "technician": 200, "compliance": 200, "admin": 200}),
    ("GET", "/api/leads/{lead}/photo", None, {"sales_rep": 404, "technician": 200, "compliance": 200, "admin": 200}),
    ("GET", "/api/audit", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("GET", "/api/audit/{audit}", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("GET", "/api/drafts", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("GET", "/api/drafts/{draft}", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("POST", "/api/drafts/{draft}/review", {"note": "sources read"}, {"sales_rep": 403, "technician": 403, "compliance": 201, "admin": 201}),
    ("POST", "/api/audit/verify", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("GET", "/api/audit/export", None, {"sales_rep": 403, "technician": 403, "compliance": 200, "admin": 200}),
    ("GET", "/api/users", None, {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
    ("POST", "/api/users", {"name": "{victim}", "role": "compliance"},
     {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 201}),
    ("DELETE", "/api/users/{victim_made}", None, {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
    ("POST", "/api/admin/triggers", None, {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
    ("GET", "/api/admin/triggers/suppressed", None, {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
    ("GET", "/api/admin/backtest", None, {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
    ("GET", "/api/opportunities?channel=scheduling", None,
     {"sales_rep": 403, "technician": 200, "compliance": 403, "admin": 200}),
    ("POST", "/api/admin/ingest", {"mapping": "{mapping}", "run_triggers": False},
     {"sales_rep": 403, "technician": 403, "compliance": 403, "admin": 200}),
]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(world: World, role: str | None, method: str, path: str, body: Any) -> Any:
    ids = dict(world.ids, victim=f"Victim {next(_victims)}")
    if "{victim_made}" in path:
        made = world.client.post("/api/users", headers=world.people.headers("admin"), json={"name": ids["victim"], "role": "compliance"})
        assert made.status_code == 201
        ids["victim_made"] = ids["victim"]
    headers = world.people.headers(role) if role else {}
    return world.client.request(method, _fill(path, ids), headers=headers, json=_fill(body, ids) if body is not None else None)


CASES = [(role, m, p, b, exp[role]) for m, p, b, exp in MATRIX for role in ROLES]


@pytest.mark.parametrize(("role", "method", "path", "body", "expected"), CASES,
                         ids=[f"{r}-{m} {p}" for r, m, p, _, _ in CASES])
def test_role_route_status(world: World, role: str, method: str, path: str, body: Any, expected: int) -> None:
    response = _call(world, role, method, path, body)
    assert response.status_code == expected, f"{role} {method} {path}: {response.status_code} {response.text[:300]}"
    if expected in (403, 404):
        assert world.ids["rep_customer"] not in response.text
        assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path", "body"), [(m, p, b) for m, p, b, _ in MATRIX], ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_no_token_is_401(world: World, method: str, path: str, body: Any) -> None:
    response = _call(world, None, method, path, body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    bad = world.client.request(method, _fill(path, dict(world.ids, victim="x", victim_made="x")),
                               headers={"Authorization": "Bearer sdi_not-a-real-token"})
    assert bad.status_code == 401


def test_matrix_covers_every_route(world: World) -> None:
    app = world.client.app
    routes = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods if r.path.startswith("/api")}
    covered = {(m, p) for m, p, _, _ in MATRIX}
    normalise = lambda p: "/".join("{}" if s.startswith("{") else s for s in p.split("/"))  # noqa: E731
    missing = {(m, p) for m, p in routes if (m, normalise(p)) not in {(cm, normalise(cp)) for cm, cp in covered}}
    assert not missing, f"routes without a role matrix row: {sorted(missing)}"


def test_health_needs_no_token(world: World) -> None:
    body = world.client.get("/health").json()
    assert body["status"] == "ok" and body["drafting"]["state"] in ("ready", "starting")


def test_lists_are_scoped(world: World) -> None:
    c, people = world.client, world.people
    rep = c.get("/api/opportunities?limit=500&state=all", headers=people.headers("sales_rep")).json()
    assert rep["total"] > 0 and {o["territory"] for o in rep["items"]} == {people.rep_territory}
    tech = c.get("/api/opportunities?limit=500&state=all", headers=people.headers("technician")).json()
    name = people.names["technician"]
    assert tech["total"] > 0
    assert all((o["owner_role"] == "technician" and o["owner"] == name) or o["serial"] in people.tech_serials for o in tech["items"])
    machines = c.get("/api/machines?limit=500", headers=people.headers("technician")).json()["items"]
    assert {m["serial"] for m in machines} >= set(people.tech_serials)
    other = c.get("/api/machines?limit=500", headers=people.headers("other_tech")).json()
    assert other["total"] >= 1 and not set(m["serial"] for m in other["items"]) & set(people.tech_serials)
    everything = c.get("/api/opportunities?limit=1&state=all", headers=people.headers("admin")).json()["total"]
    assert rep["total"] < everything and c.get("/api/opportunities?limit=1&state=all",
                                               headers=people.headers("compliance")).json()["total"] == everything


def test_compliance_sees_no_contact_details(world: World) -> None:
    c, serial = world.client, world.ids["rep_serial"]
    rep_view = c.get(f"/api/machines/{serial}", headers=world.people.headers("sales_rep")).json()["customer"]
    assert rep_view["contact_email"]
    comp = c.get(f"/api/machines/{serial}", headers=world.people.headers("compliance"))
    assert comp.status_code == 200
    assert not {"contact_name", "contact_email", "contact_phone"} & set(comp.json()["customer"])
    assert rep_view["contact_email"] not in comp.text
    customer = c.get(f"/api/sources/customer:{rep_view['customer_id']}", headers=world.people.headers("compliance")).json()
    assert "contact_email" not in customer["record"] and rep_view["contact_email"] not in customer["text"]


def test_technician_acts_only_on_what_they_own(world: World) -> None:
    c, ids = world.client, world.ids
    serial = world.people.tech_serials[0]
    owned_elsewhere = c.get(f"/api/opportunities?serial={serial}&owner_role=sales_rep&state=all",
                            headers=world.people.headers("technician")).json()["items"]
    if owned_elsewhere:  # visible through the assignment, but the rep's to work on
        r = c.post(f"/api/opportunities/{owned_elsewhere[0]['id']}/status", json={"status": "dismissed"},
                   headers=world.people.headers("technician"))
        assert r.status_code == 403
    r = c.post("/api/leads", json={"serial": ids["rep_serial"], "observed": "x"}, headers=world.people.headers("technician"))
    assert r.status_code == 404


def test_human_actions_are_audited(world: World) -> None:
    entries = world.client.get("/api/audit?limit=1000", headers=world.people.headers("admin")).json()["items"]
    kinds = {(e["kind"], e["user"]) for e in entries}
    names = world.people.names
    assert ("lead", names["technician"]) in kinds
    assert ("draft", names["admin"]) in kinds
    for kind in ("status", "outcome", "user_add", "user_remove", "triggers_run", "ingest"):
        assert kind in {k for k, _ in kinds}, kind


def test_malformed_requests_get_4xx_with_a_message(world: World) -> None:
    c, h, ids = world.client, world.people.headers("admin"), world.ids
    cases = [
        ("POST", f"/api/opportunities/{ids['rep_opp']}/ask", {"question": ""}, 422),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/ask", {"question": "x" * 501}, 422),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/ask", {"question": "bad \x00 byte"}, 422),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/ask", {"question": "hi", "conversation_id": "CV-nope"}, 404),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/status", {"status": "won"}, 422),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/outcome", {"result": "lost"}, 400),
        ("POST", f"/api/opportunities/{ids['rep_opp']}/outcome", {"result": "won", "discount_pct": 120}, 422),
        ("POST", "/api/leads", {"serial": ids["tech_serial"], "observed": "x", "offer_id": "OF-NOPE"}, 400),
        ("POST", "/api/leads", {"serial": ids["tech_serial"], "observed": "x",
                                "photo": {"content_type": "image/png", "data_base64": "aGVsbG8="}}, 400),
        ("POST", "/api/leads", {"serial": ids["tech_serial"]}, 422),
        ("POST", "/api/users", {"name": "Rep Without Territory", "role": "sales_rep"}, 400),
        ("POST", "/api/users", {"name": "Bad Territory", "role": "sales_rep", "territory": "Mars"}, 400),
        ("POST", "/api/users", {"name": "x", "role": "king"}, 422),
        ("POST", "/api/admin/ingest", {"mapping": "/nonexistent.yaml"}, 400),
        ("GET", "/api/opportunities?limit=0", None, 422),
        ("GET", "/api/opportunities?min_priority=abc", None, 422),
        ("GET", "/api/drafts?since=yesterday", None, 422),
        ("GET", "/api/sources/nonsense", None, 404),
        ("GET", "/api/sources/telemetry:X/vibration@not-a-date", None, 404),
        ("DELETE", f"/api/users/{world.people.names['admin']}", None, 409),
    ]
    for method, path, body, expected in cases:
        r = c.request(method, path, headers=h, json=body)
        assert r.status_code == expected, f"{method} {path} {body}: {r.status_code} {r.text[:300]}"
        assert r.json().get("detail"), r.text
    raw = c.post("/api/leads", headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert raw.status_code == 422


def test_admins_see_held_back_triggers_and_scheduling_tasks_stay_out_of_the_pipeline(world: World) -> None:
    admin = world.people.headers("admin")
    held = world.client.get("/api/admin/triggers/suppressed", headers=admin).json()
    assert held["total"] == len(held["items"]) > 0 and set(held["resolution"]) >= {"error_pattern", "maintenance_due"}
    assert all(t["status"] in ("resolved", "covered") and t["evidence"]["suppressed_by"] for t in held["items"])
    covered = {t["serial"] for t in held["items"] if t["status"] == "covered"}
    tasks = world.client.get("/api/opportunities", headers=admin, params={"channel": "scheduling", "limit": 500}).json()
    assert {o["serial"] for o in tasks["items"]} == covered and all(o["offers"] == [] for o in tasks["items"])
    pipeline = world.client.get("/api/opportunities", headers=admin, params={"limit": 500}).json()["items"]
    assert not {o["id"] for o in pipeline} & {o["id"] for o in tasks["items"]}
    assert all(o["channel"] != "scheduling" for o in pipeline)
