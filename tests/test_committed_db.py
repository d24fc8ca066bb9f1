"""The committed articles.db is what the README's rebuild command produces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from webreader.cli import cli
from webreader.db import open_db

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "tests/fixtures/stiri-protv-2024-11-27-putin-kazahstan.txt"
# Columns that depend on when and where the command ran, not on what it imported.
CIRCUMSTANTIAL = {"imported_at", "updated_at", "source_path"}


def content(path: Path, tmp_path: Path) -> tuple[list[tuple], list[dict], list[dict]]:
    # Opening applies pending migrations: work on a copy, never on the committed file.
    copy = tmp_path / f"copy-{path.name}"
    shutil.copyfile(path, copy)
    db = open_db(copy)
    try:
        # The whole schema, so that a migration changed after the file was built shows.
        tables = [
            (row[0], row[1], row[2])
            for row in db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        ]
        rows = [
            {k: v for k, v in row.items() if k not in CIRCUMSTANTIAL}
            | {"source_file": Path(row["source_path"]).name}
            for row in db.query("SELECT * FROM articles ORDER BY id")
        ]
        settings = list(db.query("SELECT key FROM settings"))
        return tables, rows, settings
    finally:
        db.close()


def test_the_readmes_rebuild_command_rebuilds_the_committed_database(tmp_path):
    """The command as README.md gives it, run in a shell in a copy of the tree's files."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("rm -f articles.db"))
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    shutil.copyfile(ROOT / SAMPLE, tmp_path / SAMPLE)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(command, shell=True, cwd=tmp_path, env=env, check=True, capture_output=True)
    rebuilt = content(tmp_path / "articles.db", tmp_path)
    committed = content(committed_copy(tmp_path), tmp_path)
    assert rebuilt[:2] == committed[:2]


def committed_copy(tmp_path: Path) -> Path:
    """The articles.db of the last commit, in tmp_path: the file in the working tree may
    have been served since (a secret key, read marks, a WAL beside it), and is never opened
    in place. Outside a git checkout, a copy of the file itself."""
    copy = tmp_path / "committed.db"
    shown = subprocess.run(
        ["git", "show", "HEAD:articles.db"], cwd=ROOT, capture_output=True, check=False
    )
    if shown.returncode == 0:
        copy.write_bytes(shown.stdout)
    else:
        shutil.copyfile(ROOT / "articles.db", copy)
    return copy


def test_committed_database_matches_a_fresh_rebuild(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    rebuilt = tmp_path / "articles.db"
    result = runner.invoke(cli, ["import", "--db", str(rebuilt), SAMPLE])
    assert result.exit_code == 0, result.output
    committed = committed_copy(tmp_path)
    committed_tables, committed_rows, committed_settings = content(committed, tmp_path)
    rebuilt_tables, rebuilt_rows, _ = content(rebuilt, tmp_path)
    assert committed_tables == rebuilt_tables
    assert len(committed_rows) == 10
    assert committed_rows == rebuilt_rows
    # Nobody's secret key (made when a server first runs on a database) is shipped.
    assert committed_settings == []


def test_committed_database_is_at_the_current_schema(tmp_path):
    import sqlite_utils

    from webreader.db import migrations

    db = sqlite_utils.Database(committed_copy(tmp_path))
    try:
        assert migrations.pending(db) == []
    finally:
        db.close()
