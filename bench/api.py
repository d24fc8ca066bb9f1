"""The APIs' speed, as an app feels it: the calls a Miniflux or Fever app makes when it
opens and syncs, one after another against a live `webreader serve`, first (cold) and then
again (warm), client and server time (the access log), beside /healthz in the same run.

    python bench/api.py                           # 100,000 generated articles (the target)
    python bench/api.py --db LIBRARY              # on a copy of LIBRARY
    python bench/api.py --articles 300 --repeat 5 # smoke size, as the tests run it
    python bench/api.py --db LIBRARY --write BENCHMARKS.md

The target: GET /v1/entries?status=unread&limit=100 at 100,000 articles, p99 under 30 ms.
Nothing is asserted: every figure is printed as measured.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sqlite3
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
from measures import THREADS, Server, percentiles  # noqa: E402

FEVER_PASSWORD = "bench fever password"
MARKERS = ("<!-- api results -->", "<!-- /api results -->")


def calls(key: str, fever_key: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, headers) of what an app asks, in the order it asks."""
    token = {"X-Auth-Token": key}
    return [
        ("/healthz (baseline)", "/healthz", {}),
        ("Miniflux: unread, 100 newest", "/v1/entries?status=unread&limit=100", token),
        ("Miniflux: unread, page 2", "/v1/entries?status=unread&limit=100&offset=100", token),
        ("Miniflux: starred", "/v1/entries?starred=true&limit=100", token),
        ("Miniflux: search", "/v1/entries?search=putin&limit=100", token),
        ("Miniflux: feeds", "/v1/feeds", token),
        ("Miniflux: counters", "/v1/feeds/counters", token),
        ("Miniflux: categories with counts", "/v1/categories?counts=true", token),
        ("Fever: unread item ids", f"/fever/?api&unread_item_ids&api_key={fever_key}", {}),
        ("Fever: 50 items", f"/fever/?api&items&max_id=0&api_key={fever_key}", {}),
    ]


def prepare(db_path: Path) -> tuple[str, str]:
    """An API key and a Fever key in the library (the schema brought up to date first)."""
    from webreader import auth
    from webreader.db import open_db

    db = open_db(db_path)
    try:
        key = auth.create_api_key(db, f"bench {time.time()}")
        auth.set_fever_password(db, "bench", FEVER_PASSWORD)
    finally:
        db.close()
    return key, hashlib.md5(f"bench:{FEVER_PASSWORD}".encode()).hexdigest()


def measure(server: Server, path: str, headers: dict[str, str], repeat: int) -> dict:
    """The first call, then `repeat` more: client ms (each) and server ms (access log)."""
    client = []
    since = len(server.access_log())
    for _ in range(repeat + 1):
        request = urllib.request.Request(server.url + path, headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        client.append((time.perf_counter() - started) * 1000)
    # This call's entries (the calls run one after another), by path: the log hides keys.
    logged = path.split("?")[0]
    server_ms = [
        e["ms"] for e in server.access_log()[since:] if e.get("path", "").split("?")[0] == logged
    ]
    return {
        "first": client[0],
        "warm": percentiles(client[1:]),
        "server": percentiles(server_ms[1:]),
    }


def table(results: dict[str, dict]) -> str:
    head = "| call | first (ms) | p50 (ms) | p99 (ms) | server p50 | server p99 | ÷ baseline |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    base = next(iter(results.values()))["warm"]["p50"]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['first']:.1f} | {r['warm']['p50']:.1f} | {r['warm']['p99']:.1f} "
            f"| {r['server']['p50']:.1f} | {r['server']['p99']:.1f} "
            f"| {r['warm']['p50'] / base:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="measure a copy of this library")
    parser.add_argument("--repeat", type=int, default=200, help="warm calls of each kind")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="webreader-api-bench-"))
    db_path = work / "library.db"
    if args.db:
        with sqlite3.connect(args.db) as source, sqlite3.connect(db_path) as copy:
            source.backup(copy)
        library = f"a copy of {args.db.name}"
    else:
        generate.write_library(db_path, args.articles)
        library = f"{args.articles:,} generated articles"
    started = time.perf_counter()
    key, fever_key = prepare(db_path)
    prepared = time.perf_counter() - started
    with sqlite3.connect(db_path) as db:
        count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    server = Server(
        [sys.executable, "-m", "webreader", "serve", "--db", str(db_path), "--port", "0",
         "--threads", str(THREADS), "--no-refresh"]
    )  # fmt: skip
    try:
        results = {
            name: measure(server, path, headers, args.repeat)
            for name, path, headers in calls(key, fever_key)
        }
    finally:
        server.stop()
    text = (
        f"{count:,} articles ({library}); schema brought up to date and keys made in "
        f"{prepared:.1f} s; {args.repeat} warm calls of each, one after another, "
        f"`webreader serve --threads {THREADS}`.\n\n{table(results)}\n"
    )
    print(text)
    if args.write:
        written = args.write.read_text(encoding="utf-8")
        block = f"{MARKERS[0]}\n{text}{MARKERS[1]}"
        pattern = re.compile(re.escape(MARKERS[0]) + ".*?" + re.escape(MARKERS[1]), re.S)
        if pattern.search(written):
            written = pattern.sub(lambda _: block, written)
        else:
            written += (
                f"\n## API\n\n`python bench/api.py --db LIBRARY --write BENCHMARKS.md`\n\n{block}\n"
            )
        args.write.write_text(written, encoding="utf-8")


if __name__ == "__main__":
    main()
