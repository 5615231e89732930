"""Users and tokens: hashed storage, constant-time checks, role rules, demo users."""

from __future__ import annotations

import hashlib

import pytest

from sdi.access import users
from sdi.errors import SdiError
from sdi.store import MachineFile


@pytest.fixture()
def base(db: MachineFile) -> MachineFile:
    """A machine file with two territories, three machines and service history."""
    db.con.execute("INSERT INTO customers (customer_id, name, territory, account_manager) VALUES "
                   "('C1', 'Acme', 'North', 'Ann Rep'), ('C2', 'Bolt', 'South', 'Bob Rep')")
    db.con.execute("INSERT INTO machines (serial, model, customer_id) VALUES ('M1', 'TL', 'C1'), ('M2', 'TL', 'C1'), ('M3', 'TL', 'C2')")
    db.con.execute("INSERT INTO service_records (record_id, serial, date, text, technician) VALUES "
                   "('SR-1', 'M1', DATE '2026-01-01', 'x', 'Tom Tech'), ('SR-2', 'M2', DATE '2026-02-01', 'y', 'Tom Tech'), "
                   "('SR-3', 'M3', DATE '2026-02-01', 'z', 'Uli Tech')")
    return db


def test_token_is_returned_once_and_only_its_hash_is_stored(base: MachineFile) -> None:
    user, token = users.add_user(base, "Ann Rep", "sales_rep", "North")
    assert token.startswith("sdi_") and len(token) > 40
    stored = base.sql("SELECT * FROM users")
    assert token not in repr(stored)
    assert base.scalar("SELECT token_sha256 FROM users WHERE name = 'Ann Rep'") == hashlib.sha256(token.encode()).hexdigest()
    assert user.to_dict() == {"name": "Ann Rep", "role": "sales_rep", "territory": "North", "serials": [],
                              "created_at": user.created_at}
    assert "token" not in user.to_dict()


def test_authenticate(base: MachineFile) -> None:
    _, token = users.add_user(base, "Ann Rep", "sales_rep", "North")
    _, other = users.add_user(base, "Tom Tech", "technician", serials=["M1", "M2"])
    assert users.authenticate(base, token).name == "Ann Rep"
    tech = users.authenticate(base, other)
    assert tech.role == "technician" and tech.serials == frozenset({"M1", "M2"})
    for bad in (None, "", token + "x", token[:-1], "x" * 500, "sdi_\udcff"):
        assert users.authenticate(base, bad) is None


def test_every_stored_hash_is_compared_in_constant_time(base: MachineFile, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = users.add_user(base, "Ann Rep", "sales_rep", "North")
    users.add_user(base, "Bob Rep", "sales_rep", "South")
    users.add_user(base, "Admin", "admin")
    calls = []
    real = users.hmac.compare_digest
    monkeypatch.setattr(users.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert users.authenticate(base, token).name == "Ann Rep"
    assert len(calls) == 3  # no early exit on the first match


@pytest.mark.parametrize(
    ("name", "role", "territory", "serials", "message"),
    [
        ("Ann", "sales_rep", None, [], "needs a territory"),
        ("Ann", "sales_rep", "Mars", [], "unknown territory"),
        ("Ann", "boss", None, [], "unknown role"),
        ("Ann", "admin", "North", [], "only sales reps have a territory"),
        ("Ann", "compliance", None, ["M1"], "only technicians"),
        ("Tom", "technician", None, ["M1", "M9"], "unknown machine serial"),
        ("", "admin", None, [], "invalid user name"),
        (" Ann", "admin", None, [], "invalid user name"),
        ("A\x00n", "admin", None, [], "invalid user name"),
    ],
)
def test_role_rules(base: MachineFile, name: str, role: str, territory: str | None, serials: list[str], message: str) -> None:
    with pytest.raises(SdiError, match=message):
        users.add_user(base, name, role, territory, serials)


def test_duplicate_names_replace_and_remove(base: MachineFile) -> None:
    _, first = users.add_user(base, "Admin", "admin")
    with pytest.raises(SdiError, match="exists"):
        users.add_user(base, "Admin", "admin")
    _, second = users.add_user(base, "Admin", "admin", replace=True)
    assert users.authenticate(base, first) is None and users.authenticate(base, second).name == "Admin"
    users.remove_user(base, "Admin")
    assert users.authenticate(base, second) is None
    with pytest.raises(SdiError, match="no user"):
        users.remove_user(base, "Admin")


def test_assign_adds_machines(base: MachineFile) -> None:
    users.add_user(base, "Tom Tech", "technician", serials=["M1"])
    assert users.assign(base, "Tom Tech", ["M2", "M1"]).serials == frozenset({"M1", "M2"})


def test_demo_users_one_per_role_with_fresh_tokens(base: MachineFile) -> None:
    first = users.create_demo_users(base)
    assert sorted(role for _, role, _ in first) == sorted(users.ROLES)
    for name, role, token in first:
        assert users.authenticate(base, token).name == name
    tech = next(n for n, r, _ in first if r == "technician")
    assert users.get_user(base, tech).serials  # the machines of their visits
    again = users.create_demo_users(base)
    assert {t for *_, t in again}.isdisjoint({t for *_, t in first})
    assert all(users.authenticate(base, t) is None for *_, t in first)
    assert len(users.list_users(base)) == 4
