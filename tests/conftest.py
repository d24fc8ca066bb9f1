"""Fixtures: an app on a temporary database with the sample imported, a CLI runner,
and a real `webreader serve` process for the browser tests."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import settings

from tests_support import CHROMIUM, CHROMIUM_ARGS
from webreader import create_app
from webreader.db import open_db
from webreader.importers.pipeline import import_file
from webreader.importers.textdump import load_rules

# A red CI must not depend on luck: every run tries the same examples, failures print a blob.
settings.register_profile("webreader", derandomize=True, print_blob=True)
settings.load_profile("webreader")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = FIXTURES / "stiri-protv-2024-11-27-putin-kazahstan.txt"
# What htmx sends with every request it makes.
HTMX = {"HX-Request": "true"}
# What a browser sends with a form that a page of another site submits.
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}


# Tiers (README, Test): the fast loop is `pytest -m "not browser and not slow" -n auto`. Marks are
# given here, from what a test uses, so that no test has to remember its own.
BROWSER_FIXTURES = {"page", "context", "browser", "browser_type"}
SERVER_FIXTURES = {"serve", "live_server", "fresh_server", "big_server", "deployment"}
# Modules that start other programs: nginx, the Nu Html Checker (Java), wrk, pip, Chromium
# from a script, or an importer killed and run again.
SLOW_MODULES = {
    "test_bench",
    "test_deploy",
    "test_durability",
    "test_html_validity",
    "test_packaging",
    "test_screenshots",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & BROWSER_FIXTURES or item.module.__name__ == "test_screenshots":
            item.add_marker(pytest.mark.browser)
        if fixtures & SERVER_FIXTURES or item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        if tag != "mark":
            self.events.append(("start", tag, attrs))

    def handle_endtag(self, tag):
        if tag != "mark":
            self.events.append(("end", tag))

    def handle_data(self, data):
        if self.events and self.events[-1][0] == "text":
            data = self.events.pop()[1] + data
        self.events.append(("text", data))


def html_events(html: str) -> list[tuple]:
    """Tags, attributes and text of HTML as a list to compare, <mark> left out (its text
    kept): what search highlighting may add and nothing else."""
    parser = _Events()
    parser.feed(html)
    parser.close()
    return parser.events


def soup(response) -> BeautifulSoup:
    """A test client's response, parsed: tests assert on structure, not on substrings."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database holding the sample: one article and nine teasers."""
    path = tmp_path / "articles.db"
    db = open_db(path)
    result = import_file(db, SAMPLE, load_rules())
    assert result.status == "imported", result
    db.close()
    return path


@pytest.fixture
def db(tmp_path: Path) -> Iterator:
    """An empty library, open for the test and closed after it."""
    database = open_db(tmp_path / "empty.db")
    yield database
    database.close()


@pytest.fixture
def app(db_path: Path):
    # As `webreader serve` on loopback: no login needed to change the library.
    return create_app({"DATABASE": str(db_path), "TESTING": True, "LOGIN_REQUIRED": False})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


class Server:
    """A `webreader serve` subprocess on a free loopback port.

    `serve` prints its address once the socket listens, so the first line is the signal to go:
    a request sent from then on waits in the socket's queue until the server loop takes it.
    The access log (stderr, a line a request) goes to `log`, or nowhere: an unread pipe would
    fill up and stall the server."""

    def __init__(
        self,
        db: Path,
        cwd: Path,
        python: str = sys.executable,
        env=None,
        args=(),
        log: Path | None = None,
    ) -> None:
        self.log = log.open("wb") if log else None
        self.process = subprocess.Popen(
            [python, "-m", "webreader", "serve", "--db", str(db), "--port", "0", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log or subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        first_line = self.process.stdout.readline()
        match = re.search(r"http://[^/]+:(\d+)(/\S*)", first_line)
        if not match:
            self.stop()
            raise RuntimeError(f"server did not start: {first_line!r}")
        # Whatever address it listens on, the tests reach it over loopback.
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}{match.group(2)}".rstrip("/")
        self.banner = first_line

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        if self.log:
            self.log.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Starts servers on request and always stops them."""
    servers: list[Server] = []

    def start(db: Path, cwd: Path | None = None, **kwargs) -> Server:
        server = Server(db, cwd or tmp_path, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def article_row(n: int, **fields) -> dict:
    """An articles row as the importer would store it, the nth of a made-up library (tests
    that need many rows insert them directly, far faster than importing files)."""
    return {
        "kind": "article",
        "title": f"Știrea {n}",
        "title_key": f"stirea {n}",
        "slug": f"stirea-{n}",
        "html": "<p>Text</p>",
        "text": "Text",
        "content_hash": str(n),
        "imported_at": "2024-12-01T00:00:00+00:00",
        "updated_at": "2024-12-01T00:00:00+00:00",
        **fields,
    }


def make_library(folder: Path, extra_articles: int = 0) -> Path:
    """The sample, plus generated dated articles (newest first in the sidebar) if asked."""
    db = open_db(folder / "articles.db")
    import_file(db, SAMPLE, load_rules())
    for n in range(extra_articles):
        dump = folder / f"generated-{n:03}.txt"
        day = 28 - n % 28
        dump.write_text(
            f"Articolul generat numărul {n}\n📅 2024-10-{day:02}\n\n"
            # Each article its own words: near-identical texts would be one story.
            + " ".join(
                f"Fraza {n}-{i} despre știrea {n * 13 + i}, scrisă ca să umple pagina."
                for i in range(12)
            )
            + "\n",
            encoding="utf-8",
        )
        import_file(db, dump, load_rules())
    db.close()
    return folder / "articles.db"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[Server]:
    """A server on a copy of the sample library, for browser tests that change nothing."""
    folder = tmp_path_factory.mktemp("live")
    server = Server(make_library(folder), folder)
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path) -> Iterator[Server]:
    """A server on its own copy of the sample library, for tests that read, star or set."""
    server = Server(make_library(tmp_path), tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def big_server(tmp_path_factory) -> Iterator[Server]:
    """A library long enough for the sidebar to scroll: the sample and 60 more articles."""
    folder = tmp_path_factory.mktemp("big")
    server = Server(make_library(folder, extra_articles=60), folder)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }
