"""webreader backup, and the restore README.md documents."""

from __future__ import annotations

import shutil
import sqlite3
import threading

from webreader.cli import cli
from webreader.db import open_db


def titles(path) -> list[str]:
    db = open_db(path)
    try:
        return [r["title"] for r in db.query("SELECT title FROM articles ORDER BY id")]
    finally:
        db.close()


def test_backup_copies_the_library_and_checks_it(runner, db_path, tmp_path):
    dest = tmp_path / "backups" / "copy.db"  # a folder not made yet: backup makes it
    result = runner.invoke(cli, ["backup", "--db", str(db_path), str(dest)])
    assert result.exit_code == 0, result.output
    assert "backed up 10 articles and teasers" in result.stdout
    assert titles(dest) == titles(db_path)
    with sqlite3.connect(dest) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list(dest.parent.glob(".*partial"))


def test_backup_never_overwrites_without_force(runner, db_path, tmp_path):
    dest = tmp_path / "copy.db"
    dest.write_text("precious")
    result = runner.invoke(cli, ["backup", "--db", str(db_path), str(dest)])
    assert result.exit_code == 1
    assert "use --force" in result.stderr
    assert dest.read_text() == "precious"
    assert runner.invoke(cli, ["backup", "--db", str(db_path), "--force", str(dest)]).exit_code == 0
    assert len(titles(dest)) == 10


def test_backup_while_another_connection_writes(runner, db_path, tmp_path):
    stop = threading.Event()

    def write() -> None:
        db = open_db(db_path)
        n = 0
        while not stop.is_set():
            db.execute("UPDATE articles SET read_at = ? WHERE id = 1", [str(n)])
            db.conn.commit()
            n += 1
        db.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = runner.invoke(cli, ["backup", "--db", str(db_path), str(tmp_path / "c.db")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert len(titles(tmp_path / "c.db")) == 10


def test_restore_as_documented(runner, db_path, tmp_path):
    backup = tmp_path / "copy.db"
    runner.invoke(cli, ["backup", "--db", str(db_path), str(backup)])
    db = open_db(db_path)
    db.execute("DELETE FROM articles WHERE kind = 'teaser'")
    db.conn.commit()
    db.close()
    assert len(titles(db_path)) == 1
    # README.md: stop the server, remove the library's -wal and -shm files, copy the backup.
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, db_path)
    assert len(titles(db_path)) == 10


def test_backup_of_a_missing_library_is_an_error(runner, tmp_path):
    result = runner.invoke(cli, ["backup", "--db", str(tmp_path / "no.db"), str(tmp_path / "c.db")])
    assert result.exit_code == 1
    assert "no library at" in result.stderr


def test_backup_and_export_say_the_library_must_exist(runner):
    for command in ("backup", "export"):
        help_text = runner.invoke(cli, [command, "--help"]).output
        assert "must exist" in help_text and "created if missing" not in help_text
