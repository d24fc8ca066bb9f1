"""Writing a library out: JSON Lines (which `webreader import` takes back) or Markdown."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from markdownify import markdownify

from webreader.importers.jsonl import to_jsonl_line
from webreader.text import long_date

FORMATS = ("jsonl", "markdown", "opml")  # opml: the subscriptions, not the articles


def export_lines(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export, a line (JSON Lines) or an article (Markdown) at a time."""
    for row in rows:
        if fmt == "jsonl":
            yield to_jsonl_line(row) + "\n"
        else:
            yield to_markdown(row) + "\n"


def to_markdown(row: dict[str, Any]) -> str:
    """One article as Markdown: its title, a line of details, the body (markdownify)."""
    details = [
        long_date(row["published"], row["lang"]) if row.get("published") else None,
        row.get("source"),
        row.get("author"),
        "teaser" if row["kind"] == "teaser" else None,
    ]
    parts = [f"# {row['title']}", " · ".join(d for d in details if d)]
    if row.get("url"):
        parts.append(f"<{row['url']}>")
    if row.get("summary"):
        parts.append(f"> {row['summary']}")
    if row.get("html"):
        parts.append(markdownify(row["html"], heading_style="ATX").strip())
    return "\n\n".join(p for p in parts if p) + "\n\n---\n"
