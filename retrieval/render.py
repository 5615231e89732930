"""Text reports of the retrieval stage: an index run and a list of search hits."""

from __future__ import annotations

import textwrap
from typing import Any


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def render_index(report: dict[str, Any]) -> str:
    """The text report of an index run."""
    lines = [
        f"indexed {_n(report['records'], 'service record')} and {_n(len(report['documents_indexed']), 'document')} "
        f"into {report['chunks']:,} chunks ({report['store']})",
        f"  embedded         {report['embedded']:>10,}",
        f"  unchanged        {report['unchanged']:>10,}",
        f"  metadata updated {report['metadata_updated']:>10,}",
        f"  removed          {report['removed']:>10,}",
        f"  documents        {len(report['documents_indexed']):>10,} indexed, {len(report['documents_refused']):,} refused",
    ]
    for refusal in report["documents_refused"]:
        lines.append(f"    refused {refusal['path']}: {refusal['reason']}")
    rate = f", {report['embedded'] / report['embed_seconds']:,.0f} chunks/s embedded" if report["embed_seconds"] else ""
    lines.append(f"  took {report['seconds']:.1f}s{rate}")
    return "\n".join(lines)


def render_hits(query: str, hits: list[dict[str, Any]]) -> str:
    """The text listing of search hits."""
    if not hits:
        return f"no results for {query!r} (check the filters, or run sdi index)"
    out = []
    for n, h in enumerate(hits, start=1):
        why = h["matched_by"] + (f": {', '.join(h['matched_terms'])}" if h["matched_terms"] else "")
        out.append(f"{n}. {h['chunk_id']}  chars {h['span'][0]}-{h['span'][1]}  score {h['score']:.4f}  ({why})")
        meta = " · ".join(str(x) for x in (h["serial"], h["model"], h["date"], h["record_type"]) if x)
        out.append(f"   {meta}")
        out.extend(textwrap.wrap(h["text"], width=100, initial_indent="   ", subsequent_indent="   "))
    return "\n".join(out)
