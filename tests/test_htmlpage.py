"""Saved web pages: the article, its metadata, nothing of the site around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from webreader.db import open_db
from webreader.importers.base import InvalidInput
from webreader.importers.htmlpage import parse_html
from webreader.importers.pipeline import import_file
from webreader.importers.textdump import load_rules

PAGES = Path(__file__).parent / "fixtures" / "pages"
ENERGY = PAGES / "stiri-digi-energie.html"


@pytest.fixture(scope="module")
def energy():
    return parse_html(ENERGY.read_bytes()).article


def test_metadata_comes_from_the_page(energy):
    assert energy["title"] == "Guvernul aprobă planul pentru energie nucleară"
    assert energy["author"] == "Ioana Popescu"
    assert energy["published"] == "2024-11-26"
    assert energy["lang"] == "ro"
    assert energy["url"] == (
        "https://stiri.example.ro/economie/guvernul-aproba-planul-energie-nucleara-123"
    )
    assert energy["image"] == "https://stiri.example.ro/img/cernavoda.jpg"


def test_the_article_body_keeps_its_structure(energy):
    body = BeautifulSoup(energy["html"], "html.parser")
    paragraphs = [p.get_text() for p in body.find_all("p")]
    assert paragraphs[0].startswith("Guvernul a aprobat miercuri planul de investiții")
    assert paragraphs[-1].startswith("Opoziția a criticat lipsa unei dezbateri publice")
    assert [h.get_text() for h in body.find_all("h2")] == ["Calendarul lucrărilor"]
    assert body.find("blockquote") is not None
    assert body.find("img")["src"] == "https://stiri.example.ro/img/cernavoda.jpg"
    assert body.find("h1") is None  # the headline is the title, not part of the body


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Publicitate",
        "Credit rapid",
        "Citește și",
        "Prețul energiei scade",
        "Urmărește Știri Exemplu",
        "Ultimele știri",
        "Echipa națională",
        "Summitul de la Bruxelles",
        "Toate drepturile rezervate",
        "dataLayer",
        "Politică",
    ],
)
def test_nothing_of_the_site_around_the_article(energy, boilerplate):
    assert boilerplate not in energy["html"]


@pytest.mark.parametrize(
    "name", ["scoli-brasov-iso-8859-2.html", "scoli-brasov-cp1250-undeclared.html"]
)
def test_legacy_encodings_come_out_right(name):
    article = parse_html((PAGES / name).read_bytes()).article
    assert article["title"] == "Şcolile din Braşov închise din cauza gripei"
    assert "Părinţii sunt sfătuiţi să ţină copiii acasă" in article["html"]
    assert article["published"] is None  # "Ziarul Local 2009" in the footer is no date


def test_utf8_page_with_a_byte_order_mark():
    data = b"\xef\xbb\xbf" + ENERGY.read_bytes()
    assert parse_html(data).article["title"].startswith("Guvernul aprobă")


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (b"<html><body><nav><a href='/'>Acasa</a></nav></body></html>", "no title"),
        (b"<html><body></body></html>", "no article"),
    ],
)
def test_pages_without_an_article_are_refused(html, reason):
    with pytest.raises(InvalidInput, match=reason):
        parse_html(html)


def test_imported_page_is_stored_sanitized_with_its_metadata(tmp_path):
    db = open_db(tmp_path / "p.db")
    result = import_file(db, ENERGY, load_rules())
    assert result.status == "imported"
    row = db["articles"].get(result.article_id)
    assert row["author"] == "Ioana Popescu"
    assert row["source"] == "stiri.example.ro"
    assert "<script" not in row["html"] and "<html" not in row["html"]
    assert row["text"].startswith("Guvernul a aprobat miercuri")


def test_the_same_page_under_another_name_updates_one_article(tmp_path):
    db = open_db(tmp_path / "p.db")
    first = import_file(db, ENERGY, load_rules())
    copy = tmp_path / "saved-again.html"
    copy.write_text(
        ENERGY.read_text(encoding="utf-8").replace("7 miliarde", "8 miliarde"), encoding="utf-8"
    )
    again = import_file(db, copy, load_rules())
    assert again.status == "updated"
    assert again.article_id == first.article_id
    assert db["articles"].count == 1


def test_a_hostile_canonical_url_is_not_kept(tmp_path):
    page = ENERGY.read_text(encoding="utf-8").replace(
        "https://stiri.example.ro/economie/guvernul-aproba-planul-energie-nucleara-123",
        "javascript:alert(1)",
    )
    path = tmp_path / "hostile.html"
    path.write_text(page, encoding="utf-8")
    db = open_db(tmp_path / "p.db")
    result = import_file(db, path, load_rules())
    assert db["articles"].get(result.article_id)["url"] is None


def test_an_html_file_shows_author_and_a_link_to_the_original(tmp_path):
    from webreader import create_app

    db = open_db(tmp_path / "p.db")
    import_file(db, ENERGY, load_rules())
    db.close()
    client = create_app(
        {"DATABASE": str(tmp_path / "p.db"), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()
    page = BeautifulSoup(client.get("/articles/1").get_data(as_text=True), "html.parser")
    assert page.select_one(".article-meta .author").get_text() == "Ioana Popescu"
    original = page.select_one(".article-meta a.original")
    assert original["href"].startswith("https://stiri.example.ro/economie/")
    assert original["rel"] == ["noopener", "noreferrer", "nofollow"]


def test_a_wrong_declared_charset_is_detected():
    data = (PAGES / "scoli-brasov-iso-8859-2.html").read_bytes()
    lying = data.replace(b"charset=iso-8859-2", b"charset=utf-8")
    article = parse_html(lying).article
    assert article["title"] == "Şcolile din Braşov închise din cauza gripei"
    assert "Părinţii sunt sfătuiţi" in article["html"]
