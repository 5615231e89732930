"""The audit chain as data: canonical hashing, entry ids, draft content checks and verification of log bytes.

Pure functions over bytes and dicts (no files, no locks), so a bundle on another machine is checked by the same
code as the live log. `sdi.audit.log` re-exports everything here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64
ID_IN_FRAGMENT = re.compile(rb'"id":"(A-\d+)"')


def canonical(data: Any) -> str:
    """The one serialisation every hash is computed over."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """Hash of an entry's content (everything but its own hash), chained through `prev`."""
    return sha256_text(canonical({k: v for k, v in entry.items() if k != "hash"}))


def entry_id(seq: int) -> str:
    """The id of the entry with this sequence number."""
    return f"A-{seq:07d}"


def now_iso() -> str:
    """UTC time stamp of an entry."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- Draft entries: payload.sources[] = {id, source_id, text, sha256 of text, …}; payload.rendered_prompt = the
# exact messages sent ([{role, content}] or one string) with payload.rendered_prompt_sha256 = prompt_sha256(it). ---


def prompt_text(rendered: str | list[dict[str, Any]]) -> str:
    """The prompt as a reviewer reads it: a string as is; chat messages as `--- role ---` then the exact content."""
    if isinstance(rendered, str):
        return rendered
    return "\n".join(f"--- {m.get('role', '?')} ---\n{m.get('content', '')}" for m in rendered)


def prompt_sha256(rendered: str | list[dict[str, Any]]) -> str:
    """sha256 of the exact prompt sent: of the string itself, or of the canonical JSON of the message list."""
    return sha256_text(rendered if isinstance(rendered, str) else canonical(rendered))


def cited(payload: Any) -> list[dict[str, Any]]:
    """The cited sources (dicts with a text) of an entry's payload; [] for entries that cite nothing."""
    sources = payload.get("sources") if isinstance(payload, dict) else None
    if not isinstance(sources, list):
        return []
    return [s for s in sources if isinstance(s, dict) and isinstance(s.get("text"), str)]


def content_problem(entry: dict[str, Any]) -> str | None:
    """A draft entry whose cited texts or prompt do not match the hashes it records (None when consistent)."""
    payload = entry.get("payload")
    if not isinstance(payload, dict):
        return None
    for src in cited(payload):
        if "sha256" in src and sha256_text(src["text"]) != src["sha256"]:
            return f"source {src.get('id')} ({src.get('source_id')}): its text does not match its sha256"
    rendered = payload.get("rendered_prompt")
    expected = payload.get("rendered_prompt_sha256")
    if rendered is not None and expected and prompt_sha256(rendered) != expected:
        return "rendered_prompt does not match rendered_prompt_sha256"
    return None


# --- Verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of re-walking the chain."""

    ok: bool
    entries: int
    first_bad: str | None = None  # entry id (or line) where the chain breaks
    reason: str = ""
    note: str = ""  # something worth knowing that is not damage (e.g. the head anchor is one append behind)


@dataclass
class ChainWalk:
    """A chain walk's result with the ids and hashes of the entries that checked out."""

    result: VerifyResult
    ids: list[str]
    hashes: list[str]


def walk_chain(lines: list[str], prev: str = GENESIS, after: int = 0) -> ChainWalk:
    """Walk entries in order: sequence, link, hash and recorded content hashes; stop at the first bad one.

    `prev` and `after` start the walk mid-chain (a bundle of a date range: its first entry follows entry `after`,
    whose hash is `prev`); `entries` then counts the entries walked."""
    count, ids, hashes = after, [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            return ChainWalk(VerifyResult(False, count - after, f"line {number}", "not valid JSON (truncated or edited)"), ids, hashes)
        if not isinstance(entry, dict):
            return ChainWalk(VerifyResult(False, count - after, f"line {number}", "not an audit entry"), ids, hashes)
        count += 1
        ident = str(entry.get("id", f"line {number}"))
        seq = entry.get("seq")
        if seq != count:
            why = (f"sequence {seq} where {count} was expected: {entry_id(count)} is missing before it (removed)"
                   if isinstance(seq, int) and seq > count else
                   f"sequence {seq} where {count} was expected (reordered or duplicated)")
            return ChainWalk(VerifyResult(False, count - after, ident, why), ids, hashes)
        if entry.get("prev") != prev:
            return ChainWalk(VerifyResult(False, count - after, ident, "does not link to the entry before it (removed or reordered)"), ids, hashes)
        if entry_hash(entry) != entry.get("hash"):
            return ChainWalk(VerifyResult(False, count - after, ident, "content does not match its hash (altered)"), ids, hashes)
        problem = content_problem(entry)
        if problem:
            return ChainWalk(VerifyResult(False, count - after, ident, problem), ids, hashes)
        prev = entry["hash"]
        ids.append(ident)
        hashes.append(prev)
    return ChainWalk(VerifyResult(True, count - after), ids, hashes)


def verify_lines(lines: list[str]) -> VerifyResult:
    """Check a sequence of JSONL entries: hashes, links, sequence numbers, recorded content hashes."""
    return walk_chain(lines).result


def split_log(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines of a log file, and the unterminated fragment after the last newline (b'' if none)."""
    parts = data.split(b"\n")
    return parts[:-1], parts[-1]


def parse_head(raw: bytes | None) -> dict[str, Any] | None:
    """The head anchor's fields, None when there is none; raises ValueError when it is unreadable."""
    if raw is None:
        return None
    head = json.loads(raw.decode("utf-8"))
    if not isinstance(head, dict) or not isinstance(head.get("count"), int) or not isinstance(head.get("last_hash"), str):
        raise ValueError("missing count or last_hash")
    return head


def verify_log(data: bytes, head_raw: bytes | None) -> VerifyResult:
    """Verify a whole log file against its head anchor: chain, truncation, entries removed from the end."""
    complete, fragment = split_log(data)
    try:
        lines = [line.decode("utf-8") for line in complete]
    except UnicodeDecodeError:
        return VerifyResult(False, 0, "audit.jsonl", "not valid UTF-8 (edited or corrupted)")
    walk = walk_chain(lines)
    n = walk.result.entries
    if not walk.result.ok:
        return walk.result
    if fragment.strip():
        found = ID_IN_FRAGMENT.search(fragment)
        where = found.group(1).decode() if found else f"line {len(complete) + 1}"
        return VerifyResult(False, n, where, f"final line is incomplete ({len(fragment)} bytes without an end): truncated")
    try:
        head = parse_head(head_raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return VerifyResult(False, n, "HEAD", f"the head anchor is unreadable ({exc})")
    h_count = head["count"] if head else 0
    h_hash = head["last_hash"] if head else GENESIS
    if head is None and n > 1:
        return VerifyResult(False, n, "HEAD", f"the head anchor is missing, so entries removed from the end of these {n} "
                            "cannot be ruled out (deleted, or a log from an older SDI; `sdi audit repair` recreates it)")
    if n < h_count:
        last = walk.ids[-1] if walk.ids else "no entry"
        return VerifyResult(False, n, entry_id(n + 1), f"missing: the head anchor records {h_count} entries "
                            f"(last {entry_id(h_count)}) but the log ends at {last} (entries removed from the end)")
    anchor = walk.hashes[h_count - 1] if h_count else GENESIS
    if anchor != h_hash:
        where = walk.ids[h_count - 1] if h_count else (walk.ids[0] if walk.ids else "HEAD")
        return VerifyResult(False, n, where, "does not match the head anchor (rewritten, or the log was replaced)")
    if n > h_count + 1:
        return VerifyResult(False, n, walk.ids[h_count + 1], f"not covered by the head anchor ({h_count} entries): "
                            "entries were added without updating it")
    if n == h_count + 1:
        return VerifyResult(True, n, note=f"the head anchor is one entry behind ({walk.ids[-1]} was written but the "
                            "head not yet updated: an interrupted append); the next append updates it")
    return VerifyResult(True, n)
