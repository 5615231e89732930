"""Self-contained audit bundles: the log, its head anchor, every cited source text and a manifest of sha256s.

A bundle is checked on any machine with `sdi audit verify --bundle DIR` (no machine file, no SDI_HOME) and, for the
file hashes alone, with `sha256sum -c SHA256SUMS`. A bundle of a date range holds the entries of those days; its
manifest records where they sit in the chain (the entry before them and its hash), so the range verifies on its own.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sdi.audit.log import (
    AuditDamaged,
    AuditLog,
    VerifyResult,
    canonical,
    cited,
    entry_id,
    now_iso,
    parse_head,
    sha256_text,
    split_log,
    verify_log,
    walk_chain,
)
from sdi.audit.query import in_days
from sdi.errors import SdiError
from sdi.store.files import private_dir, secure_tree

FORMAT = "sdi-audit-bundle/1"
MANIFEST = "MANIFEST.json"
SUMS = "SHA256SUMS"
README = """SDI audit bundle
================
audit.jsonl   the audit log: one JSON entry per line, each chained to the one before (prev -> hash)
HEAD          the head anchor: entry count and the last entry's hash (detects entries cut from the end)
              (a bundle of a date range: MANIFEST.json "range" names its first and last entry and the hash before it)
sources/      every source text a draft cited, named by the sha256 of its UTF-8 text
MANIFEST.json sha256 of every file above, the entry count and the head
SHA256SUMS    the same hashes for `sha256sum -c SHA256SUMS`

Check everything (chain, head, manifest, every cited text):  sdi audit verify --bundle <this folder>
Re-read the exact prompt of a draft: each draft entry carries payload.prompt.template and payload.rendered_prompt
(sha256 in payload.rendered_prompt_sha256).
"""


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cited_sources(entries: list[dict[str, Any]]) -> dict[str, str]:
    """sha256 -> text of every source any entry's payload cites."""
    out: dict[str, str] = {}
    for entry in entries:
        for src in cited(entry.get("payload")):
            out[sha256_text(src["text"])] = src["text"]
    return out


def _entries(data: bytes) -> list[dict[str, Any]]:
    complete, _ = split_log(data)  # a line that is not JSON: verify names it; the export carries its bytes as they are
    return [e for line in complete if line.strip() and (e := _json(line)) is not None]


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    return _sha256_bytes(data)


def _in_range(data: bytes, since: date | None, until: date | None) -> tuple[bytes, dict[str, Any]]:
    """The log lines of the entries dated since..until (UTC days, inclusive) and where they sit in the chain."""
    complete, _ = split_log(data)
    parsed = [(line, e) for line, e in ((line, _json(line)) for line in complete if line.strip()) if e is not None]
    days = [(line, e) for line, e in parsed if in_days(e, since, until)]
    if not days:
        raise SdiError(f"no audit entries from {since or 'the start'} to {until or 'today'}", "widen the date range")
    first, last = days[0][1].get("seq"), days[-1][1].get("seq")
    if not isinstance(first, int) or not isinstance(last, int):
        raise SdiError("the audit log's entries carry no sequence numbers", "run `sdi audit verify`")
    lines = [line for line, e in parsed if isinstance(e.get("seq"), int) and first <= e["seq"] <= last]
    return b"".join(line + b"\n" for line in lines), {
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "first": entry_id(first), "last": entry_id(last), "after": first - 1, "prev": days[0][1].get("prev")}


def _json(line: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def export_bundle(log: AuditLog, out: Path, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """Write the bundle into `out` (new or empty folder), of the whole log or the entries since..until; returns its
    manifest."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SdiError(f"{out} already exists and is not an empty folder", "choose a new folder for the bundle")
    data, head_raw = log.snapshot()
    span = None
    if since is not None or until is not None:
        data, span = _in_range(data, since, until)
    entries = _entries(data)
    private_dir(out)
    files = {"audit.jsonl": _write(out / "audit.jsonl", data), "README.txt": _write(out / "README.txt", README.encode())}
    if head_raw is not None:
        files["HEAD"] = _write(out / "HEAD", head_raw)
    sources = cited_sources(entries)
    for digest, text in sorted(sources.items()):
        files[f"sources/{digest}.txt"] = _write(out / "sources" / f"{digest}.txt", text.encode("utf-8"))
    manifest = {
        "format": FORMAT,
        "created": now_iso(),
        "source_log": str(log.path.resolve()),
        "entries": len(entries),
        "head": json.loads(head_raw) if head_raw else None,
        "sources": len(sources),
        "files": dict(sorted(files.items())),
    }
    if span:
        manifest["range"] = span
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files[MANIFEST] = _write(out / MANIFEST, manifest_bytes)
    _write(out / SUMS, "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items())).encode())
    secure_tree(out)
    manifest["manifest_sha256"] = files[MANIFEST]
    return manifest


def export_recorded(log: AuditLog, out: Path, user: str | None = None, since: date | None = None,
                    until: date | None = None, via: str = "cli") -> tuple[dict[str, Any], list[str]]:
    """Export a bundle and record the export in the log (a damaged log is exported as it is, with a warning)."""
    state = log.verify()
    manifest = export_bundle(log, out, since, until)  # exported as it is, damage included: evidence is never rewritten
    warnings = [] if state.ok else [f"the log is damaged at {state.first_bad} ({state.reason}); exported as is"]
    payload = {"out": str(out.resolve()), "entries": manifest["entries"], "source_texts": manifest["sources"],
               "manifest_sha256": manifest["manifest_sha256"], "via": via}
    if "range" in manifest:
        payload["range"] = {k: manifest["range"][k] for k in ("since", "until", "first", "last")}
    try:
        manifest["audit_id"] = log.append("audit_export", payload, user)["id"]
    except AuditDamaged as exc:
        warnings.append(f"the export is not recorded in the log: {exc.message}")
    return manifest, warnings


def archive(folder: Path, target: Path) -> Path:
    """Pack a bundle folder into `target` (.tar.gz) under its own folder name; returns `target`."""
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return target


@dataclass
class BundleCheck:
    """What `verify --bundle` found: the chain result plus every file and source check."""

    chain: VerifyResult
    files: int = 0
    sources: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Chain intact and no file, manifest or source problem."""
        return self.chain.ok and not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ok": self.ok, "entries": self.chain.entries, "first_bad": self.chain.first_bad,
                "reason": self.chain.reason, "note": self.chain.note, "files": self.files,
                "sources": self.sources, "problems": self.problems}


def _check_files(folder: Path, manifest: dict[str, Any], check: BundleCheck) -> None:
    listed: dict[str, str] = manifest.get("files") or {}
    for name, sha in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            check.problems.append(f"{name}: listed in the manifest but missing")
        elif _sha256_bytes(path.read_bytes()) != sha:
            check.problems.append(f"{name}: sha256 differs from the manifest (altered)")
        else:
            check.files += 1
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in listed and name not in (MANIFEST, SUMS):
            check.problems.append(f"{name}: not listed in the manifest (added)")


def _check_sources(folder: Path, entries: list[dict[str, Any]], check: BundleCheck) -> None:
    for entry in entries:
        for src in cited(entry.get("payload")):
            digest = src.get("sha256") or sha256_text(src["text"])
            path = folder / "sources" / f"{digest}.txt"
            label = f"{entry.get('id')} source {src.get('id')} ({src.get('source_id')})"
            if not path.is_file():
                check.problems.append(f"{label}: sources/{digest}.txt is missing")
            elif _sha256_bytes(path.read_bytes()) != digest:
                check.problems.append(f"{label}: sources/{digest}.txt does not hash to its name (altered)")
            elif path.read_bytes() != src["text"].encode("utf-8"):
                check.problems.append(f"{label}: sources/{digest}.txt differs from the text in the entry")
            else:
                check.sources += 1


def verify_bundle(folder: Path) -> BundleCheck:
    """Check a bundle without any SDI home: manifest hashes, chain and head, and every cited source text."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise SdiError(f"{folder} is not an audit bundle (no {MANIFEST})", "point --bundle at the folder `sdi audit export` wrote")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SdiError(f"{manifest_path} is not valid JSON", "the bundle is damaged; export it again") from exc
    if manifest.get("format") != FORMAT:
        raise SdiError(f"{manifest_path} has format {manifest.get('format')!r}, not {FORMAT}", "export with this SDI version")
    log_path, head_path = folder / "audit.jsonl", folder / "HEAD"
    data = log_path.read_bytes() if log_path.is_file() else b""
    head_raw = head_path.read_bytes() if head_path.is_file() else None
    span = manifest.get("range")
    check = BundleCheck(_verify_range(data, head_raw, span) if isinstance(span, dict) else verify_log(data, head_raw))
    _check_files(folder, manifest, check)
    entries = _entries(data)
    if manifest.get("entries") != len(entries):
        check.problems.append(f"the manifest records {manifest.get('entries')} entries, the log holds {len(entries)}")
    if head_raw is not None:
        try:
            same = canonical(json.loads(head_raw)) == canonical(manifest.get("head"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            same = False
        if not same:
            check.problems.append("HEAD differs from the head recorded in the manifest")
    _check_sources(folder, entries, check)
    return check


def _verify_range(data: bytes, head_raw: bytes | None, span: dict[str, Any]) -> VerifyResult:
    """Verify a date range's entries: each links to the one before, the first to the hash the manifest records;
    when the range reaches the log's end, the last must match the head anchor."""
    complete, fragment = split_log(data)
    try:
        lines = [line.decode("utf-8") for line in complete]
    except UnicodeDecodeError:
        return VerifyResult(False, 0, "audit.jsonl", "not valid UTF-8 (edited or corrupted)")
    after, prev = span.get("after"), span.get("prev")
    if not isinstance(after, int) or not isinstance(prev, str):
        return VerifyResult(False, 0, MANIFEST, "its range names no entry to start after")
    walk = walk_chain(lines, prev, after)
    if not walk.result.ok:
        return walk.result
    if fragment.strip():
        return VerifyResult(False, walk.result.entries, f"line {len(complete) + 1}", "final line is incomplete: truncated")
    if not walk.ids or walk.ids[-1] != span.get("last") or walk.ids[0] != span.get("first"):
        return VerifyResult(False, walk.result.entries, MANIFEST,
                            f"the range should run {span.get('first')}..{span.get('last')}; the log holds "
                            f"{walk.ids[0] if walk.ids else 'nothing'}..{walk.ids[-1] if walk.ids else ''}")
    try:
        head = parse_head(head_raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return VerifyResult(False, walk.result.entries, "HEAD", f"the head anchor is unreadable ({exc})")
    last_seq = after + walk.result.entries
    if head and head["count"] == last_seq and head["last_hash"] != walk.hashes[-1]:
        return VerifyResult(False, walk.result.entries, walk.ids[-1], "does not match the head anchor (rewritten)")
    total = head["count"] if head else last_seq
    return VerifyResult(True, walk.result.entries, note=(
        f"a date range: entries {span.get('first')}..{span.get('last')} of {total}; the first links to "
        f"{str(prev)[:16]}…, the hash of {entry_id(after) if after else 'the chain start'} in the full log"))
