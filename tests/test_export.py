"""Export as JSON Lines and Markdown; a JSON Lines export imports again into an equal library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webreader.cli import cli
from webreader.db import open_db

FIXTURES = Path(__file__).parent / "fixtures"
# A round trip keeps every column but those that say when this copy was made: a column added
# to the table is checked here without a change to this list.
NOT_KEPT = {"imported_at", "updated_at"}


def library(db_path: Path) -> list[dict]:
    db = open_db(db_path)
    try:
        rows = db.query("SELECT * FROM articles ORDER BY id")
        return [{k: v for k, v in row.items() if k not in NOT_KEPT} for row in rows]
    finally:
        db.close()


@pytest.fixture
def full_library(runner, tmp_path):
    db = tmp_path / "a.db"
    sources = [
        str(FIXTURES / "stiri-protv-2024-11-27-putin-kazahstan.txt"),
        str(FIXTURES / "pages"),
    ]
    assert runner.invoke(cli, ["import", "--db", str(db), *sources]).exit_code == 0
    database = open_db(db)
    database.execute("UPDATE articles SET starred_at = '2024-12-01T10:00:00+00:00' WHERE id = 2")
    database.execute("UPDATE articles SET read_at = '2024-12-01T09:00:00+00:00' WHERE id = 3")
    database.conn.commit()
    database.close()
    return db


def test_jsonl_export_imports_again_into_an_equal_library(runner, tmp_path, full_library):
    export = tmp_path / "library.jsonl"
    result = runner.invoke(cli, ["export", "--db", str(full_library), "-o", str(export)])
    assert result.exit_code == 0, result.output
    assert f"exported 12 articles and teasers from {full_library} to {export}" in result.stdout
    lines = export.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(library(full_library)) == 12
    assert all(json.loads(line)["title"] for line in lines)

    copy = tmp_path / "copy.db"
    imported = runner.invoke(cli, ["import", "--db", str(copy), str(export)])
    assert imported.exit_code == 0, imported.output
    assert library(copy) == library(full_library)  # read and starred marks included

    again = runner.invoke(cli, ["import", "--db", str(copy), str(export)])
    assert "12 unchanged" in again.stdout
    assert library(copy) == library(full_library)


def test_markdown_export_is_readable(runner, full_library):
    result = runner.invoke(cli, ["export", "--db", str(full_library), "--format", "markdown"])
    assert result.exit_code == 0
    text = result.stdout
    assert "# Guvernul aprobă planul pentru energie nucleară" in text
    assert "26 noiembrie 2024 · stiri.example.ro · Ioana Popescu" in text
    assert "## Calendarul lucrărilor" in text
    assert "<p>" not in text
    assert text.count("\n---\n") == 12


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"title": "Unu", "html": "<p>x</p>"}\n{not json}\n', "line 2 is not JSON"),
        ('{"html": "<p>fără titlu</p>"}\n', "line 1 is not an article"),
        ('{"title": "x", "kind": "podcast"}\n', "kind must be article or teaser"),
    ],
)
def test_a_malformed_export_is_refused_whole(runner, tmp_path, content, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    db = tmp_path / "x.db"
    result = runner.invoke(cli, ["import", "--db", str(db), str(path)])
    assert result.exit_code == 1
    assert reason in result.stderr
    assert library(db) == []


def test_html_in_an_export_is_sanitized_on_import(runner, tmp_path):
    path = tmp_path / "hostile.jsonl"
    line = {
        "title": "Atac",
        "html": '<p onclick="x()">text<script>alert(1)</script></p>',
        "url": "javascript:alert(1)",
        "image": "data:image/png;base64,AAAA",
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["import", "--db", str(db), str(path)]).exit_code == 0
    (row,) = library(db)
    assert row["html"] == "<p>text</p>"
    assert row["url"] is None


def test_articles_from_elsewhere_without_a_source_path_are_all_kept(runner, tmp_path):
    """JSON Lines written by another tool: each line its own article, and importing the
    file again changes nothing."""
    path = tmp_path / "other-tool.jsonl"
    lines = [{"title": f"Articolul {n}", "html": f"<p>Textul {n}.</p>"} for n in range(3)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    db = tmp_path / "x.db"
    for _ in range(2):
        assert runner.invoke(cli, ["import", "--db", str(db), str(path)]).exit_code == 0
    assert sorted(row["title"] for row in library(db)) == [f"Articolul {n}" for n in range(3)]


def test_export_of_a_missing_library_is_an_error(runner, tmp_path):
    result = runner.invoke(cli, ["export", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no library at" in result.stderr
    assert not (tmp_path / "none.db").exists()
