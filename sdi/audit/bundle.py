"""Self-contained audit bundles: the log, its head anchor, every cited source text and a manifest of sha256s.

A bundle is checked on any machine with `sdi audit verify --bundle DIR` (no machine file, no SDI_HOME) and, for the
file hashes alone, with `sha256sum -c SHA256SUMS`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdi.audit.log import AuditLog, VerifyResult, canonical, cited, now_iso, sha256_text, split_log, verify_log
from sdi.errors import SdiError
from sdi.store.files import private_dir, secure_tree

FORMAT = "sdi-audit-bundle/1"
MANIFEST = "MANIFEST.json"
SUMS = "SHA256SUMS"
README = """SDI audit bundle
================
audit.jsonl   the audit log: one JSON entry per line, each chained to the one before (prev -> hash)
HEAD          the head anchor: entry count and the last entry's hash (detects entries cut from the end)
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
    complete, _ = split_log(data)
    out = []
    for line in complete:
        if line.strip():
            try:
                out.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # verify names it; the export still carries the bytes as they are
    return out


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(data)
    return _sha256_bytes(data)


def export_bundle(log: AuditLog, out: Path) -> dict[str, Any]:
    """Write the bundle into `out` (new or empty folder); returns its manifest."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SdiError(f"{out} already exists and is not an empty folder", "choose a new folder for the bundle")
    data, head_raw = log.snapshot()
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
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files[MANIFEST] = _write(out / MANIFEST, manifest_bytes)
    _write(out / SUMS, "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items())).encode())
    secure_tree(out)
    manifest["manifest_sha256"] = files[MANIFEST]
    return manifest


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
    check = BundleCheck(verify_log(data, head_raw))
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
