"""Watched folders: a file written slowly is imported once, whole; a bad file is set aside
and does not stop the next."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from webreader import db as queries
from webreader import watching
from webreader.db import open_db
from webreader.importers.textdump import load_rules


@pytest.fixture
def watched(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "already.txt").write_text(
        "Articolul de dinainte\n📅 2024-11-01\n\nEra aici înainte ca serverul să pornească.\n",
        encoding="utf-8",
    )
    stop = threading.Event()
    thread = watching.watch(str(tmp_path / "w.db"), [folder], load_rules(), stop=stop)
    yield folder, tmp_path / "w.db"
    stop.set()
    thread.join(timeout=10)


def rows(db_path) -> list[tuple[str, str]]:
    db = open_db(db_path)
    try:
        return [(r[0], r[1]) for r in db.execute("SELECT title, text FROM articles ORDER BY id")]
    finally:
        db.close()


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_file_written_slowly_is_imported_once_and_whole(watched):
    folder, db_path = watched
    wait_for(lambda: len(rows(db_path)) == 1)
    assert rows(db_path)[0][0] == "Articolul de dinainte"  # there before the watch began
    paragraphs = [f"Paragraful numărul {n} al articolului scris încet." for n in range(8)]
    with (folder / "slow.txt").open("w", encoding="utf-8") as out:
        out.write("Scris încet\n📅 2024-11-02\n\n")
        for paragraph in paragraphs:  # each piece well within the settling time
            out.write(paragraph + "\n\n")
            out.flush()
            time.sleep(watching.SETTLE_SECONDS / 4)
    wait_for(lambda: len(rows(db_path)) == 2)
    time.sleep(watching.SETTLE_SECONDS * 2)
    stored = rows(db_path)
    assert len(stored) == 2
    title, text = stored[1]
    assert title == "Scris încet" and all(p in text for p in paragraphs)


def test_a_bad_file_is_set_aside_and_the_next_still_goes_in(watched, caplog):
    folder, db_path = watched
    wait_for(lambda: len(rows(db_path)) == 1)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "good.txt").write_text(
        "După cel gol\n📅 2024-11-03\n\nAcesta intră.\n", encoding="utf-8"
    )
    wait_for(lambda: (folder / watching.FAILED_FOLDER / "empty.txt").exists())
    wait_for(lambda: len(rows(db_path)) == 2)
    assert not (folder / "empty.txt").exists()
    assert [title for title, _ in rows(db_path)] == ["Articolul de dinainte", "După cel gol"]
    # Set aside, it is not tried again: the folder of failures is not watched.
    time.sleep(watching.SETTLE_SECONDS * 2)
    assert len(rows(db_path)) == 2


def test_a_link_dropped_in_the_folder_is_not_followed(watched, tmp_path):
    """A symbolic link in the folder could name any file the server may read (a key, a
    password file): it is not imported."""
    folder, db_path = watched
    wait_for(lambda: len(rows(db_path)) == 1)
    secret = tmp_path / "secret.txt"
    secret.write_text("Cheia secretă\n📅 2024-11-01\n\nNu trebuie publicată.\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(secret)
    (folder / "after.txt").write_text("După legătură\n📅 2024-11-02\n\nIntră.\n", encoding="utf-8")
    wait_for(lambda: len(rows(db_path)) == 2)
    time.sleep(watching.SETTLE_SECONDS * 2)
    assert [title for title, _ in rows(db_path)] == ["Articolul de dinainte", "După legătură"]


def statuses(db_path) -> dict[str, tuple[str, str | None]]:
    db = open_db(db_path)
    try:
        return {
            row["path"]: (row["status"], row["message"])
            for row in db.query("SELECT * FROM watched_files")
        }
    finally:
        db.close()


def test_a_failure_is_kept_for_the_import_status(watched):
    folder, db_path = watched
    (folder / "empty.txt").write_bytes(b"")
    wait_for(lambda: str(folder.resolve() / "empty.txt") in statuses(db_path))
    status, message = statuses(db_path)[str(folder.resolve() / "empty.txt")]
    assert status == "failed" and message
    db = open_db(db_path)
    try:
        summary = queries.watched_files_summary(db)
    finally:
        db.close()
    assert [f["path"] for f in summary["failures"]] == [str(folder.resolve() / "empty.txt")]
    assert summary["failures"][0]["moved_to"].endswith(f"{watching.FAILED_FOLDER}/empty.txt")
    assert summary["folders"][0]["folder"] == str(folder.resolve())


def test_a_restart_skips_files_imported_unchanged_and_takes_changed_ones(tmp_path, monkeypatch):
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.txt").write_text(
            f"Articolul {n}\n📅 2024-11-01\n\nText {n}.\n", encoding="utf-8"
        )
    db_path = str(tmp_path / "w.db")

    def run_once() -> None:
        stop = threading.Event()
        thread = watching.watch(db_path, [folder], load_rules(), stop=stop)
        wait_for(lambda: len(statuses(db_path)) == 3 and len(rows(db_path)) == 3)
        time.sleep(watching.SETTLE_SECONDS * 1.5)
        stop.set()
        thread.join(timeout=10)

    run_once()
    imported = []
    real = watching.import_file
    monkeypatch.setattr(
        watching,
        "import_file",
        lambda db, path, rules: imported.append(path.name) or real(db, path, rules),
    )
    (folder / "1.txt").write_text("Articolul 1\n📅 2024-11-01\n\nText nou.\n", encoding="utf-8")
    (folder / "2.txt").unlink()
    run_once_two = threading.Event()
    thread = watching.watch(db_path, [folder], load_rules(), stop=run_once_two)
    wait_for(lambda: imported == ["1.txt"])
    time.sleep(watching.SETTLE_SECONDS * 1.5)
    run_once_two.set()
    thread.join(timeout=10)
    assert imported == ["1.txt"]  # 0.txt unchanged since its import
    assert sorted(Path(p).name for p in statuses(db_path)) == ["0.txt", "1.txt"]  # 2.txt gone


def test_a_file_over_the_size_limit_is_refused_with_a_reason(watched, monkeypatch):
    folder, db_path = watched
    monkeypatch.setattr(watching, "MAX_FILE_BYTES", 100)
    (folder / "big.txt").write_text("Mare\n📅 2024-11-01\n\n" + "cuvânt " * 50, encoding="utf-8")
    wait_for(lambda: str(folder.resolve() / "big.txt") in statuses(db_path))
    status, message = statuses(db_path)[str(folder.resolve() / "big.txt")]
    assert status == "failed" and "webreader import" in message
    assert (folder / watching.FAILED_FOLDER / "big.txt").exists()


def test_a_file_set_aside_never_replaces_one_set_aside_before(tmp_path):
    failed = tmp_path / watching.FAILED_FOLDER
    failed.mkdir()
    (failed / "x.txt").write_text("first")
    (failed / "x-1.txt").write_text("second")
    (tmp_path / "x.txt").write_text("third")
    assert watching._set_aside(tmp_path / "x.txt") == failed / "x-2.txt"
    assert [(failed / n).read_text() for n in ("x.txt", "x-1.txt", "x-2.txt")] == [
        "first",
        "second",
        "third",
    ]
    assert not (tmp_path / "x.txt").exists()


def test_a_name_that_is_not_utf8_is_set_aside_with_a_reason_and_the_watcher_goes_on(watched):
    import os

    folder, db_path = watched
    odd = os.path.join(os.fsencode(folder), b"bad\xff\xfename.txt")
    with open(odd, "wb") as out:
        out.write("Nume ciudat\n📅 2024-11-01\n\nText.\n".encode())
    wait_for(lambda: any("bad" in p for p in statuses(db_path)))
    (path,) = [p for p in statuses(db_path) if "bad" in p]
    assert path.endswith("bad\\xff\\xfename.txt")
    assert "not valid UTF-8" in statuses(db_path)[path][1]
    (folder / "after.txt").write_text("După\n📅 2024-11-02\n\nIntră.\n", encoding="utf-8")
    wait_for(lambda: "După" in [t for t, _ in rows(db_path)])
    assert "După" in [t for t, _ in rows(db_path)]


def test_a_busy_database_delays_a_file_and_never_sets_it_aside(tmp_path, monkeypatch):
    from webreader import db as storage

    monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(watching, "RETRY_SECONDS", 0.3)
    folder = tmp_path / "drop"
    folder.mkdir()
    db_path = tmp_path / "w.db"
    open_db(db_path).close()
    stop = threading.Event()
    thread = watching.watch(str(db_path), [folder], load_rules(), stop=stop)
    try:
        blocker = open_db(db_path)
        blocker.execute("BEGIN IMMEDIATE")
        (folder / "waits.txt").write_text("Așteaptă\n📅 2024-11-01\n\nText.\n", encoding="utf-8")
        time.sleep(watching.SETTLE_SECONDS * 3)  # tried, met the lock, put back
        blocker.conn.rollback()
        blocker.close()
        wait_for(lambda: [t for t, _ in rows(db_path)] == ["Așteaptă"])
        assert [t for t, _ in rows(db_path)] == ["Așteaptă"]
        assert not (folder / watching.FAILED_FOLDER).exists()
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_watched_folder_inside_a_folder_named_like_the_failures_still_works(tmp_path):
    folder = tmp_path / watching.FAILED_FOLDER / "drop"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("Totuși\n📅 2024-11-01\n\nText.\n", encoding="utf-8")
    stop = threading.Event()
    thread = watching.watch(str(tmp_path / "w.db"), [folder], load_rules(), stop=stop)
    try:
        wait_for(lambda: len(rows(tmp_path / "w.db")) == 1)
        assert [t for t, _ in rows(tmp_path / "w.db")] == ["Totuși"]
    finally:
        stop.set()
        thread.join(timeout=10)
