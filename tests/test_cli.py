"""The webreader command: import, serve (a real process answering HTTP), help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from webreader.cli import cli
from webreader.db import open_db

ROOT = Path(__file__).resolve().parent.parent


def count(db_path: Path) -> int:
    db = open_db(db_path)
    try:
        return db["articles"].count
    finally:
        db.close()


def test_import_reports_each_file_and_a_summary(runner, tmp_path, sample_path):
    db = tmp_path / "lib.db"
    result = runner.invoke(cli, ["import", "--db", str(db), str(sample_path)])
    assert result.exit_code == 0, result.output
    assert f"imported: {sample_path}: Vladimir Putin" in result.stdout
    assert "(+9 teasers)" in result.stdout
    assert result.stdout.strip().endswith(
        "1 article imported, 0 updated, 0 unchanged; 1 file read, 0 failed"
    )
    assert count(db) == 10

    again = runner.invoke(cli, ["import", "--db", str(db), str(sample_path)])
    assert again.exit_code == 0
    assert "0 articles imported, 0 updated, 1 unchanged; 1 file read" in again.stdout
    assert count(db) == 10


def test_import_takes_the_database_from_the_environment(runner, tmp_path, sample_path):
    db = tmp_path / "env.db"
    result = runner.invoke(cli, ["import", str(sample_path)], env={"WEBREADER_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert count(db) == 10


def test_bad_files_are_reported_and_the_others_imported(runner, tmp_path, sample_path):
    files = {
        "empty.txt": b"",
        "blank.txt": b" \n\t\n",
        "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "notitle.txt": "📅 2024-11-27\n\nText.\n".encode(),
    }
    folder = tmp_path / "in"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "good.txt").write_bytes(sample_path.read_bytes())
    db = tmp_path / "lib.db"

    result = runner.invoke(cli, ["import", "--db", str(db), str(folder), str(tmp_path / "nope")])
    assert result.exit_code == 1
    errors = result.stderr.split("Failed:\n")[0].strip().splitlines()
    assert len(errors) == len(files) + 1
    reasons = {
        "empty.txt": "empty",
        "blank.txt": "whitespace",
        "image.txt": "binary",
        "notitle.txt": "no title",
        "nope": "no such file",
    }
    for name, reason in reasons.items():
        line = next(e for e in errors if f"{name}:" in e)
        assert line.startswith("webreader: ") and reason in line
    assert "1 article imported, 0 updated, 0 unchanged; 1 file read, 5 failed" in result.stdout
    assert count(db) == 10


def test_legacy_encodings_are_read_with_a_warning(runner, tmp_path):
    text = "Şcolile din Braşov\n\nPărinţii sunt sfătuiţi să ţină copiii acasă şi să aştepte.\n"
    db = tmp_path / "lib.db"
    for encoding in ("iso-8859-2", "cp1250", "iso-8859-16"):
        dump = tmp_path / f"{encoding}.txt"
        dump.write_bytes(
            text.encode(encoding, errors="strict")
            if encoding != "iso-8859-16"
            else text.replace("ş", "ș").replace("ţ", "ț").replace("Ş", "Ș").encode(encoding)
        )
        result = runner.invoke(cli, ["import", "--db", str(db), str(dump)])
        assert result.exit_code == 0, result.output
        assert f"{dump.name}: warning: not UTF-8" in result.stderr
    database = open_db(db)
    titles = [row["title"] for row in database.query("SELECT title FROM articles")]
    database.close()
    # The three are one story (the same title, cedilla or comma below): stored once.
    assert titles == ["Şcolile din Braşov"]


def test_impossible_date_is_a_warning_not_a_failure(runner, tmp_path):
    dump = tmp_path / "d.txt"
    dump.write_text("Un titlu\n📅 2024-02-30\n\nText.\n", encoding="utf-8")
    result = runner.invoke(cli, ["import", "--db", str(tmp_path / "x.db"), str(dump)])
    assert result.exit_code == 0
    assert "warning: impossible date" in result.stderr


def test_import_needs_a_path(runner, tmp_path):
    result = runner.invoke(cli, ["import", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_a_database_that_cannot_be_opened_is_a_clear_error(runner, tmp_path, sample_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 200)
    result = runner.invoke(cli, ["import", "--db", str(notes), str(sample_path)])
    assert result.exit_code == 1
    assert f"cannot open database {notes}" in result.stderr
    assert notes.read_text() == "my notes\n" * 200


def test_python_dash_m_runs_the_same_cli(tmp_path, sample_path):
    db = tmp_path / "m.db"
    done = subprocess.run(
        [sys.executable, "-m", "webreader", "import", "--db", str(db), str(sample_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert count(db) == 10
    help_text = subprocess.run(
        [sys.executable, "-m", "webreader", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert help_text.startswith("Usage: webreader")


def test_serve_answers_http_on_loopback(serve, db_path):
    server = serve(db_path)
    assert server.banner.startswith(f"webreader serving {db_path} on http://127.0.0.1:")
    with urllib.request.urlopen(server.url + "/") as response:
        page = BeautifulSoup(response.read(), "html.parser")
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert len(page.select("#headlines a")) == 10
    request = urllib.request.Request(server.url + "/articles/2", headers={"HX-Request": "true"})
    with urllib.request.urlopen(request) as response:
        assert b"<html" not in response.read()
    with urllib.request.urlopen(server.url + "/static/htmx-2.0.11.min.js") as response:
        assert b"htmx" in response.read(200)
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server.url + "/articles/404")
    assert missing.value.code == 404
    missing.value.close()


def test_serve_creates_a_missing_database_and_explains_the_empty_state(serve, tmp_path):
    db = tmp_path / "new" / "fresh.db"
    db.parent.mkdir()
    server = serve(db)
    with urllib.request.urlopen(server.url + "/") as response:
        text = response.read().decode()
    assert db.exists()
    assert "No articles yet" in text and "webreader import" in text


def test_serve_listens_on_loopback_by_default(runner):
    serve_command = cli.commands["serve"]
    host = next(p for p in serve_command.params if p.name == "host")
    port = next(p for p in serve_command.params if p.name == "port")
    assert (host.default, port.default) == ("127.0.0.1", 8000)


def test_serve_refuses_a_port_in_use(serve, db_path):
    server = serve(db_path)
    port = server.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "webreader", "serve", "--db", str(db_path), "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for name, command in cli.commands.items():
        commands.append((name, command))
        for sub, subcommand in getattr(command, "commands", {}).items():  # a group's
            commands.append((f"{name} {sub}", subcommand))
    for name, command in commands:
        assert "Example:" in (command.help or ""), name
        assert re.search(rf"^webreader {name}\b", readme, re.MULTILINE), name
        for param in command.params:
            for option in param.opts:
                if option.startswith("--"):
                    assert option in readme, (name, option)


def test_dry_run_shows_what_would_happen_and_changes_nothing(runner, tmp_path, sample_path):
    db = tmp_path / "lib.db"
    pages = Path(__file__).parent / "fixtures" / "pages"
    result = runner.invoke(cli, ["import", "--db", str(db), "--dry-run", str(pages)])
    assert result.exit_code == 0, result.output
    assert not db.exists()  # a dry run does not even create the library
    # Later files see what earlier ones would have written: the second Braşov page is the
    # same story as the first.
    assert "would be 2 articles imported, 0 updated, 1 unchanged; 3 files read, 0 failed" in (
        result.stdout
    )
    runner.invoke(cli, ["import", "--db", str(db), str(sample_path)])
    before = count(db)
    again = runner.invoke(cli, ["import", "--db", str(db), "--dry-run", str(sample_path)])
    assert "would be unchanged:" in again.stdout
    assert count(db) == before


def test_the_summary_lists_every_failure_with_its_reason(runner, tmp_path, sample_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    result = runner.invoke(
        cli,
        [
            "import",
            "--db",
            str(tmp_path / "x.db"),
            str(tmp_path / "empty.txt"),
            str(sample_path),
            str(tmp_path / "missing.txt"),
        ],
    )
    assert result.exit_code == 1
    summary = result.stderr.split("Failed:\n", 1)[1].splitlines()
    assert summary == [
        f"  {tmp_path / 'missing.txt'}: no such file or folder",
        f"  {tmp_path / 'empty.txt'}: the file is empty",
    ]


def test_no_progress_bar_when_output_is_not_a_terminal(runner, tmp_path, sample_path):
    result = runner.invoke(cli, ["import", "--db", str(tmp_path / "x.db"), str(sample_path)])
    assert "file/s" not in result.stderr and "%|" not in result.stderr


def test_the_summary_counts_articles_not_files(runner, tmp_path):
    export = tmp_path / "three.jsonl"
    export.write_text(
        "".join(
            json.dumps({"title": f"Articolul {n}", "html": f"<p>Textul {n} despre știri.</p>"})
            + "\n"
            for n in range(3)
        ),
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["import", "--db", str(tmp_path / "lib.db"), str(export)])
    assert result.exit_code == 0, result.output
    assert "3 articles imported, 0 updated, 0 unchanged; 1 file read, 0 failed" in result.stdout


@pytest.mark.parametrize("files", [[], ["notes.md", "photo.jpg"]])
def test_a_folder_with_nothing_to_import_is_an_error(runner, tmp_path, files):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("x", encoding="utf-8")
    result = runner.invoke(cli, ["import", "--db", str(tmp_path / "lib.db"), str(folder)])
    assert result.exit_code == 1
    assert "no file to import in this folder" in result.stderr and ".jsonl" in result.stderr
