"""Append-only, hash-chained audit log (JSON Lines under SDI_HOME/audit/): drafts, runs, imports, human actions."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    """The one serialisation every hash is computed over."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """Hash of an entry's content (everything but its own hash), chained through `prev`."""
    return sha256_text(canonical({k: v for k, v in entry.items() if k != "hash"}))


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of re-walking the chain."""

    ok: bool
    entries: int
    first_bad: str | None = None  # entry id (or line) where the chain breaks
    reason: str = ""


class AuditLog:
    """The log file; appends are serialised with a file lock so several processes can write."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "audit"
        self.path = self.folder / "audit.jsonl"

    def _open_locked(self) -> Any:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        handle = os.fdopen(fd, "a+", encoding="utf-8")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def append(self, kind: str, payload: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        """Add one entry chained to the last; returns it (with its id and hash)."""
        with self._open_locked() as handle:
            handle.seek(0)
            last = None
            count = 0
            for line in handle:
                if line.strip():
                    last = line
                    count += 1
            prev = json.loads(last)["hash"] if last else GENESIS
            entry = {
                "id": f"A-{count + 1:07d}",
                "seq": count + 1,
                "ts": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "kind": kind,
                "user": user,
                "payload": payload,
                "prev": prev,
            }
            entry["hash"] = entry_hash(entry)
            handle.write(canonical(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry in order."""
        if not self.path.is_file():
            return iter(())
        with self.path.open(encoding="utf-8") as handle:
            return iter([json.loads(line) for line in handle if line.strip()])

    def get(self, entry_id: str) -> dict[str, Any] | None:
        """One entry by id."""
        return next((e for e in self.entries() if e["id"] == entry_id), None)

    def list(self, kind: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries, newest first, optionally of one kind."""
        items = [e for e in self.entries() if kind is None or e["kind"] == kind]
        items.reverse()
        return items[:limit] if limit else items

    def verify(self) -> VerifyResult:
        """Re-walk the chain; name the first entry that was altered, removed or reordered."""
        return verify_lines(self.path.read_text(encoding="utf-8").splitlines() if self.path.is_file() else [])


def verify_lines(lines: list[str]) -> VerifyResult:
    """Check a sequence of JSONL entries: hashes, links, sequence numbers."""
    prev = GENESIS
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            return VerifyResult(False, count, f"line {number}", "not valid JSON (truncated or edited)")
        count += 1
        ident = entry.get("id", f"line {number}")
        if entry.get("seq") != count:
            return VerifyResult(False, count, ident, f"sequence {entry.get('seq')} where {count} was expected (removed or reordered)")
        if entry.get("prev") != prev:
            return VerifyResult(False, count, ident, "does not link to the entry before it (removed or reordered)")
        if entry_hash(entry) != entry.get("hash"):
            return VerifyResult(False, count, ident, "content does not match its hash (altered)")
        prev = entry["hash"]
    return VerifyResult(True, count)
