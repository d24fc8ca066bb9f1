"""webreader's benchmarks: throughput and latency under waitress against a minimal Flask app
under the same settings (the ratio is what to compare across machines), search latency,
import throughput against bleach alone, peak memory, and bytes over the wire.

    python bench/run.py                                   # 100,000 articles (the targets)
    python bench/run.py --articles 300 --duration 1       # smoke size, as CI runs it
    python bench/run.py --write BENCHMARKS.md             # also write the results there

Needs wrk (Debian's package) as the load generator; Datasette (pip) for the comparison.
Every figure is measured in this run, on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
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

LOOPBACK_URL = r"http://127\.0\.0\.1:\d+"
THREADS = 4
WRK_THREADS = 1
WRK_CONNECTIONS = 8
SEARCH_WORDS = [
    "si",
    "și",
    "rusia",
    "putin",
    "kazahstan",
    "romania",
    "româniei",
    "tara",
    "energie",
    "uraniu",
    "alegeri",
    "schengen",
    "ucraina",
    "moscova",
    "china",
    "aliat",
    "proiecte",
    "gazele",
    "nasa",
    "bolojan",
    "kovesi",
    "explozie",
    "codlea",
    "transnistria",
]


# ---- processes --------------------------------------------------------------------------


class Server:
    def __init__(
        self, command: list[str], *, url_pattern: str = LOOPBACK_URL, url_on_stderr: bool = False
    ) -> None:
        # stdout for the URL; stderr (webreader's access log) to a file, which costs the
        # server less than a pipe someone must drain.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if url_on_stderr else self.log,
            text=True,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        self.url = None
        while self.url is None:
            line = self.process.stdout.readline()
            match = re.search(url_pattern, line)
            if match:
                self.url = match.group(0)
            elif (not line and self.process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"{command[:3]} did not start")
        # Drain what else it prints so that it never blocks on a full pipe.
        subprocess.Popen(["cat"], stdin=self.process.stdout, stdout=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)

    def memory_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) in MB, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        value = lambda key: int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024  # noqa: E731
        return value("VmRSS"), value("VmHWM")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- load ---------------------------------------------------------------------------------


def _lua(paths: list[str], headers: dict[str, str]) -> str:
    quoted = ",".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    return (
        header_lines
        + f"local paths = {{{quoted}}}\nlocal i = 0\n"
        + "request = function()\n  i = i + 1\n"
        + "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
    )


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(
    url: str,
    paths: list[str],
    duration: float,
    headers: dict[str, str] | None = None,
    connections: int = WRK_CONNECTIONS,
):
    """wrk against url, cycling through paths: requests/s, p50 and p99 latency in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(paths, headers or {}))
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{WRK_THREADS}",
                f"-c{connections}",
                f"-d{max(duration, 1):.0f}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


# ---- the measures -------------------------------------------------------------------------


def first_opens(url: str, paths: list[str], headers: dict[str, str]) -> dict[str, float]:
    """Sequential first opens of unread articles: rendered, marked read, nothing cached."""
    times = []
    for path in paths:
        started = time.perf_counter()
        fetch(url + path, headers)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[int(len(times) * 0.99) - 1]}


def article_paths(db_path: Path, limit: int, newest: bool) -> list[str]:

    order = "sort_key DESC" if newest else "random()"
    with sqlite3.connect(db_path) as db:
        rows = db.execute(f"SELECT id, slug FROM articles ORDER BY {order} LIMIT ?", [limit])
        return [f"/articles/{i}/{slug}" for i, slug in rows]


def search_queries(count: int) -> list[str]:
    rng = random.Random(3)
    queries = []
    for _ in range(count):
        words = rng.sample(SEARCH_WORDS, rng.choice([1, 1, 2, 3]))
        query = " ".join(words)
        if rng.random() < 0.4:  # still typing the last word
            query = query[: max(2, len(query) - rng.randint(1, 3))]
        queries.append(query)
    return queries


def search_latency(db_path: Path, queries: list[str]) -> dict[str, float]:
    """The search query itself (parse, rank, fetch 50), in this process, ms per query."""
    from webreader import articles, search
    from webreader.db import connect

    db = connect(db_path)
    timings = []
    worst = {}
    for query in queries:
        parsed = search.parse_query(query)
        started = time.perf_counter()
        articles.search_articles(db, parsed.fts)
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


def import_throughput(folder: Path, dumps: int) -> dict[str, float]:
    """Articles/s importing dumps (parse, sanitize, store) against bleach.clean alone on the
    same bodies, both in this process."""
    import bleach

    from webreader.db import open_db
    from webreader.importers.base import decode_text
    from webreader.importers.pipeline import import_sources
    from webreader.importers.textdump import load_rules, parse_dump
    from webreader.sanitize import ALLOWED_TAGS

    paths = generate.write_dumps(folder / "dumps", dumps)
    rules = load_rules()
    bodies = [parse_dump(decode_text(p.read_bytes())[0], rules).article["html"] for p in paths]
    started = time.perf_counter()
    for body in bodies:
        bleach.clean(body, tags=ALLOWED_TAGS, strip=True)
    bleach_rate = len(bodies) / (time.perf_counter() - started)

    rates = {}
    for jobs in (1, os.cpu_count() or 1):
        db = open_db(folder / f"import-{jobs}.db")
        started = time.perf_counter()
        for _path, result in import_sources(db, paths, rules, jobs=jobs):
            assert result.status == "imported", result
        rates[jobs] = len(paths) / (time.perf_counter() - started)
        db.close()

    # Peak memory of the real command, in a child process of its own.
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webreader",
            "import",
            "--db",
            str(folder / "import2.db"),
            str(folder / "dumps"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, _, usage = os.wait4(child.pid, 0)
    return {
        "import_rate": rates[1],
        "import_rate_parallel": rates[max(rates)],
        "jobs": max(rates),
        "bleach_rate": bleach_rate,
        "html_kb": statistics.mean(len(b) for b in bodies) / 1024,
        "import_peak_mb": usage.ru_maxrss / 1024,
    }


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
    if db_path.exists():
        library = f"{args.articles:,} articles (an existing library, {db_path.name})"
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
        fragments = article_paths(db_path, 500, newest=False)
        pages = article_paths(db_path, 50, newest=True)
        queries = search_queries(2000)
        # A reader who chose a theme sends the preferences cookie back with every request
        # (on loopback there is no login, and visitors get no session cookie).
        settings = urllib.request.Request(
            reader.url + "/settings", data=b"theme=dark", headers={"HX-Request": "true"}
        )
        with urllib.request.urlopen(settings) as response:
            cookie = response.headers["Set-Cookie"].split(";")[0]
        htmx = {"HX-Request": "true", "Cookie": cookie}
        browser = {"Cookie": cookie}
        # The first open of an article marks it read (a write, which also starts a new
        # cache generation): timed on its own. A second pass renders what the load reads.
        notes["first_open"] = first_opens(reader.url, fragments, htmx)
        for path in fragments:
            fetch(reader.url + path, htmx)
        for path in pages:
            fetch(reader.url + path, browser)
            fetch(reader.url + path, browser)
        plain = [f"/plain/{p.split('/')[2]}" for p in fragments]
        row("plain Flask view: HTML from SQLite", load(hello.url, plain, args.duration), base)
        row("article fragment (htmx)", load(reader.url, fragments, args.duration, htmx), base)
        row("full page (newest 50)", load(reader.url, pages, args.duration, browser), base)
        search_paths = [f"/search?q={urllib.request.quote(q)}" for q in queries]
        row("search as you type (htmx)", load(reader.url, search_paths, args.duration, htmx), base)
        # One reader typing, the usual case of a self-hosted reader: latency without queueing.
        alone = load(reader.url, search_paths[::-1], args.duration, htmx, connections=1)
        row("search, one reader typing (1 connection)", alone, base)
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
    search_set = queries[:400] + ["si", "și", "si ", "în", "de ", "ro", "a"] * 20
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
        f"| first open of an article (nothing cached; marks it read; {len(fragments)} in turn): "
        f"p50 / p99 | {notes['first_open']['p50']:.1f} / {notes['first_open']['p99']:.1f} ms |",
        f"| search query alone (parse; rank the newest {SEARCH_CANDIDATES:,} matches; fetch "
        f"the best {SEARCH_RESULTS}), {len(search_set)} queries: p50 / p99 / max | "
        f"{search['p50']:.1f} / {search['p99']:.1f} / {search['max']:.1f} ms "
        f"(slowest: “{search['slowest']}”) |",
        f"| import (parse, sanitize, store), {args.dumps:,} dumps of "
        f"{imported['html_kb']:.1f} KB HTML | {imported['import_rate']:,.0f} articles/s |",
        f"| import with {imported['jobs']} processes preparing files for the writer "
        f"(`--jobs`, the command's default) | {imported['import_rate_parallel']:,.0f} articles/s |",
        f"| bleach.clean alone, same bodies | {imported['bleach_rate']:,.0f} articles/s "
        f"(import runs at {imported['import_rate'] / imported['bleach_rate']:.2f}× of it, "
        f"{imported['import_rate_parallel'] / imported['bleach_rate']:.2f}× with "
        f"{imported['jobs']} processes) |",
        f"| peak memory: import command / server after the load | "
        f"{imported['import_peak_mb']:.0f} MB / {serve_peak:.0f} MB "
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
