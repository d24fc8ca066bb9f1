"""What the benchmarks measure with, shared by run.py (the load table) and scale.py (how
cost grows with the library): servers in their own processes, wrk, the access log's server
times, first opens, the reader typing a search, and a click timed in Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

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

    def access_log(self) -> list[dict]:
        """The entries of webreader's access log so far (JSON lines on its stderr)."""
        self.log.flush()
        self.log.seek(0)
        entries = []
        for line in self.log.read().decode("utf-8", "replace").splitlines():
            start = line.find("{")
            if start >= 0:
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line[start:]))
        self.log.seek(0, os.SEEK_END)
        return entries

    def server_ms(self, paths: list[str], since: int) -> list[float]:
        """Server times (the access log's ms) of the entries after `since` for these paths."""
        wanted = set(paths)
        return [e["ms"] for e in self.access_log()[since:] if e.get("path") in wanted]

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
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
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


def percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    if not times:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "max": times[-1],
        "n": len(times),
    }


def timed(server: Server, paths: list[str], headers: dict[str, str]) -> dict[str, dict]:
    """Requests one after another: client time and server time (access log), p50 and p99."""
    since = len(server.access_log())
    client = []
    for path in paths:
        started = time.perf_counter()
        fetch(server.url + path, headers)
        client.append((time.perf_counter() - started) * 1000)
    return {"client": percentiles(client), "server": percentiles(server.server_ms(paths, since))}


def unread_paths(db_path: Path, skip: int, limit: int) -> list[str]:
    """Articles never opened, in the sidebar's order (newest first): what a reader going
    through new articles clicks, each a first open."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT id, slug FROM articles WHERE read_at IS NULL ORDER BY sort_key DESC "
            "LIMIT ? OFFSET ?",
            [limit, skip],
        )
        return [f"/articles/{i}/{slug}" for i, slug in rows]


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


def typed_queries(count: int, seed: int = 5) -> list[str]:
    """What a search box sends while a reader types phrases, a request a keystroke from the
    second letter: two-letter prefixes, words found in nearly every article ("si", "de",
    "în"), and longer queries; each different (a repeat would be replayed from cache)."""
    rng = random.Random(seed)
    common = ["si", "și", "de", "în", "la", "cu", "pe"]
    seen: dict[str, None] = {}
    while len(seen) < count:
        words = [rng.choice(common)] if rng.random() < 0.3 else []
        words += rng.sample(SEARCH_WORDS, rng.choice([1, 1, 2]))
        phrase = " ".join(words)
        for end in range(2, len(phrase) + 1):
            typed = phrase[:end]
            if not typed.endswith(" "):
                seen.setdefault(typed)
    return list(seen)[:count]


def search_paths(queries: list[str]) -> list[str]:
    return [f"/search?q={urllib.parse.quote(q)}" for q in queries]


CLICK_SCRIPT = """
async (id) => {
  const link = document.querySelector(`#headlines a[data-article-id="${id}"]`);
  const focused = new Promise((resolve) => {
    const seen = (event) => {
      const heading = event.target;
      if (heading.matches("#article h1")
          && heading.closest("[data-article-id]")?.dataset.articleId === String(id)) {
        document.removeEventListener("focusin", seen);
        resolve(performance.now());
      }
    };
    document.addEventListener("focusin", seen);
  });
  const started = performance.now();
  link.click();
  return (await focused) - started;
}
"""


def click_timings(url: str, clicks: int) -> dict[str, float]:
    """Headline clicks in Chromium, down the sidebar over articles never opened: the time
    from the click to the article's heading focused, measured in the page."""
    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import sync_playwright

    from tests_support import CHROMIUM, CHROMIUM_ARGS

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url + "/?show=unread")
        ids = page.eval_on_selector_all(
            "#headlines a[data-article-id]", "links => links.map(a => a.dataset.articleId)"
        )
        for article_id in ids[1 : clicks + 1]:
            times.append(page.evaluate(CLICK_SCRIPT, int(article_id)))
        browser.close()
    return percentiles(times)
