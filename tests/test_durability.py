"""Every article survives faults: an importer killed with SIGKILL mid-import, and an import
while the server is under load (readers see no errors, nobody sees "database is locked")."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from conftest import ROOT, make_library

sys.path.insert(0, str(ROOT / "bench"))
import generate


def _import(db: Path, folder: Path) -> subprocess.Popen:
    """`webreader import` in a process of its own; its report goes to import.log beside db."""
    log = (db.parent / "import.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "webreader", "import", "--db", str(db), str(folder)],
        stdout=log,
        stderr=subprocess.STDOUT,
        # A suite started in the background ignores SIGINT, and children inherit that:
        # the importer gets the default disposition, as it would from a terminal.
        preexec_fn=_default_sigint,
    )
    log.close()
    return process


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _log(db: Path) -> str:
    return (db.parent / "import.log").read_text(encoding="utf-8", errors="replace")[-3000:]


def _snapshot(db: Path) -> dict[int, tuple]:
    """What a reader sees now: only committed transactions."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT id, title, published, html, content_hash FROM articles")
        return {row[0]: row[1:] for row in rows}


def test_a_killed_import_keeps_every_committed_article(tmp_path):
    dumps = generate.write_dumps(tmp_path / "dumps", 600)
    db = tmp_path / "library.db"
    importer = _import(db, tmp_path / "dumps")
    committed: dict[int, tuple] = {}
    deadline = time.monotonic() + 120
    while len(committed) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists():
            try:
                committed = _snapshot(db)
            except sqlite3.OperationalError:  # the schema is still being made
                continue
    assert importer.poll() is None, "the import ended before it could be killed"
    os.kill(importer.pid, signal.SIGKILL)
    importer.wait()
    assert importer.returncode == -signal.SIGKILL

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        after = {
            row[0]: row[1:]
            for row in conn.execute("SELECT id, title, published, html, content_hash FROM articles")
        }
    finally:
        conn.close()
    assert len(after) < len(dumps)  # it was killed in the middle
    for article_id, row in committed.items():
        assert after.get(article_id) == row, article_id
    # Files are written a hundred to a transaction: every file the importer said it had
    # imported is stored (it says so once the transaction is committed).
    said = (db.parent / "import.log").read_text(encoding="utf-8").splitlines()
    reported = {line.split(": ")[1] for line in said if line.startswith("imported: ")}
    conn = sqlite3.connect(db)
    try:
        stored = {row[0] for row in conn.execute("SELECT source_path FROM articles")}
    finally:
        conn.close()
    assert reported and {str(Path(path).resolve()) for path in reported} <= stored

    # Importing again finishes the job: every dump once, the index whole.
    assert _import(db, tmp_path / "dumps").wait(timeout=600) == 0, _log(db)
    conn = sqlite3.connect(db)
    try:
        count = conn.execute("SELECT count(*) FROM articles WHERE kind = 'article'").fetchone()
        assert count == (len(dumps),)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    from webreader import articles, search
    from webreader.db import connect

    library = connect(db)
    library.execute("INSERT INTO articles_search (articles_search) VALUES ('integrity-check')")
    _, found = articles.search_articles(library, search.parse_query("Kazahstan").fts)
    library.close()
    assert found > 0


def test_readers_see_no_errors_while_an_import_writes(tmp_path, serve):
    db = make_library(tmp_path, extra_articles=30)
    server = serve(db)
    generate.write_dumps(tmp_path / "dumps", 250)
    paths = [f"/articles/{n}" for n in range(1, 41)]  # first opens mark them read: writes too
    paths += ["/", "/search?q=romania", "/search?q=putin", "/?show=unread", "/headlines?after=1"]
    failures: list[str] = []
    counts = {"requests": 0}
    stop = threading.Event()

    def read(offset: int) -> None:
        n = offset
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            headers = {"HX-Request": "true"} if n % 2 else {}
            request = urllib.request.Request(server.url + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = response.read().decode()
                    if response.status != 200 or "locked" in body.lower():
                        failures.append(f"{path}: {response.status}")
            except urllib.error.HTTPError as exc:
                failures.append(f"{path}: {exc.code} {exc.read()[:200]!r}")
                exc.close()
            except OSError as exc:
                failures.append(f"{path}: {exc}")
            counts["requests"] += 1

    readers = [threading.Thread(target=read, args=(i * 7,)) for i in range(4)]
    for thread in readers:
        thread.start()
    try:
        importer = _import(db, tmp_path / "dumps")
        assert importer.wait(timeout=600) == 0, _log(db)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert failures == []
    assert counts["requests"] > 50
    with closing(sqlite3.connect(db)) as conn:
        imported = conn.execute(
            "SELECT count(*) FROM articles WHERE source_path LIKE '%dump-%'"
        ).fetchone()[0]
        read_marks = conn.execute("SELECT count(*) FROM articles WHERE read_at IS NOT NULL")
        assert imported == 250
        assert read_marks.fetchone()[0] >= 30


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_import_leaves_a_sound_database(tmp_path, signal_number):
    """A polite stop (Ctrl+C, systemd's SIGTERM) too."""
    generate.write_dumps(tmp_path / "dumps", 400)
    db = tmp_path / "library.db"
    importer = _import(db, tmp_path / "dumps")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            if len(_snapshot(db)) > 20:
                break
        except sqlite3.OperationalError:
            continue
    importer.send_signal(signal_number)
    assert importer.wait(timeout=60) != 0
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_reader_is_served_while_an_import_holds_the_write_lock(app, client):
    """Behind a long import: an article still opens (unmarked), and a change is refused
    with 503 and Retry-After, changing nothing, rather than a 500."""
    from webreader.db import connect, thread_connection

    thread_connection(app.config["DATABASE"]).execute("PRAGMA busy_timeout = 50")
    importer = connect(app.config["DATABASE"])
    importer.execute("BEGIN IMMEDIATE")
    try:
        page = client.get("/articles/3")
        assert page.status_code == 200 and 'id="article-title"' in page.text
        form = {"starred": "1"}
        refused = client.post("/articles/3/star", data=form)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5" and "busy saving an import" in refused.text
    finally:
        importer.conn.rollback()
        importer.close()
    with closing(sqlite3.connect(app.config["DATABASE"])) as conn:
        row = conn.execute("SELECT read_at, starred_at FROM articles WHERE id = 3").fetchone()
    assert row == (None, None)
    assert client.post("/articles/3/star", data=form).status_code == 303
