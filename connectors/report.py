"""Text rendering of an ingest report."""

from __future__ import annotations

from connectors.ingest import IngestReport


def render_ingest(report: IngestReport, show: int = 20) -> str:
    """Per-file row accounting and the first `show` rejections of each file."""
    out = [f"Import of {report.mapping}"]
    for f in report.files:
        balance = "ok" if f.balanced else "MISMATCH"
        out.append(
            f"- {f.file} -> {f.entity}: {f.rows_read:,} rows read = {f.rows_stored:,} stored + "
            f"{f.rows_rejected:,} rejected [{balance}]; {f.inserted:,} new, {f.updated:,} changed, {f.unchanged:,} unchanged"
            + (f", {f.duplicates_merged:,} identical duplicates merged" if f.duplicates_merged else "")
            + (f", {f.values_stored:,} metric values" if f.values_stored else "")
        )
        for note in f.notes:
            out.append(f"    note: {note}")
        if f.data_gaps:
            gaps = ", ".join(f"{name} missing on {n:,}" for name, n in sorted(f.data_gaps.items()))
            out.append(f"    data gaps (stored, flagged): {gaps}")
        for r in f.rejections[:show]:
            scope = "" if r.scope == "row" else " (value only; rest of row stored)"
            out.append(f"    {r.location} {r.line}: {r.reason}{scope}")
        if len(f.rejections) > show:
            out.append(f"    … {len(f.rejections) - show:,} more (sdi ingest --json lists all)")
    total_read = sum(f.rows_read for f in report.files)
    total_stored = sum(f.rows_stored for f in report.files)
    total_rejected = sum(f.rows_rejected for f in report.files)
    out.append(f"Total: {total_read:,} rows read, {total_stored:,} stored, {total_rejected:,} rejected")
    return "\n".join(out)
