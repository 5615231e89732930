"""Technician lead capture over HTTP: report -> routed opportunity -> first action timed -> survives trigger re-runs."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.integration.api_base import LiveServer, People, live

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 60


@pytest.fixture(scope="module")
def env() -> tuple[LiveServer, People, httpx.Client]:
    srv, people, _ = live()
    with httpx.Client(base_url=srv.url, timeout=60) as client:
        yield srv, people, client


def _machine(client: httpx.Client, people: People, serial: str) -> dict[str, Any]:
    return client.get(f"/api/machines/{serial}", headers=people.headers("admin")).json()


def test_lead_becomes_an_opportunity_for_the_accounts_sales_rep(env: Any) -> None:
    _, people, c = env
    serial = people.tech_serials[1]
    tech = people.headers("technician")
    r = c.post("/api/leads", headers=tech, json={
        "serial": serial, "observed": "Light curtain <b>flickers</b> on the left side",
        "customer_wants": "someone to check the safety devices before the audit",
        "photo": {"content_type": "image/jpeg", "filename": "curtain.jpg", "data_base64": base64.b64encode(JPEG).decode()}})
    assert r.status_code == 201, r.text
    lead = r.json()
    customer = _machine(c, people, serial)["customer"]
    reps = {u["name"] for u in c.get("/api/users", headers=people.headers("admin")).json()
            if u["role"] == "sales_rep" and u["territory"] == customer["territory"]}
    if customer["account_manager"] in reps:  # never to someone SDI does not show the machine: else a rep who sees it, else admins
        assert lead["owner"] == customer["account_manager"]
    elif reps:
        assert lead["owner_role"] == "sales_rep" and lead["owner"] in reps
    else:
        assert (lead["owner_role"], lead["owner"]) == ("admin", "admins")
        assert f"no active sales rep for territory {customer['territory']}" in lead["routing_reason"]
    assert lead["reporter"] == people.names["technician"] and lead["has_photo"] and lead["hours_to_first_action"] is None

    opp = c.get(f"/api/opportunities/{lead['opportunity_id']}", headers=people.headers("admin")).json()
    assert opp["source"] == "lead" and opp["status"] == "open" and opp["territory"] == customer["territory"]
    trig = opp["triggers"][0]
    assert trig["rule_id"] == "technician_lead" and trig["evidence"]["source_ids"] == [f"lead:{lead['id']}"]
    assert opp["lead"]["observed"] == "Light curtain <b>flickers</b> on the left side"

    # the territory's rep finds it in their list; a rep of another territory does not
    made = c.post("/api/users", headers=people.headers("admin"),
                  json={"name": "Lead Territory Rep", "role": "sales_rep", "territory": customer["territory"]}).json()
    rep = {"Authorization": f"Bearer {made['token']}"}
    listed = c.get("/api/opportunities?source=lead", headers=rep).json()["items"]
    assert lead["opportunity_id"] in [o["id"] for o in listed]
    outsider = people.headers("sales_rep" if customer["territory"] != people.rep_territory else "other_rep")
    assert c.get(f"/api/opportunities/{lead['opportunity_id']}", headers=outsider).status_code == 404
    assert c.get(f"/api/leads/{lead['id']}", headers=outsider).status_code == 404

    # the cited source and the photo are there for those in scope
    src = c.get(f"/api/sources/lead:{lead['id']}", headers=rep).json()
    assert "flickers" in src["text"]
    photo = c.get(f"/api/leads/{lead['id']}/photo", headers=rep)
    assert photo.status_code == 200 and photo.content == JPEG and photo.headers["content-type"] == "image/jpeg"

    # first action: the rep takes it on; a later action does not move the clock
    assert c.post(f"/api/opportunities/{lead['opportunity_id']}/status", headers=rep, json={"status": "in_progress"}).status_code == 200
    timed = c.get(f"/api/leads/{lead['id']}", headers=rep).json()
    assert timed["first_action_by"] == "Lead Territory Rep" and timed["first_action"] == "status:in_progress"
    assert timed["hours_to_first_action"] is not None and timed["hours_to_first_action"] >= 0
    c.post(f"/api/opportunities/{lead['opportunity_id']}/outcome", headers=rep,
           json={"result": "won", "value": 1200, "currency": "EUR", "discount_pct": 10})
    again = c.get(f"/api/leads/{lead['id']}", headers=rep).json()
    assert again["first_action_at"] == timed["first_action_at"] and again["status"] == "won"
    stats = c.get("/api/leads", headers=rep).json()["stats"]
    assert stats["acted_on"] >= 1 and stats["median_hours_to_first_action"] is not None

    audit = c.get("/api/audit?kind=lead", headers=people.headers("compliance")).json()["items"]
    assert any(e["payload"]["id"] == lead["id"] and e["user"] == people.names["technician"] for e in audit)


def test_small_standard_offer_stays_with_the_technician(env: Any) -> None:
    _, people, c = env
    serial = people.tech_serials[2]
    offer = c.get("/api/sources/service_offer:OF-113", headers=people.headers("admin")).json()["record"]
    assert offer["price"] < 1500  # under the technician price limit of the default rules
    r = c.post("/api/leads", headers=people.headers("technician"),
               json={"serial": serial, "observed": "customer reported E-stop faults", "offer_id": "OF-113"})
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["owner_role"] == "technician" and lead["owner"] == people.names["technician"]
    mine = c.get("/api/opportunities?source=lead", headers=people.headers("technician")).json()["items"]
    assert lead["opportunity_id"] in [o["id"] for o in mine]


def test_leads_survive_a_trigger_rerun(env: Any) -> None:
    _, people, c = env
    r = c.post("/api/leads", headers=people.headers("technician"),
               json={"serial": people.tech_serials[3], "observed": "coolant pump noisy"})
    lead = r.json()
    assert c.post("/api/admin/triggers", headers=people.headers("admin")).status_code == 200
    opp = c.get(f"/api/opportunities/{lead['opportunity_id']}", headers=people.headers("admin")).json()
    assert opp["status"] == "open" and opp["trigger_state"] == "lead"
    listed = c.get("/api/opportunities?source=lead&limit=500", headers=people.headers("admin")).json()["items"]
    assert lead["opportunity_id"] in [o["id"] for o in listed]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"serial": "NO-SUCH-SERIAL", "observed": "x"}, 404),
        ({"serial": "{serial}", "observed": "   "}, 422),
        ({"serial": "{serial}", "observed": "x", "offer_id": "OF-NOPE"}, 400),
        ({"serial": "{serial}", "observed": "x", "photo": {"content_type": "image/gif", "data_base64": "R0lGODdh"}}, 422),
        ({"serial": "{serial}", "observed": "x", "photo": {"content_type": "image/jpeg", "data_base64": "iVBORw0KGgo="}}, 400),
        ({"serial": "{serial}", "observed": "x", "photo": {"content_type": "image/png", "data_base64": "@@@"}}, 422),
        ({"serial": "{serial}", "observed": "x", "unexpected": 1}, 422),
    ],
)
def test_bad_leads_are_refused_with_a_message(env: Any, body: dict[str, Any], status: int) -> None:
    _, people, c = env
    if body.get("serial") == "{serial}":
        body = {**body, "serial": people.tech_serials[0]}
    r = c.post("/api/leads", headers=people.headers("technician"), json=body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
