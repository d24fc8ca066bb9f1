"""JSON Lines, as `webreader export --format jsonl` writes it: one article per line."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from webreader.importers.base import InvalidInput

# What an export holds of each article, and what an import takes back. Derived columns
# (id, slug, title_key, text, content_hash, sort_key) are rebuilt on import.
COLUMNS = (
    "kind",
    "title",
    "summary",
    "source",
    "lang",
    "published",
    "html",
    "author",
    "url",
    "image",
    "read_at",
    "starred_at",
    "source_path",
)
# Every column is text (or null, but for the title); these hold dates or dates and times.
DATE_COLUMNS = ("published",)
TIME_COLUMNS = ("read_at", "starred_at")
# JSON may escape half of a UTF-16 pair ("\ud800"), which no UTF-8 text (nor SQLite) holds.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    bool: "true or false",
    int: "a number",
    float: "a number",
    str: "a string",
    type(None): "null",
}


def looks_like_jsonl(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_jsonl(text: str) -> list[tuple[int, dict[str, Any]]]:
    """The articles of an export, each with its line number; a malformed line is an error
    that names its line number (and the field at fault)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc.msg}") from exc
        except RecursionError as exc:  # [[[[...]]]] nested past what the parser follows
            raise InvalidInput(f"line {number} is not JSON we can read: nested too deep") from exc
        except ValueError as exc:  # a number of more than 4,300 digits, say
            raise InvalidInput(f"line {number} is not JSON we can read: {exc}") from exc
        if not isinstance(item, dict):
            raise InvalidInput(
                f"line {number} is not an article: {_JSON_TYPES[type(item)]}, not an object"
            )
        try:
            row = {column: _text(item.get(column), column) for column in COLUMNS}
        except ValueError as exc:
            raise InvalidInput(f"line {number}: {exc}") from exc
        if not (row["title"] or "").strip():
            raise InvalidInput(f"line {number} is not an article (no title)")
        if (row["kind"] or "article") not in ("article", "teaser"):
            raise InvalidInput(f"line {number}: kind must be article or teaser")
        row["kind"] = row["kind"] or "article"
        row["html"] = row["html"] or ""
        rows.append((number, row))
    if not rows:
        raise InvalidInput("no articles in the file")
    return rows


def _text(value: Any, column: str) -> str | None:
    """A column's value as the database stores it; ValueError names what is wrong."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, not {_JSON_TYPES[type(value)]}")
    value = _LONE_SURROGATE.sub("\ufffd", value)
    if column in DATE_COLUMNS + TIME_COLUMNS:
        if not value.strip():
            return None
        try:
            return _date(value) if column in DATE_COLUMNS else _time(value)
        except ValueError:
            example = "2024-11-27" if column in DATE_COLUMNS else "2024-12-01T09:00:00+00:00"
            raise ValueError(
                f"{column} must be an ISO date, like {example}, not {value[:40]!r}"
            ) from None
    return value


def _date(value: str) -> str:
    """A publication date, as the other importers store it: the day alone."""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return dt.datetime.fromisoformat(value).date().isoformat()


def _time(value: str) -> str:
    """When an article was read or starred: kept as written, once it is known to be one."""
    dt.datetime.fromisoformat(value)
    return value


def to_jsonl_line(article: dict[str, Any]) -> str:
    return json.dumps({column: article.get(column) for column in COLUMNS}, ensure_ascii=False)
