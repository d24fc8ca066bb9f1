"""Input files to stored articles: read, parse, sanitize (last), then save.

Each importer module turns one input format into plain article dicts;
import_file() finishes them and stores one file's articles in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from courlan import normalize_url
from sqlite_utils import Database

from webreader import articles, duplicates, stems
from webreader.db import writing
from webreader.importers.base import InvalidInput, decode_text
from webreader.importers.feed import FEED_TYPES, looks_like_feed, parse_feed
from webreader.importers.htmlpage import looks_like_html, parse_html
from webreader.importers.jsonl import looks_like_jsonl, parse_jsonl
from webreader.importers.opml import looks_like_opml, parse_opml
from webreader.importers.textdump import DumpRules, InvalidDump, parse_dump
from webreader.importers.web import Fetched, fetch
from webreader.sanitize import MarkupTooLarge, clean_html, html_to_text, web_url
from webreader.text import make_slug, title_key

# Files a folder import picks up; a file named on the command line is read whatever its name.
IMPORT_SUFFIXES = frozenset({".txt", ".html", ".htm", ".jsonl", ".xml", ".rss", ".atom", ".opml"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Columns that make an article's content: a change in any of them is an update.
# Columns the search index holds (db.py's triggers stem them).
INDEXED = ("title", "text")
CONTENT_COLUMNS = ("kind", "title", "summary", "source", "lang", "published", "author", "url")

__all__ = [
    "DumpRules",
    "ImportResult",
    "InvalidDump",
    "InvalidInput",
    "find_files",
    "import_file",
    "import_sources",
    "import_upload",
    "import_url",
]


@dataclass
class ImportResult:
    path: Path | str  # a file, or a URL
    status: str  # imported, updated, unchanged or failed
    article_id: int | None = None
    title: str | None = None
    teasers: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    # A feed or an export holds many articles: how many were imported, updated, unchanged.
    counts: dict[str, int] | None = None
    feed_title: str | None = None  # a feed's own title, when it states one


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
    """Sanitizes the body (always the last change to it) and derives the stored columns.
    Raises InvalidInput for a body larger than an article is (see sanitize.check_size).
    Called before the write transaction, never in it: it can take a second, and every
    other writer (the server marking an article read) would wait for it."""
    try:
        html = clean_html(article["html"])
    except MarkupTooLarge as exc:
        raise InvalidInput(str(exc)) from exc
    row = {**article, "html": html, "text": html_to_text(html), "source_path": source_path}
    row["title_key"] = title_key(row["title"])
    # Page and image addresses are shown as links: http(s) only, whatever the page said.
    row["image"] = web_url(row.get("image"))
    row["url"] = _page_url(row.get("url"))
    row["slug"] = make_slug(row["title"])
    content = {k: row.get(k) for k in CONTENT_COLUMNS}
    content["html"] = html
    row["content_hash"] = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return {**row, **articles.derived_columns(row)}


def _page_url(url: str | None) -> str | None:
    """One story, one URL: scheme and host case, tracking parameters and fragments aside.
    None for anything but a well-formed http(s) URL (a page may name any canonical URL)."""
    if not web_url(url):
        return None
    try:
        parts = urlsplit(url.strip())
        if not parts.hostname or parts.port == 0:
            return None
        return normalize_url(url, strict=True)
    except ValueError:  # http://[::1, a port that is no number or out of range
        return None


def import_file(
    db: Database, path: Path, rules: DumpRules, *, fetch_full: bool = False
) -> ImportResult:
    """Imports one file; a bad file gives a failed result and leaves the database as it was."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportResult(path, "failed", error=exc.strerror or str(exc))
    return _import(db, data, path, str(path.resolve()), rules, fetch_full=fetch_full)


def import_url(
    db: Database,
    url: str,
    rules: DumpRules,
    *,
    fetch_full: bool = False,
    public_only: bool = False,
) -> ImportResult:
    """Fetches a page or a feed and imports it (see webreader.importers.web for the limits)."""
    try:
        fetched = fetch(url, public_only=public_only)
    except InvalidInput as exc:
        return ImportResult(url, "failed", error=str(exc))
    return _import(
        db,
        fetched.data,
        url,
        fetched.url,
        rules,
        url=fetched.url,
        content_type=fetched.content_type,
        fetch_full=fetch_full,
    )


def import_upload(db: Database, name: str, data: bytes, rules: DumpRules) -> ImportResult:
    """A file sent through the page's Add form."""
    return _import(db, data, name, f"upload:{name}", rules)


@dataclass
class _Prepared:
    """One page or dump, parsed, sanitized and derived: all of an import but the write,
    which is what a worker process can do. Picklable."""

    origin: Path | str
    article: dict[str, Any]
    teasers: list[dict[str, Any]]
    title: str
    warnings: list[str]
    signature: Any = None  # the article's MinHash (duplicates.py), made where it was prepared
    # What the search index's triggers ask of its texts (stems.work_out), made there too.
    stems: dict = field(default_factory=dict)


def _import(
    db: Database,
    data: bytes,
    origin: Path | str,
    source_path: str,
    rules: DumpRules,
    *,
    url: str | None = None,
    content_type: str | None = None,
    fetch_full: bool = False,
) -> ImportResult:
    """Tells the format (by the server's content type, else by the bytes) and imports."""
    try:
        if looks_like_opml(data):  # served as XML, as feeds are
            return _import_opml(db, origin, data)
        if content_type in FEED_TYPES or looks_like_feed(data):
            return _import_feed(db, origin, source_path, data, url, rules, fetch_full)
        if content_type is None and looks_like_jsonl(data):
            return _import_jsonl(db, origin, data)
        prepared = _prepare(data, origin, source_path, rules, url=url, content_type=content_type)
    except InvalidInput as exc:
        return ImportResult(origin, "failed", error=str(exc))
    return _store(db, prepared)


def _prepare(
    data: bytes,
    origin: Path | str,
    source_path: str,
    rules: DumpRules,
    *,
    url: str | None = None,
    content_type: str | None = None,
) -> _Prepared:
    """A page or a dump, ready to store; InvalidInput says why not."""
    warnings = []
    if content_type in HTML_TYPES or (content_type is None and looks_like_html(data)):
        parsed = parse_html(data, url=url)
    elif content_type in (None, "text/plain"):
        text, encoding = decode_text(data)
        parsed = parse_dump(text, rules)
        if encoding:
            warnings.append(f"not UTF-8: read as {encoding}")
    else:
        raise InvalidInput(f"not a web page, feed or text (the server sent {content_type})")
    article, signature = _signed(finish(parsed.article, source_path))
    teasers = [finish(teaser, source_path) for teaser in parsed.teasers]
    texts = [(row[column], row["lang"]) for row in [article, *teasers] for column in INDEXED]
    return _Prepared(
        origin,
        article,
        teasers,
        parsed.article["title"],
        warnings + parsed.warnings,
        signature,
        stems.work_out(texts),
    )


def _store(db: Database, prepared: _Prepared) -> ImportResult:
    """Writes a prepared page or dump: one transaction, which has nothing left to work out."""
    saved = articles.save_dump(db, prepared.article, prepared.teasers, prepared.signature)
    return ImportResult(
        prepared.origin,
        saved["status"],
        article_id=saved["id"],
        title=prepared.title,
        teasers=saved["teasers"],
        warnings=prepared.warnings,
    )


def _prepare_file(path: Path, rules: DumpRules) -> _Prepared | ImportResult | None:
    """A file read and prepared, a failure, or None for a feed or an export, which the
    writing process imports whole (one transaction, maybe fetches)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ImportResult(path, "failed", error=exc.strerror or str(exc))
    if looks_like_feed(data) or looks_like_jsonl(data) or looks_like_opml(data):
        return None
    try:
        return _prepare(data, path, str(path.resolve()), rules)
    except InvalidInput as exc:
        return ImportResult(path, "failed", error=str(exc))


# Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 40
# Files a worker process prepares at a time: one task each would spend a good part of the
# time passing tasks and results between processes.
FILES_PER_TASK = 8
# Prepared files written in one transaction, at most: a transaction costs about as much as
# storing an article (the commit, and the search index's pending words written out as a
# new segment), and while it lasts the server's writes (a read mark) wait for it.
FILES_PER_TRANSACTION = 100
# ...and at most about this many characters of HTML and text: a hundred large pages would
# hold the write lock for seconds.
BYTES_PER_TRANSACTION = 4_000_000

_worker_rules: DumpRules | None = None


def _start_worker(rules: DumpRules) -> None:
    global _worker_rules
    _worker_rules = rules


def _prepare_files(paths: list[Path]) -> list[_Prepared | ImportResult | None]:
    """In a worker process: _prepare_file for a few files, with the rules it started with."""
    assert _worker_rules is not None
    return [_prepare_file(path, _worker_rules) for path in paths]


def _prepared_in_order(
    sources: list[Path | str], rules: DumpRules, jobs: int
) -> Iterator[tuple[Path | str, _Prepared | ImportResult | None, bool]]:
    """Each source with what preparing it gave (None: a URL, a feed or an export, for the
    writer to import whole), in order, and whether the next one is prepared already.

    With jobs > 1 (and enough files), files are read, parsed, sanitized and signed in that
    many worker processes, a bounded window ahead of the writer."""
    files = [s for s in sources if isinstance(s, Path)]
    if jobs <= 1 or len(files) < PARALLEL_MIN_FILES:
        for number, source in enumerate(sources, start=1):
            ready = _prepare_file(source, rules) if isinstance(source, Path) else None
            yield source, ready, number % FILES_PER_TRANSACTION != 0
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(rules,)
    ) as pool:
        window = jobs * 4  # tasks prepared or in preparation ahead of the writer, at most
        pending: deque = deque()  # (sources, their future or None for URLs)
        queue = iter(sources)

        def fill() -> None:
            while len(pending) < window:
                chunk: list[Path | str] = []
                for source in queue:
                    chunk.append(source)
                    if isinstance(source, str) or len(chunk) == FILES_PER_TASK:
                        break
                if not chunk:
                    return
                paths = [s for s in chunk if isinstance(s, Path)]
                if paths:
                    pending.append((paths, pool.submit(_prepare_files, paths)))
                if isinstance(chunk[-1], str):
                    pending.append(([chunk[-1]], None))

        fill()
        while pending:
            chunk, future = pending.popleft()
            fill()
            results = future.result() if future is not None else [None]
            for number, (source, ready) in enumerate(zip(chunk, results, strict=True), 1):
                more = number < len(chunk) or bool(
                    pending and pending[0][1] is not None and pending[0][1].done()
                )
                yield source, ready, more


def import_sources(
    db: Database,
    sources: Iterable[Path | str],
    rules: DumpRules,
    *,
    fetch_full: bool = False,
    jobs: int = 1,
) -> Iterator[tuple[Path | str, ImportResult]]:
    """Imports files and URLs, in order, yielding each one's result once it is stored.

    Prepared files that are waiting for the writer are stored together, up to
    FILES_PER_TRANSACTION in one transaction, each in a savepoint of its own: a file is
    still stored whole or not at all. A URL, a feed or an export is imported on its own."""
    waiting: list[tuple[Path | str, _Prepared]] = []
    size = 0
    prepared = _prepared_in_order(list(sources), rules, jobs)
    try:
        for source, ready, more in prepared:
            if isinstance(ready, _Prepared):
                waiting.append((source, ready))
                size += len(ready.article["html"]) + len(ready.article["text"])
                if more and len(waiting) < FILES_PER_TRANSACTION and size < BYTES_PER_TRANSACTION:
                    continue
            batch, waiting, size = waiting, [], 0
            yield from _store_together(db, batch)
            if isinstance(ready, ImportResult):
                yield source, ready
            elif ready is None and isinstance(source, Path):
                yield source, import_file(db, source, rules, fetch_full=fetch_full)
            elif ready is None:
                yield source, import_url(db, source, rules, fetch_full=fetch_full)
    except Exception:
        # Preparing a file failed in a way no file should (a bug, a worker that died): the
        # files prepared before it still go in, then the import stops with the error.
        yield from _store_together(db, waiting)
        raise
    yield from _store_together(db, waiting)


def _store_together(
    db: Database, waiting: list[tuple[Path | str, _Prepared]]
) -> Iterator[tuple[Path | str, ImportResult]]:
    """Prepared files in one transaction. Should one fail to store (a full disk, say), the
    files before it are kept and the error raised: the import stops there, as it would
    have with a transaction a file."""
    if not waiting:
        return
    stored, failure = [], None
    ahead = {key: value for _, prepared in waiting for key, value in prepared.stems.items()}
    with writing(db), stems.worked_out(ahead):
        for source, prepared in waiting:
            try:
                with writing(db):  # nested: a savepoint, so that this file goes in whole or not
                    result = _store(db, prepared)
            except Exception as exc:
                failure = exc
                break
            stored.append((source, result))
        if failure is not None and not db.conn.in_transaction:
            stored = []  # SQLite rolled the whole transaction back (a full disk, an I/O error)
    yield from stored
    if failure is not None:
        raise failure


def import_feed(
    db: Database,
    fetched: Fetched,
    rules: DumpRules,
    *,
    fetch_full: bool,
    public_only: bool,
    subscription_id: int | None = None,
) -> ImportResult:
    """A feed fetched for a subscription (subscriptions.py), imported like any feed; its
    articles note the subscription (the APIs' feed)."""
    return _import_feed(
        db,
        fetched.url,
        fetched.url,
        fetched.data,
        fetched.url,
        rules,
        fetch_full,
        public_only,
        subscription_id,
    )


def complete_teaser(
    db: Database, url: str, source: str | None, *, public_only: bool = False
) -> int | None:
    """A teaser's page fetched and stored as its article (the API's fetch-content): an HTML
    page's article only, never what else the address might serve (a feed, an OPML file,
    an export would import or subscribe to anything its author chose). The article's id."""
    fetched = fetch(url, public_only=public_only)
    data = fetched.data
    if looks_like_opml(data) or looks_like_feed(data) or fetched.content_type in FEED_TYPES:
        raise InvalidInput("the address serves a feed or a list of feeds, not an article")
    article = parse_html(data, url=fetched.url).article
    row = finish({**article, "source": source or article.get("source")}, fetched.url)
    signed_row, values = _signed(row)
    with writing(db):
        return _save_entry_id(db, signed_row, values)


def _save_entry_id(db: Database, row: dict[str, Any], values: Any) -> int | None:
    return articles.save_entry(db, row, values)[1]


# A feed with --full-text: pages fetched in one check, at most, and for how long. The rest
# stay summaries this time (a feed of 100 teasers must not take 25 minutes of fetching).
MAX_FULL_TEXT_PAGES = 30
FULL_TEXT_SECONDS = 120


def _import_feed(
    db, origin, source_path, data, url, rules, fetch_full, public_only=False, subscription_id=None
) -> ImportResult:
    """A feed's entries, in one transaction. With fetch_full, an entry that carries only a
    summary is replaced by its page, fetched and extracted (a failure keeps the summary)."""
    title, entries = parse_feed(data, url=url)
    warnings = []
    rows = []
    fetched_pages = 0
    deadline = time.monotonic() + FULL_TEXT_SECONDS
    for entry in entries:
        if fetch_full and entry["kind"] == "teaser" and entry.get("url"):
            page_url = _page_url(entry["url"]) or entry["url"]
            if articles.has_full_article(db, page_url, title_key(entry["title"])):
                continue  # completed by an earlier check: its page is not fetched again
            if fetched_pages == MAX_FULL_TEXT_PAGES or time.monotonic() > deadline:
                warnings.append(
                    f"{entry['url']}: kept the summary; its page is fetched when the feed "
                    f"next changes (a check fetches {MAX_FULL_TEXT_PAGES} pages at most)"
                )
            else:
                fetched_pages += 1
                try:
                    page = fetch(entry["url"], public_only=public_only)
                    article = parse_html(page.data, url=page.url).article
                    entry = {**article, "source": entry["source"]}
                except InvalidInput as exc:
                    warnings.append(f"{entry['url']}: {exc}; kept the summary")
        try:
            row = finish(entry, entry.get("url") or source_path)
        except InvalidInput as exc:
            raise InvalidInput(f"entry {entry['title'][:80]!r}: {exc}") from exc
        if subscription_id is not None:
            row["subscription_id"] = subscription_id
        rows.append(_signed(row))
    counts = {"imported": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    with writing(db):
        for row, values in rows:
            counts[_save_entry(db, row, values)] += 1
    result = _many(origin, f"{title or 'feed'}: {len(rows)} entries", counts, warnings)
    result.feed_title = title
    return result


def _many(origin, what: str, counts: dict[str, int], warnings: list[str]) -> ImportResult:
    status = "imported" if counts["imported"] else "updated" if counts["updated"] else "unchanged"
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "skipped")
    return ImportResult(
        origin, status, title=f"{what} ({summary})", warnings=warnings, counts=counts
    )


def _import_jsonl(db: Database, path: Path, data: bytes) -> ImportResult:
    """An export, imported back in one transaction: all its articles, or none. Every line
    is read, cleaned and signed first; the transaction only stores."""
    rows = []
    for number, (line, row) in enumerate(parse_jsonl(decode_text(data)[0]), start=1):
        # An article from elsewhere has no source_path of its own: its place in this
        # file is one, so that the file's articles do not replace one another.
        source_path = row.pop("source_path") or f"{Path(path).resolve()}#{number}"
        try:
            rows.append(_signed(finish(row, source_path)))
        except InvalidInput as exc:
            raise InvalidInput(f"line {line}: {exc}") from exc
    counts = {"imported": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    with writing(db):
        for row, values in rows:
            counts[_save_entry(db, row, values)] += 1
    return _many(path, f"{len(rows)} articles", counts, [])


def _import_opml(db: Database, origin: Path | str, data: bytes) -> ImportResult:
    """An OPML file: a subscription to each of its feeds (those not subscribed to yet), due
    at once; the refresher (or `webreader refresh`) fetches them."""
    from webreader import subscriptions

    added = subscriptions.add_many(db, parse_opml(data))
    skipped = added["skipped"]
    counts = {
        "subscribed": added["added"],
        "already subscribed": added["known"],
        "skipped": len(skipped),
    }
    status = "imported" if added["added"] else "unchanged"
    summary = f"{added['added']} subscriptions added, {added['known']} already there"
    if skipped:
        summary += f", {len(skipped)} skipped"
    return ImportResult(
        origin,
        status,
        title=f"OPML: {summary}",
        counts=counts,
        warnings=[f"skipped {reason}" for reason in skipped],
    )


def _signed(row: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """A finished row and its MinHash signature (duplicates.py), made before the write
    transaction rather than in it; None for a teaser, which is not signed."""
    return row, duplicates.signature(row["text"]) if row["kind"] == "article" else None


def _save_entry(db: Database, row: dict[str, Any], values: Any) -> str:
    return articles.save_entry(db, row, values)[0]
