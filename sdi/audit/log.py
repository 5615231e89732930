"""Append-only, hash-chained audit log (JSON Lines under SDI_HOME/audit/): drafts, runs, imports, human actions.

Layout: `audit/audit.jsonl` (one canonical JSON entry per line, each chained to the one before through `prev`),
`audit/HEAD` (the head anchor: entry count and last hash, rewritten atomically after every append, so removing
entries from the END is detected too) and `audit/audit.lock` (the lock every writer and reader takes).

Crash policy: an append writes its line, fsyncs, then replaces HEAD. A crash can therefore leave (a) HEAD one
entry behind the log — verify reports it as a note, the next append brings HEAD up to date — or (b) an
unterminated final line. Verify reports (b) as truncation. The next append (or `sdi audit repair`) repairs (b)
only when every complete line still matches HEAD (so the fragment is an append that was never acknowledged): it
moves the fragment to `audit/torn/`, cuts it off and records a `repair` entry naming its size and sha256. Any other
damage (edited, removed, reordered entries, or a tail that disagrees with HEAD) makes append refuse with an SdiError.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sdi.audit.chain import (  # noqa: F401 - re-exported: the audit API lives at sdi.audit.log
    GENESIS,
    ID_IN_FRAGMENT,
    VerifyResult,
    canonical,
    cited,
    content_problem,
    entry_hash,
    entry_id,
    now_iso,
    parse_head,
    prompt_sha256,
    prompt_text,
    sha256_text,
    split_log,
    verify_lines,
    verify_log,
    walk_chain,
)
from sdi.errors import SdiError

_READ_STEP = 1 << 16


class AuditDamaged(SdiError):
    """The log on disk is not the chain its head anchor describes; nothing more is written to it."""


# --- The log -----------------------------------------------------------------------------------------------


def _tail(fd: int, size: int) -> tuple[bytes | None, int]:
    """The last complete non-blank line (None if none) and the offset where an unterminated fragment starts."""
    pos, buf = size, b""
    while True:
        end = buf.rfind(b"\n")
        if end != -1:
            body = buf[:end].rstrip(b"\n")
            start = body.rfind(b"\n")
            if body.strip() and (start != -1 or pos == 0):
                return body[start + 1 :], pos + end + 1
            if pos == 0:
                return None, pos + end + 1
        elif pos == 0:
            return None, 0
        step = min(_READ_STEP, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AuditLog:
    """The log file; appends are serialised with a file lock so several processes can write."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "audit"
        self.path = self.folder / "audit.jsonl"
        self.head_path = self.folder / "HEAD"
        self.lock_path = self.folder / "audit.lock"

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        if not exclusive and not self.folder.is_dir():
            yield  # nothing to read yet; do not create the folder just to look
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _head_raw(self) -> bytes | None:
        return self.head_path.read_bytes() if self.head_path.is_file() else None

    def head(self) -> dict[str, Any] | None:
        """The head anchor ({count, last_id, last_hash, updated}), None before the first append."""
        with self._locked(False):
            return parse_head(self._head_raw())

    def snapshot(self) -> tuple[bytes, bytes | None]:
        """The log and head bytes, read together under the lock (a consistent copy for export and backup)."""
        with self._locked(False):
            data = self.path.read_bytes() if self.path.is_file() else b""
            return data, self._head_raw()

    def _write_head(self, entry: dict[str, Any]) -> None:
        head = {"count": entry["seq"], "last_id": entry["id"], "last_hash": entry["hash"], "updated": entry["ts"]}
        tmp = self.folder / "HEAD.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (canonical(head) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)
        _fsync_dir(self.folder)

    def _last_entry(self, fd: int) -> tuple[dict[str, Any] | None, int, int]:
        """The last complete entry after checking it against HEAD; with the fragment's offset and the file size."""
        size = os.fstat(fd).st_size
        line, fragment_at = _tail(fd, size)
        try:
            head = parse_head(self._head_raw())
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._damaged(f"the head anchor {self.head_path} is unreadable ({exc})") from exc
        h_count, h_hash = (head["count"], head["last_hash"]) if head else (0, GENESIS)
        if line is None:
            if h_count:
                raise self._damaged(f"the log holds no complete entry but its head anchor records {h_count}")
            return None, fragment_at, size
        try:
            last = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._damaged("its last complete line is not valid JSON (edited)") from exc
        if not isinstance(last, dict):
            raise self._damaged("its last complete line is not an audit entry")
        at_head = last.get("seq") == h_count and last.get("hash") == h_hash
        one_ahead = (last.get("seq") == h_count + 1 and last.get("prev") == h_hash
                     and entry_hash(last) == last.get("hash"))
        if head is None and not one_ahead:
            raise self._damaged(f"its head anchor {self.head_path.name} is missing ({last.get('id')} is its last entry)",
                                "if `sdi audit verify` finds the chain otherwise intact, `sdi audit repair` recreates "
                                "the head (recorded as a repair entry)")
        if not (at_head or one_ahead):
            raise self._damaged(f"its last entry {last.get('id')} does not match the head anchor "
                                f"({h_count} entries ending in {entry_id(h_count) if h_count else 'none'})")
        return last, fragment_at, size

    def _damaged(self, what: str, hint: str | None = None) -> AuditDamaged:
        return AuditDamaged(
            f"the audit log {self.path} is damaged: {what}; nothing was appended",
            hint or "run `sdi audit verify` to see the first bad entry; keep the file for investigation and restore "
            "the log from a backup (sdi restore) or an exported bundle",
        )

    def _adopt_head(self, fd: int) -> dict[str, Any] | None:
        """Create a missing head anchor from a chain that verifies; returns what to record (None if empty)."""
        complete, _fragment = split_log(os.pread(fd, os.fstat(fd).st_size, 0))
        try:
            walk = walk_chain([line.decode("utf-8") for line in complete])
        except UnicodeDecodeError as exc:
            raise self._damaged("it is not valid UTF-8") from exc
        if not walk.result.ok:
            raise self._damaged(f"{walk.result.first_bad}: {walk.result.reason}")
        if not walk.ids:
            return None
        last = json.loads(next(line for line in reversed(complete) if line.strip()))
        self._write_head(last)
        return {"head_created": {"entries": len(walk.ids), "last": walk.ids[-1],
                                 "note": "the head anchor was missing; entries removed from the end before now "
                                         "cannot be ruled out"}}

    def _cut_fragment(self, fd: int, at: int, size: int, last: dict[str, Any] | None) -> dict[str, Any]:
        """Move an unterminated final line to audit/torn/, cut it off; returns the repair payload."""
        fragment = os.pread(fd, size - at, at)
        digest = hashlib.sha256(fragment).hexdigest()
        torn = self.folder / "torn"
        torn.mkdir(exist_ok=True, mode=0o700)
        kept = torn / f"{digest}.part"
        fdk = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fdk, fragment)
            os.fsync(fdk)
        finally:
            os.close(fdk)
        os.ftruncate(fd, at)
        os.fsync(fd)
        found = ID_IN_FRAGMENT.search(fragment)
        return {
            "reason": "unterminated final line (an append interrupted by a crash) removed",
            "after": last["id"] if last else None,
            "offset": at,
            "bytes": len(fragment),
            "sha256": digest,
            "fragment_id": found.group(1).decode() if found else None,
            "kept_as": f"audit/torn/{kept.name}",
        }

    def _write(self, fd: int, last: dict[str, Any] | None, kind: str, payload: dict[str, Any], user: str | None) -> dict[str, Any]:
        seq = (last["seq"] if last else 0) + 1
        entry = {
            "id": entry_id(seq),
            "seq": seq,
            "ts": now_iso(),
            "kind": kind,
            "user": user,
            "payload": payload,
            "prev": last["hash"] if last else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        data = (canonical(entry) + "\n").encode("utf-8")
        os.lseek(fd, 0, os.SEEK_END)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        self._write_head(entry)
        return entry

    def append(self, kind: str, payload: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        """Add one entry chained to the last (repairing a crash-torn tail first); returns it with its id and hash."""
        with self._locked(True):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                last, fragment_at, size = self._last_entry(fd)
                if fragment_at < size:
                    last = self._write(fd, last, "repair", self._cut_fragment(fd, fragment_at, size, last), None)
                return self._write(fd, last, kind, payload, user)
            finally:
                os.close(fd)

    def repair(self, user: str | None = None) -> dict[str, Any] | None:
        """Cut a crash-torn final line, or recreate a missing head over an intact chain, recording a `repair`
        entry; None when there was nothing to repair. Other damage raises AuditDamaged."""
        with self._locked(True):
            if not self.path.is_file():
                return None
            fd = os.open(self.path, os.O_RDWR)
            try:
                adopted = self._adopt_head(fd) if not self.head_path.exists() else None
                last, fragment_at, size = self._last_entry(fd)
                if fragment_at < size:
                    payload = {**self._cut_fragment(fd, fragment_at, size, last), **(adopted or {})}
                    return self._write(fd, last, "repair", payload, user)
                if adopted:
                    return self._write(fd, last, "repair", {"reason": "head anchor recreated", **adopted}, user)
                if last is not None and (parse_head(self._head_raw()) or {}).get("count") != last["seq"]:
                    self._write_head(last)  # an interrupted append: bring the anchor up to date
                return None
            finally:
                os.close(fd)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every complete entry in order (an unterminated final line is not an entry)."""
        data, _ = self.snapshot()
        complete, _fragment = split_log(data)
        out = []
        for number, line in enumerate(complete, start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SdiError(f"audit log line {number} is not valid JSON", "run `sdi audit verify`") from exc
        return iter(out)

    def get(self, entry_id: str) -> dict[str, Any] | None:
        """One entry by id."""
        return next((e for e in self.entries() if e.get("id") == entry_id), None)

    def list(self, kind: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries, newest first, optionally of one kind."""
        items = [e for e in self.entries() if kind is None or e.get("kind") == kind]
        items.reverse()
        return items[:limit] if limit else items

    def latest(self, kind: str, within: int = 32 * 2**20) -> dict[str, Any] | None:
        """The newest entry of a kind, read backwards from the end (at most `within` bytes; never the whole log)."""
        needle = f'"kind":"{kind}"'.encode()
        try:
            fh = open(self.path, "rb")
        except OSError:
            return None
        with fh:
            end = fh.seek(0, os.SEEK_END)
            pos, tail = end, b""
            while pos > 0 and end - pos < within:
                step = min(1 << 18, pos)
                pos -= step
                fh.seek(pos)
                tail = fh.read(step) + tail
                lines = tail.split(b"\n")
                tail = lines[0] if pos > 0 else b""
                for line in reversed(lines[1:] if pos > 0 else lines):
                    if needle in line:
                        try:
                            entry = json.loads(line)
                        except ValueError:
                            continue
                        if entry.get("kind") == kind:
                            return entry
        return None

    def verify(self) -> VerifyResult:
        """Re-walk the chain and compare it with the head anchor; name the first entry altered, removed,
        reordered or truncated."""
        data, head = self.snapshot()
        return verify_log(data, head)
