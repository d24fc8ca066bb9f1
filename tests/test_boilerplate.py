"""Boilerplate learned from repetition: set aside, shown on request, and put back."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from conftest import CROSS_SITE
from webreader import create_app
from webreader.boilerplate import fingerprint, paragraphs, split
from webreader.db import open_db
from webreader.importers.pipeline import import_file
from webreader.importers.textdump import load_rules

CALL = "Urmăriți-ne pe Facebook și Instagram pentru cele mai noi știri."
CALL_CEDILLA = "Urmăriţi-ne  pe Facebook şi Instagram pentru cele mai noi ştiri."


def write(tmp_path, n: int, source: str, extra: str = CALL) -> None:
    dump = tmp_path / f"{source}-{n}.txt"
    dump.write_text(
        f"Știrea numărul {n} din {source}\n📅 2024-11-{n + 1:02}\n\n"
        f"Primul paragraf, propriu articolului {n}, cu destule cuvinte.\n\n{extra}\n\n"
        f"Ultimele stiri {source}\n\nAltă știre {n}\n\nRezumat.\n",
        encoding="utf-8",
    )
    return dump


@pytest.fixture
def library(tmp_path):
    db = open_db(tmp_path / "b.db")
    for n in range(6):
        # The same call to action, spelled with cedillas and odd spacing in half of them.
        assert (
            import_file(
                db, write(tmp_path, n, "protv", CALL if n % 2 else CALL_CEDILLA), load_rules()
            ).status
            == "imported"
        )
    import_file(db, write(tmp_path, 1, "digi24"), load_rules())
    db.close()
    return tmp_path / "b.db"


def client_for(path, **config):
    return create_app(
        {"DATABASE": str(path), "TESTING": True, "LOGIN_REQUIRED": False, **config}
    ).test_client()


def article_page(client, title: str, **params):
    db = open_db(client.application.config["DATABASE"])
    article_id = next(db.query("SELECT id FROM articles WHERE title = ?", [title]))["id"]
    db.close()
    page = client.get(f"/articles/{article_id}", query_string=params)
    return article_id, BeautifulSoup(page.get_data(as_text=True), "html.parser")


def test_a_paragraph_repeated_across_a_source_is_set_aside(library):
    client = client_for(library)
    _, page = article_page(client, "Știrea numărul 3 din protv")
    body = page.select_one(".article-body").get_text()
    assert "Primul paragraf, propriu articolului 3" in body
    assert "Facebook" not in body
    aside = page.select_one("details.set-aside")
    assert "1 paragraph set aside: repeated in many PRO TV articles" in aside.summary.get_text()
    assert "Facebook" in aside.select_one(".set-aside-body").get_text()


def test_the_same_paragraph_in_another_source_stays(library):
    client = client_for(library)
    _, page = article_page(client, "Știrea numărul 1 din digi24")
    assert "Facebook" in page.select_one(".article-body").get_text()
    assert page.select_one("details.set-aside") is None


def test_the_threshold_is_a_setting(library):
    client = client_for(library, BOILERPLATE_THRESHOLD=7)
    _, page = article_page(client, "Știrea numărul 3 din protv")
    assert "Facebook" in page.select_one(".article-body").get_text()
    off = client_for(library, BOILERPLATE_THRESHOLD=0)
    _, page = article_page(off, "Știrea numărul 3 din protv")
    assert page.select_one("details.set-aside") is None


def test_a_reader_can_put_it_back_and_set_it_aside_again(library):
    client = client_for(library)
    article_id, page = article_page(client, "Știrea numărul 3 din protv")
    response = client.post(f"/articles/{article_id}/boilerplate", data={"kept": "1"})
    assert response.status_code == 303
    _, page = article_page(client, "Știrea numărul 3 din protv")
    assert "Facebook" in page.select_one(".article-body").get_text()
    assert page.select_one(".set-aside button").get_text() == "Set them aside again"
    # Only this article: the others still set it aside.
    _, other = article_page(client, "Știrea numărul 4 din protv")
    assert "Facebook" not in other.select_one(".article-body").get_text()
    client.post(f"/articles/{article_id}/boilerplate", data={"kept": "0"})
    _, page = article_page(client, "Știrea numărul 3 din protv")
    assert "Facebook" not in page.select_one(".article-body").get_text()


def test_putting_back_from_another_site_is_refused(library):
    client = client_for(library)
    response = client.post("/articles/1/boilerplate", data={"kept": "1"}, headers=CROSS_SITE)
    assert response.status_code == 403


def test_counts_follow_updates(library, tmp_path):
    db = open_db(library)
    # Article 0 corrected without the call to action: 5 articles still have it.
    dump = write(tmp_path, 0, "protv", "Un paragraf nou, fără îndemnuri.")
    assert import_file(db, dump, load_rules()).status == "updated"
    rows = db.query("SELECT * FROM paragraph_counts WHERE source = 'PRO TV'")
    counts = {r["fingerprint"]: r["articles"] for r in rows}
    assert counts[fingerprint(CALL)] == 5
    db.close()


def test_split_keeps_everything_else_in_place():
    html = (
        "<p>Unu doi.</p>\n<p>Urmăriți-ne pe Facebook acum.</p>\n"
        "<blockquote><p>Trei patru.</p></blockquote>"
    )
    body, removed = split(html, paragraphs(html), {fingerprint("Urmăriți-ne pe Facebook acum.")})
    assert body == "<p>Unu doi.</p>\n\n<blockquote><p>Trei patru.</p></blockquote>"
    assert removed == ["<p>Urmăriți-ne pe Facebook acum.</p>"]


def test_opening_an_article_uses_the_paragraphs_found_when_it_was_saved(library, monkeypatch):
    from webreader import boilerplate

    db = open_db(library)
    row = next(db.query("SELECT * FROM articles WHERE title = 'Știrea numărul 3 din protv'"))
    db.close()
    assert boilerplate.of_article(row["html"], row["paragraphs"]) == paragraphs(row["html"])
    assert row["words"] == len(row["text"].split())

    def parse_again(html):
        raise AssertionError("parsed again when opened")

    monkeypatch.setattr(boilerplate, "paragraphs", parse_again)
    _, page = article_page(client_for(library), "Știrea numărul 3 din protv")
    assert "Facebook" not in page.select_one(".article-body").get_text()
    assert "Facebook" in page.select_one(".set-aside-body").get_text()


def test_an_article_saved_before_paragraphs_were_kept_is_measured_when_opened(library):
    db = open_db(library)
    db.execute("UPDATE articles SET paragraphs = NULL, words = NULL")
    db.conn.commit()
    text = next(db.query("SELECT text FROM articles WHERE title = 'Știrea numărul 3 din protv'"))
    db.close()
    _, page = article_page(client_for(library), "Știrea numărul 3 din protv")
    assert "Facebook" not in page.select_one(".article-body").get_text()
    assert "Facebook" in page.select_one(".set-aside-body").get_text()
    assert f"{len(text['text'].split())} words" in page.get_text()


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\r", "\x1c"])
def test_paragraph_offsets_hold_whatever_breaks_a_line_inside_them(separator):
    """HTMLParser counts lines at "\\n" alone; offsets must too, or the wrong paragraph is
    cut out (and they are stored with the article)."""
    elements = [f"<p>First{separator}line of it</p>", "<p>Second paragraph</p>", "<p>Third</p>"]
    html = "\n".join(elements)
    found = paragraphs(html)
    assert [html[p.start : p.end] for p in found] == elements
