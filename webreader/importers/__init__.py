"""Input files to stored articles: read, parse, sanitize (last), then save.

Each importer module turns one input format into plain article dicts;
import_file() finishes them and stores one file's articles in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courlan import normalize_url
from sqlite_utils import Database

from webreader import articles
from webreader.importers.base import InvalidInput, decode_text
from webreader.importers.htmlpage import looks_like_html, parse_html
from webreader.importers.jsonl import looks_like_jsonl, parse_jsonl
from webreader.importers.textdump import DumpRules, InvalidDump, parse_dump
from webreader.sanitize import clean_html, html_to_text, web_url
from webreader.text import make_slug, title_key

# Files a folder import picks up; a file named on the command line is read whatever its name.
IMPORT_SUFFIXES = frozenset({".txt", ".html", ".htm", ".jsonl"})
# Columns that make an article's content: a change in any of them is an update.
CONTENT_COLUMNS = ("kind", "title", "summary", "source", "lang", "published", "author", "url")

__all__ = ["DumpRules", "ImportResult", "InvalidDump", "InvalidInput", "find_files", "import_file"]


@dataclass
class ImportResult:
    path: Path
    status: str  # imported, updated, unchanged or failed
    article_id: int | None = None
    title: str | None = None
    teasers: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the dump files inside the folders named, recursively and sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMPORT_SUFFIXES
            )
        else:
            yield path


def finish(article: dict[str, Any], source_path: str) -> dict[str, Any]:
    """Sanitizes the body (always the last change to it) and derives the stored columns."""
    html = clean_html(article["html"])
    row = {**article, "html": html, "text": html_to_text(html), "source_path": source_path}
    row["title_key"] = title_key(row["title"])
    # Page and image addresses are shown as links: http(s) only, whatever the page said.
    row["image"] = web_url(row.get("image"))
    if web_url(row.get("url")):
        # One story, one URL: scheme and host case, tracking parameters and fragments aside.
        row["url"] = normalize_url(row["url"], strict=True)
    else:
        row["url"] = None
    row["slug"] = make_slug(row["title"])
    content = {k: row.get(k) for k in CONTENT_COLUMNS}
    content["html"] = html
    row["content_hash"] = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return row


def import_file(db: Database, path: Path, rules: DumpRules) -> ImportResult:
    """Imports one file; a bad file gives a failed result and leaves the database as it was."""
    warnings = []
    try:
        data = path.read_bytes()
        if looks_like_jsonl(data):
            return _import_jsonl(db, path, data)
        if looks_like_html(data):
            parsed = parse_html(data)
        else:
            text, encoding = decode_text(data)
            parsed = parse_dump(text, rules)
            if encoding:
                warnings.append(f"not UTF-8: read as {encoding}")
    except InvalidInput as exc:
        return ImportResult(path, "failed", error=str(exc))
    except OSError as exc:
        return ImportResult(path, "failed", error=exc.strerror or str(exc))
    source_path = str(path.resolve())
    article = finish(parsed.article, source_path)
    teasers = [finish(teaser, source_path) for teaser in parsed.teasers]
    saved = articles.save_dump(db, article, teasers)
    return ImportResult(
        path,
        saved["status"],
        article_id=saved["id"],
        title=parsed.article["title"],
        teasers=saved["teasers"],
        warnings=warnings + parsed.warnings,
    )


def _import_jsonl(db: Database, path: Path, data: bytes) -> ImportResult:
    """An export, imported back in one transaction: all its articles, or none."""
    rows = parse_jsonl(decode_text(data)[0])
    counts = {"imported": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    with db.atomic():
        for row in rows:
            source_path = row.pop("source_path") or str(path.resolve())
            status, _ = articles.save_entry(db, finish(row, source_path))
            counts[status] += 1
    status = "imported" if counts["imported"] else "updated" if counts["updated"] else "unchanged"
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "skipped")
    return ImportResult(path, status, title=f"{len(rows)} articles ({summary})")
