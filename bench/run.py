"""webreader's benchmarks: what a reader feels, and what the server can take.

- First opens (a click on a new headline, which marks it read): one after another, as
  fragments and as full pages, server time from the access log; then under wrk, over
  articles never opened before. Revisits of the same articles, replayed from cache.
- A click timed in Chromium, from the click to the article's heading focused.
- Search as a reader types (a request a keystroke, each query new), one after another and
  under wrk; the search query alone.
- Throughput and latency under waitress against a minimal Flask app under the same settings
  (the ratio is what to compare across machines), Datasette on the same file, import
  throughput, peak memory, and bytes over the wire.

    python bench/run.py                                   # 100,000 articles (the targets)
    python bench/run.py --articles 300 --duration 1       # smoke size, as CI runs it
    python bench/run.py --db LIBRARY --write BENCHMARKS.md   # a copy of LIBRARY; write results

Needs wrk (Debian's package) as the load generator, Chromium with Playwright for the click,
Datasette (pip) for the comparison. Every figure is measured in this run, on this machine;
nothing is asserted. bench/scale.py measures how the reader's costs grow with the library.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402
import importing  # noqa: E402
from measures import (  # noqa: E402
    THREADS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    Server,
    article_paths,
    click_timings,
    fetch,
    free_port,
    load,
    search_paths,
    search_queries,
    timed,
    typed_queries,
    unread_paths,
)

# First opens timed one after another, fragments and full pages; and articles never opened
# for the load of first opens (wrk), more than it can request in --duration at full size.
FIRST_OPENS = 200
NEVER_OPENED = 20_000
CLICKS = 40


def search_latency(db_path: Path, queries: list[str]) -> dict[str, float]:
    """The search query itself (complete the word being typed, rank, fetch the best), in
    this process, ms per query."""
    from webreader import articles, search
    from webreader.db import connect

    db = connect(db_path)
    timings = []
    worst = {}
    for query in queries:
        parsed = search.parse_query(query)
        started = time.perf_counter()
        articles.search_articles(db, articles.complete(db, parsed).fts)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        worst[query] = max(worst.get(query, 0), elapsed)
    db.close()
    timings.sort()
    slowest = max(worst, key=worst.get)
    return {
        "p50": statistics.median(timings),
        "p99": timings[int(len(timings) * 0.99) - 1],
        "max": timings[-1],
        "slowest": slowest,
    }


def import_throughput(folder: Path, dumps: int) -> dict:
    """The import command on generated dumps, with one process and with its defaults, and
    the milliseconds an article spends in each stage (bench/importing.py)."""
    paths = generate.write_dumps(folder / "dumps", dumps)
    return {
        "stages": importing.stages(paths),
        "one": importing.command(folder / "dumps", folder / "import-1.db", jobs=1),
        "default": importing.command(folder / "dumps", folder / "import-n.db"),
        "html_kb": statistics.mean(p.stat().st_size for p in paths) / 1024,
    }


def _times(what: str, notes: dict, name: str) -> str:
    """A table row: server time (access log) and client time, p50 / p99, one after another."""
    server, client = notes[name]["server"], notes[name]["client"]
    return (
        f"| {what}, {server['n']} in turn: server p50 / p99 (client p50 / p99) | "
        f"{server['p50']:.1f} / {server['p99']:.1f} ms "
        f"({client['p50']:.1f} / {client['p99']:.1f} ms) |"
    )


def _distinct(counts: tuple[int, int]) -> str:
    """How many requests a load made against how many different paths it had."""
    made, paths = counts
    if made <= paths:
        return f"{made:,} requests, each different"
    return f"{made:,} requests over {paths:,} paths (the rest were repeats)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per measure")
    parser.add_argument("--dumps", type=int, default=1000, help="dumps for the import measure")
    parser.add_argument("--db", type=Path, help="reuse (or create) this generated library")
    parser.add_argument("--write", type=Path, help="write the results as Markdown here")
    parser.add_argument("--no-datasette", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="webreader-bench-"))
    db_path = args.db or work / "library.db"
    started = time.perf_counter()
    if args.db and args.db.exists():
        # The run marks articles read: it works on a copy, and the library stays as it was.
        db_path = work / "library.db"
        with sqlite3.connect(args.db) as source, sqlite3.connect(db_path) as copy:
            source.backup(copy)
        library = f"{args.articles:,} articles (a copy of {args.db.name})"
    else:
        generate.write_library(db_path, args.articles)
        library = f"{args.articles:,} articles (generated in {time.perf_counter() - started:.0f} s)"
    rows = []
    notes = {}

    def row(name, result, baseline=None):
        ratio = f"{result['rps'] / baseline['rps']:.2f}×" if baseline else ""
        rows.append(
            (
                name,
                f"{result['rps']:,.0f}",
                f"{result['p50']:.1f}",
                f"{result['p99']:.1f}",
                ratio,
                str(result.get("errors", 0)),
            )
        )

    hello = Server(
        [sys.executable, str(HERE / "hello.py"), "--threads", str(THREADS), "--db", str(db_path)]
    )
    reader = Server(
        [
            sys.executable,
            "-m",
            "webreader",
            "serve",
            "--db",
            str(db_path),
            "--port",
            "0",
            "--threads",
            str(THREADS),
        ]
    )
    try:
        base = load(hello.url, ["/"], args.duration)
        row("Flask hello (baseline)", base)
        # A reader who chose a theme sends the preferences cookie back with every request
        # (on loopback there is no login, and visitors get no session cookie).
        settings = urllib.request.Request(
            reader.url + "/settings", data=b"theme=dark", headers={"HX-Request": "true"}
        )
        with urllib.request.urlopen(settings) as response:
            cookie = response.headers["Set-Cookie"].split(";")[0]
        htmx = {"HX-Request": "true", "Cookie": cookie}
        browser = {"Cookie": cookie}

        # A reader going through new articles: every click a first open, which marks the
        # article read (a write: the library's generation moves on, every cached response
        # is stale). One after another, newest first; then the same again (revisits).
        count = min(FIRST_OPENS, args.articles // 6)
        new = unread_paths(db_path, 0, 2 * count + NEVER_OPENED)
        firsts, first_pages, never_opened = new[:count], new[count : 2 * count], new[2 * count :]
        notes["first_fragment"] = timed(reader, firsts, htmx)
        notes["first_page"] = timed(reader, first_pages, browser)
        timed(reader, firsts, htmx)  # rendered again once: the library changed since
        notes["revisit_fragment"] = timed(reader, firsts, htmx)
        notes["clicks"] = click_timings(reader.url, CLICKS)
        first_load = load(reader.url, never_opened, args.duration, htmx)
        row("first opens, articles never opened (htmx)", first_load, base)
        notes["never_opened"] = (first_load["requests"], len(never_opened))

        fragments = article_paths(db_path, 500, newest=False)
        pages = article_paths(db_path, 50, newest=True)
        for path in fragments:  # opened (and so read) before the load: revisits
            fetch(reader.url + path, htmx)
            fetch(reader.url + path, htmx)
        for path in pages:
            fetch(reader.url + path, browser)
            fetch(reader.url + path, browser)
        plain = [f"/plain/{p.split('/')[2]}" for p in fragments]
        row("plain Flask view: HTML from SQLite", load(hello.url, plain, args.duration), base)
        row("article fragment (htmx)", load(reader.url, fragments, args.duration, htmx), base)
        row("full page (newest 50)", load(reader.url, pages, args.duration, browser), base)

        # Search as a reader types: a request a keystroke, each query new (none replayed).
        typed = search_paths(typed_queries(12_000))
        notes["typing"] = timed(reader, typed[:400], htmx)
        typing = load(reader.url, typed[400:], args.duration, htmx)
        row("search as you type, 8 connections, each query new (htmx)", typing, base)
        notes["typing_load"] = (typing["requests"], len(typed) - 400)
        words = search_queries(2000)
        asked = search_paths(words)
        for path in asked:
            fetch(reader.url + path, htmx)
        again = load(reader.url, asked, args.duration, htmx)
        row("search, queries asked before (htmx)", again, base)
        serve_rss, serve_peak = reader.memory_mb()

        fragment_bytes = fetch(reader.url + fragments[0], htmx)
        page = fetch(reader.url + fragments[0])
        static = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.decode())
        assets = [fetch(reader.url + src) for src in static]
        notes["bytes"] = {
            "fragment": len(fragment_bytes),
            "fragment_gz": len(gzip.compress(fragment_bytes)),
            "page": len(page) + sum(map(len, assets)),
            "page_gz": len(gzip.compress(page)) + sum(len(gzip.compress(a)) for a in assets),
            "page_html": len(page),
        }
        if not args.no_datasette:
            port = free_port()
            datasette = Server(
                [
                    sys.executable,
                    "-m",
                    "datasette",
                    "serve",
                    str(db_path),
                    "--port",
                    str(port),
                    "--setting",
                    "num_sql_threads",
                    str(THREADS),
                ],
                url_pattern=rf"http://127\.0\.0\.1:{port}",
                url_on_stderr=True,  # uvicorn announces itself there
            )
            try:
                name = db_path.stem
                ids = [p.split("/")[2] for p in fragments]
                row(
                    "Datasette row page",
                    load(datasette.url, [f"/{name}/articles/{i}" for i in ids], args.duration),
                    base,
                )
                row(
                    "Datasette row JSON",
                    load(datasette.url, [f"/{name}/articles/{i}.json" for i in ids], args.duration),
                    base,
                )
            finally:
                datasette.stop()
    finally:
        hello.stop()
        reader.stop()

    # Distinct queries, and the worst cases (words in nearly every article) many times over.
    search_set = words[:400] + ["si", "și", "si ", "în", "de ", "ro", "a"] * 20
    search = search_latency(db_path, search_set)
    imported = import_throughput(work, args.dumps)
    shutil.rmtree(work, ignore_errors=True)

    from webreader.articles import SEARCH_CANDIDATES, SEARCH_RESULTS

    b = notes["bytes"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"{library}; "
        f"waitress {THREADS} threads; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} "
        f"-d{args.duration:.0f}s on 127.0.0.1.",
        "",
        "| measure | requests/s | p50 ms | p99 ms | × Flask hello | errors |",
        "|---|---:|---:|---:|---:|---:|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "| other measure | value |",
        "|---|---|",
        _times(
            "first open of an article as a fragment (a click; marks it read)",
            notes,
            "first_fragment",
        ),
        _times("first open of an article as a full page (marks it read)", notes, "first_page"),
        _times("revisit of those fragments (replayed from cache)", notes, "revisit_fragment"),
        f"| click on a new headline to its article's heading focused, in Chromium "
        f"({notes['clicks']['n']} clicks): p50 / p99 | {notes['clicks']['p50']:.1f} / "
        f"{notes['clicks']['p99']:.1f} ms |",
        _times(
            "search as a reader types, one request after another, each query new", notes, "typing"
        ),
        f"| requests in the loads above that had to be new: first opens / typed searches | "
        f"{_distinct(notes['never_opened'])} / {_distinct(notes['typing_load'])} |",
        f"| search query alone (parse; complete the word being typed; rank the newest "
        f"{SEARCH_CANDIDATES:,} matches; fetch "
        f"the best {SEARCH_RESULTS}), {len(search_set)} queries: p50 / p99 / max | "
        f"{search['p50']:.1f} / {search['p99']:.1f} / {search['max']:.1f} ms "
        f"(slowest: “{search['slowest']}”) |",
        f"| import (`webreader import --jobs 1`), {args.dumps:,} dumps of "
        f"{imported['html_kb']:.1f} KB | {imported['one']['rate']:,.0f} articles/s |",
        f"| import with the command's defaults ({os.cpu_count()} processes preparing files "
        f"for the writer) | {imported['default']['rate']:,.0f} articles/s |",
        "| import stages, ms an article on one core (bench/importing.py) | "
        + ", ".join(f"{name}: {ms:.2f}" for name, ms in imported["stages"].items())
        + f"; all: {sum(imported['stages'].values()):.2f} |",
        f"| peak memory: import command / server after the load | "
        f"{imported['default']['peak_mb']:.0f} MB / {serve_peak:.0f} MB "
        f"(RSS at the end {serve_rss:.0f} MB) |",
        f"| bytes for a headline click (the fragment) | {b['fragment']:,} "
        f"({b['fragment_gz']:,} gzipped) |",
        f"| bytes for a full page load (HTML {b['page_html']:,} + CSS + JS) | "
        f"{b['page']:,} ({b['page_gz']:,} gzipped): a click costs "
        f"{b['fragment'] / b['page']:.0%} of it |",
    ]
    print("\n".join(lines))
    if args.write:
        text = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        marker = "<!-- bench results -->"
        head = text.split(marker)[0] if marker in text else text
        args.write.write_text(
            head
            + marker
            + "\n\nCommand: `python bench/run.py "
            + " ".join(argv if argv is not None else sys.argv[1:])
            + "`\n\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
