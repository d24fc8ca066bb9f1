"""JSON Lines, as `webreader export --format jsonl` writes it: one article per line."""

from __future__ import annotations

import json
from typing import Any

from webreader.importers.base import InvalidInput

# What an export holds of each article, and what an import takes back. Derived columns
# (id, slug, title_key, text, content_hash, sort_key) are rebuilt on import.
COLUMNS = (
    "kind", "title", "summary", "source", "lang", "published", "html", "author", "url",
    "image", "read_at", "starred_at", "source_path",
)  # fmt: skip


def looks_like_jsonl(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    """The articles of an export; a malformed line is an error naming its line number."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc.msg}") from exc
        if not isinstance(item, dict) or not str(item.get("title") or "").strip():
            raise InvalidInput(f"line {number} is not an article (no title)")
        if item.get("kind", "article") not in ("article", "teaser"):
            raise InvalidInput(f"line {number}: kind must be article or teaser")
        row = {column: item.get(column) for column in COLUMNS}
        row["kind"] = row["kind"] or "article"
        row["html"] = str(row["html"] or "")
        rows.append(row)
    if not rows:
        raise InvalidInput("no articles in the file")
    return rows


def to_jsonl_line(article: dict[str, Any]) -> str:
    return json.dumps({column: article.get(column) for column in COLUMNS}, ensure_ascii=False)
