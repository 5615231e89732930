"""Users and their API tokens: roles, territory (sales reps), assignments (technicians); tokens stored only as sha256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from sdi.access.policy import ROLES as ROLES  # re-exported: the roles live in the policy
from sdi.access.policy import check_role_fields
from sdi.errors import SdiError
from sdi.store import MachineFile

TOKEN_PREFIX = "sdi_"
NAME_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")

@dataclass(frozen=True)
class User:
    """A signed-in person: what they may see follows from role, territory and assigned serials."""

    name: str
    role: str
    territory: str | None = None
    serials: frozenset[str] = field(default_factory=frozenset)
    created_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Public view (never the token or its hash)."""
        return {"name": self.name, "role": self.role, "territory": self.territory,
                "serials": sorted(self.serials), "created_at": self.created_at}


def hash_token(token: str) -> str:
    """Hex sha256 of a token: the only form stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _validate(db: MachineFile, name: str, role: str, territory: str | None, serials: list[str]) -> None:
    if not NAME_PATTERN.match(name or "") or name != name.strip():
        raise SdiError(f"invalid user name {name!r}", "use 1-80 printable characters without leading/trailing spaces")
    check_role_fields(role, territory, serials)
    if territory:
        known = {r[0] for r in db.sql("SELECT DISTINCT territory FROM customers WHERE territory IS NOT NULL")}
        if known and territory not in known:
            raise SdiError(f"unknown territory {territory!r}", f"known territories: {', '.join(sorted(known))}")
    if serials:
        missing = [r[0] for r in db.sql("SELECT unnest(?::VARCHAR[]) EXCEPT SELECT serial FROM machines", [serials])]
        if missing:
            raise SdiError(f"unknown machine serial(s): {', '.join(sorted(missing)[:10])}", "check with: sdi status")


def add_user(
    db: MachineFile,
    name: str,
    role: str,
    territory: str | None = None,
    serials: Iterable[str] = (),
    created_by: str | None = None,
    replace: bool = False,
) -> tuple[User, str]:
    """Create a user and return it with its token (shown once; only the hash is kept)."""
    wanted = sorted({s.strip() for s in serials if s and s.strip()})
    _validate(db, name, role, territory, wanted)
    exists = db.scalar("SELECT count(*) FROM users WHERE name = ?", [name])
    if exists and not replace:
        raise SdiError(f"user {name!r} exists", "pick another name, or remove it first: sdi users remove NAME")
    token = new_token()
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with db.transaction():
        db.execute("DELETE FROM user_serials WHERE name = ?", [name])
        db.execute("DELETE FROM users WHERE name = ?", [name])
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)", [name, role, territory, hash_token(token), now, created_by])
        if wanted:
            db.executemany("INSERT INTO user_serials VALUES (?, ?)", [[name, s] for s in wanted])
    return User(name, role, territory, frozenset(wanted), now.isoformat()), token


def remove_user(db: MachineFile, name: str) -> None:
    """Delete a user and its assignments; its token stops working at once."""
    if not db.scalar("SELECT count(*) FROM users WHERE name = ?", [name]):
        raise SdiError(f"no user {name!r}", "list them with: sdi users list")
    db.execute("DELETE FROM user_serials WHERE name = ?", [name])
    db.execute("DELETE FROM users WHERE name = ?", [name])


def assign(db: MachineFile, name: str, serials: Iterable[str]) -> User:
    """Add machines to a technician's assignments."""
    user = get_user(db, name)
    if user is None:
        raise SdiError(f"no user {name!r}", "list them with: sdi users list")
    wanted = sorted({s for s in serials if s} - user.serials)
    _validate(db, name, user.role, user.territory, wanted)
    db.executemany("INSERT INTO user_serials VALUES (?, ?)", [[name, s] for s in wanted])
    return get_user(db, name)  # type: ignore[return-value]


def _serials(db: MachineFile, name: str) -> frozenset[str]:
    return frozenset(r[0] for r in db.sql("SELECT serial FROM user_serials WHERE name = ?", [name]))


def get_user(db: MachineFile, name: str) -> User | None:
    """One user by name."""
    row = db.one("SELECT name, role, territory, created_at FROM users WHERE name = ?", [name])
    if row is None:
        return None
    return User(row[0], row[1], row[2], _serials(db, row[0]), row[3].isoformat() if row[3] else None)


def list_users(db: MachineFile) -> list[User]:
    """Every user, by name."""
    rows = db.sql("SELECT name, role, territory, created_at FROM users ORDER BY name")
    return [User(n, r, t, _serials(db, n), c.isoformat() if c else None) for n, r, t, c in rows]


def token_table(db: MachineFile) -> list[tuple[str, User]]:
    """(token hash, user) for every user, for an in-memory token check (two queries)."""
    serials: dict[str, set[str]] = {}
    for name, serial in db.sql("SELECT name, serial FROM user_serials"):
        serials.setdefault(name, set()).add(serial)
    rows = db.sql("SELECT name, role, territory, created_at, token_sha256 FROM users ORDER BY name")
    return [(h, User(n, r, t, frozenset(serials.get(n, ())), c.isoformat() if c else None)) for n, r, t, c, h in rows]


def match_token(table: list[tuple[str, User]], token: str | None) -> User | None:
    """The user whose stored hash matches the token; every hash is compared in constant time (no early exit)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    match = None
    for stored, user in table:
        if hmac.compare_digest(stored, digest):
            match = user
    return match


def authenticate(db: MachineFile, token: str | None) -> User | None:
    """The user a token belongs to, or None; every stored hash is compared in constant time."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    match = None
    for name, stored in db.sql("SELECT name, token_sha256 FROM users"):
        if hmac.compare_digest(stored, digest):
            match = name
    return get_user(db, match) if match else None


def _demo_people(db: MachineFile) -> dict[str, Any]:
    """Pick real names from the demo base: the busiest territory's account manager and technician."""
    rep = db.one(
        "SELECT c.territory, c.account_manager FROM opportunities o JOIN customers c ON c.territory = o.territory "
        "WHERE o.owner_role = 'sales_rep' AND c.account_manager IS NOT NULL AND c.territory IS NOT NULL "
        "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
    ) or db.one("SELECT territory, account_manager FROM customers WHERE territory IS NOT NULL ORDER BY 1 LIMIT 1")
    tech = db.scalar(
        "SELECT owner FROM opportunities WHERE owner_role = 'technician' AND owner NOT LIKE 'unassigned%' "
        "GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 1"
    ) or db.scalar("SELECT technician FROM service_records WHERE technician IS NOT NULL ORDER BY 1 LIMIT 1")
    return {"territory": rep[0] if rep else None, "rep": (rep[1] if rep and rep[1] else "Sales Rep"),
            "technician": tech or "Field Technician"}


def create_demo_users(db: MachineFile) -> list[tuple[str, str, str]]:
    """One user per role for the demo (fresh tokens on every run): [(name, role, token)]."""
    people = _demo_people(db)
    visits = [r[0] for r in db.sql(
        "SELECT serial FROM (SELECT serial, arg_max(technician, (date, record_id)) AS last_tech FROM service_records "
        "GROUP BY serial) WHERE last_tech = ? ORDER BY serial LIMIT 25", [people["technician"]])]
    out = []
    for name, role, territory, serials in (
        (people["rep"], "sales_rep", people["territory"], ()),
        (people["technician"], "technician", None, visits),
        ("Compliance Reviewer", "compliance", None, ()),
        ("Admin", "admin", None, ()),
    ):
        if role == "sales_rep" and not territory:
            continue
        user, token = add_user(db, name, role, territory, serials, created_by="demo", replace=True)
        out.append((user.name, user.role, token))
    return out
