"""Lead routing: under the price limit it stays with the technician; above it the account manager only if SDI shows
them the machine, else a sales rep of the territory, else the admins — and the reason says which and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdi.access.policy import can_see_opportunity
from sdi.access.users import User, add_user, get_user, remove_user
from sdi.store import MachineFile
from sdi.triggers.leads import ADMINS, create_lead, list_leads

TECH = User("Tom Tech", "technician", serials=frozenset({"M-N", "M-S", "M-X"}))


@pytest.fixture()
def world(db: MachineFile) -> MachineFile:
    """Two territories (North: account manager Ann Rep; South: Sam Sales) and a customer without territory."""
    for row in (("C-N", "Nordbau", "North", "Ann Rep"), ("C-S", "Südmetall", "South", "Sam Sales"),
                ("C-X", "Nowhere", None, None)):
        db.execute("INSERT INTO customers (customer_id, name, territory, account_manager) VALUES (?, ?, ?, ?)", list(row))
    for serial, customer in (("M-N", "C-N"), ("M-S", "C-S"), ("M-X", "C-X")):
        db.execute("INSERT INTO machines (serial, model, customer_id) VALUES (?, 'TL', ?)", [serial, customer])
    db.execute("INSERT INTO service_offers (offer_id, name, price, currency) VALUES "
               "('CHEAP', 'Wear kit', 1200, 'EUR'), ('DEAR', 'Retrofit', 2400, 'EUR')")
    return db


def _home(db: MachineFile) -> Path:
    return db.path.parent


def _lead(db: MachineFile, serial: str, offer: str | None = "DEAR", who: User = TECH) -> dict:
    lead = create_lead(db, _home(db), who, serial, "hose weeping at cylinder 2", "a quote", offer)
    stored = db.one("SELECT owner, owner_role, data->>'$.routing_reason' FROM opportunities WHERE id = ?",
                    [lead["opportunity_id"]])
    assert stored == (lead["owner"], lead["owner_role"], lead["routing_reason"])  # the opportunity carries the reason
    return lead


def _sees(db: MachineFile, lead: dict) -> bool:
    """The owner, as the API's policy judges it, can open the lead's opportunity."""
    owner = get_user(db, lead["owner"]) if lead["owner"] != ADMINS else User("Any Admin", "admin")
    return owner is not None and can_see_opportunity(db, owner, lead["opportunity_id"])


def test_under_the_limit_it_stays_with_the_reporting_technician(world: MachineFile) -> None:
    add_user(world, "Tom Tech", "technician", serials=["M-N", "M-S", "M-X"])
    lead = _lead(world, "M-N", "CHEAP")
    assert (lead["owner"], lead["owner_role"]) == ("Tom Tech", "technician")
    assert lead["routing_reason"] == "1,200 EUR is under the 1,500 EUR limit, so it stays with Tom Tech, the technician who reported it"
    assert _sees(world, lead)


def test_over_the_limit_the_account_manager_who_sees_the_machine(world: MachineFile) -> None:
    add_user(world, "Ann Rep", "sales_rep", "North")
    add_user(world, "Another North Rep", "sales_rep", "North")
    lead = _lead(world, "M-N")
    assert (lead["owner"], lead["owner_role"]) == ("Ann Rep", "sales_rep")
    assert lead["routing_reason"] == ("2,400 EUR is over the 1,500 EUR limit: routed to Ann Rep, the account manager "
                                      "(sales rep for territory North)")
    assert _sees(world, lead)
    admin_report = _lead(world, "M-N", "CHEAP", User("Ada Admin", "admin"))  # only technicians keep small offers
    assert admin_report["owner"] == "Ann Rep" and admin_report["routing_reason"].startswith(
        "Ada Admin reported it as admin, not as a technician: routed to Ann Rep")


def test_an_account_manager_who_is_no_user_falls_back_to_the_territorys_rep(world: MachineFile) -> None:
    add_user(world, "Zoe North", "sales_rep", "North")
    add_user(world, "Bert North", "sales_rep", "North")
    lead = _lead(world, "M-N", None)
    assert (lead["owner"], lead["owner_role"]) == ("Bert North", "sales_rep")  # the first by name: a stable choice
    assert lead["routing_reason"] == ("no standard offer was picked; the account manager Ann Rep is not an SDI user, "
                                      "so it goes to Bert North, sales rep for territory North")
    assert _sees(world, lead)


def test_an_account_manager_who_cannot_see_the_machine_or_was_removed_falls_back(world: MachineFile) -> None:
    add_user(world, "Ann Rep", "sales_rep", "South")  # moved to another territory: SDI no longer shows her M-N
    add_user(world, "Bert North", "sales_rep", "North")
    moved = _lead(world, "M-N")
    assert moved["owner"] == "Bert North"
    assert "the account manager Ann Rep cannot see this machine in SDI, so it goes to Bert North" in moved["routing_reason"]
    add_user(world, "Sam Sales", "sales_rep", "South")
    assert _lead(world, "M-S")["owner"] == "Sam Sales"
    remove_user(world, "Sam Sales")  # no longer active: the next lead goes to the territory's remaining rep
    after = _lead(world, "M-S")
    assert after["owner"] == "Ann Rep" and "the account manager Sam Sales is not an SDI user" in after["routing_reason"]
    assert _sees(world, moved) and _sees(world, after)


def test_no_active_rep_in_the_territory_goes_to_the_admins_and_says_so(world: MachineFile) -> None:
    add_user(world, "Ann Rep", "sales_rep", "North")
    add_user(world, "Ada Admin", "admin")
    south = _lead(world, "M-S")
    assert (south["owner"], south["owner_role"]) == (ADMINS, "admin")
    assert south["routing_reason"] == ("2,400 EUR is over the 1,500 EUR limit; the account manager Sam Sales is not an "
                                       "SDI user and there is no active sales rep for territory South: routed to the admins")
    nowhere = _lead(world, "M-X")
    assert nowhere["owner"] == ADMINS and nowhere["routing_reason"].endswith(
        "no account manager is on record and the customer has no territory: routed to the admins")
    assert _sees(world, south) and _sees(world, nowhere)
    listed = {lead["id"]: lead["routing_reason"] for lead in list_leads(world)}
    assert listed[south["id"]] == south["routing_reason"]  # the list reads the reason from the opportunity


def test_before_any_user_exists_the_account_manager_is_kept(world: MachineFile) -> None:
    lead = _lead(world, "M-N")  # a batch run or the demo's replay: nobody to check yet; the CRM export carries the owner
    assert (lead["owner"], lead["owner_role"]) == ("Ann Rep", "sales_rep")
    assert lead["routing_reason"] == "2,400 EUR is over the 1,500 EUR limit: routed to the account manager Ann Rep"
    unassigned = _lead(world, "M-X", None)
    assert unassigned["owner"] == "unassigned sales rep (unknown territory)"
