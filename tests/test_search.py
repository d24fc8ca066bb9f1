"""Search: Romanian-grade matching, ranking, highlighting, filters, safety; sidebar paging."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import HTMX, soup
from webreader import articles, create_app
from webreader.db import open_db
from webreader.importers.pipeline import import_file
from webreader.importers.textdump import load_rules
from webreader.search import parse_query

# (file name, title, date, body, source) — source via a one-teaser "latest news" list.
LIBRARY = [
    ("a.txt", "Țara și vecinii ei", "2024-11-01", "Un text despre relații externe.", "digi24"),
    ("b.txt", "Alegeri în România", "2024-11-02", "Rezultatele au fost anunțate.", "protv"),
    ("c.txt", "Economia", "2024-11-03", "Exporturile României au crescut şi importurile.", "protv"),
    ("d.txt", "Sport", "2024-11-04", "Echipa națională a câștigat. Tara a sărbătorit.", "digi24"),
    ("e.txt", "Kazahstan și uraniul", "2024-10-01", "Despre energie.", "protv"),
    ("f.txt", "Energie", "2024-10-02", "Kazahstanul produce uraniu.", "protv"),
]


@pytest.fixture
def client(tmp_path):
    db = open_db(tmp_path / "s.db")
    for name, title, date, body, source in LIBRARY:
        dump = tmp_path / name
        dump.write_text(
            f"{title}\n📅 {date}\n\n{body}\n\n"
            f"Ultimele stiri {source}\n\nAltceva {name}\n\nRezumat.\n",
            encoding="utf-8",
        )
        assert import_file(db, dump, load_rules()).status == "imported"
    db.close()
    return create_app(
        {"DATABASE": str(tmp_path / "s.db"), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()


def titles(client, query: str, **params) -> list[str]:
    response = client.get("/search", query_string={"q": query, **params}, headers=HTMX)
    assert response.status_code == 200
    return [t.get_text() for t in soup(response).select("#headlines .headline-title")]


@pytest.mark.parametrize("query", ["tara", "Tara", "țara", "ţara", "ȚARA"])
def test_tara_finds_both_spellings(client, query):
    assert set(titles(client, query)) == {"Țara și vecinii ei", "Sport"}


@pytest.mark.parametrize("query", ["si", "și", "şi"])
def test_si_finds_comma_below_and_cedilla(client, query):
    found = set(titles(client, query))
    assert {"Țara și vecinii ei", "Economia", "Kazahstan și uraniul"} <= found


def test_stems_match_other_forms(client):
    assert set(titles(client, "România ")) == {"Alegeri în România", "Economia"}
    assert set(titles(client, "Kazahstan ")) == {"Kazahstan și uraniul", "Energie"}


def test_the_word_being_typed_matches_as_a_prefix(client):
    assert set(titles(client, "Kaza")) == {"Kazahstan și uraniul", "Energie"}
    assert titles(client, "Kaza ") == []  # a finished word is a word, not a prefix


def test_title_matches_rank_above_body_matches_and_newer_first_on_ties(client):
    assert titles(client, "energie") == ["Energie", "Kazahstan și uraniul"]
    # Same score: newer first.
    ranked = titles(client, "kazahstan")
    assert ranked[0] == "Kazahstan și uraniul"
    both = titles(client, "tara")
    assert both == ["Țara și vecinii ei", "Sport"]


def test_matches_are_highlighted_in_headline_and_snippet(client):
    page = soup(client.get("/search", query_string={"q": "romania"}, headers=HTMX))
    item = next(li for li in page.select("#headlines li") if "Economia" in li.get_text())
    assert [m.get_text() for m in item.select(".snippet mark")] == ["României"]
    alegeri = next(li for li in page.select("#headlines li") if "Alegeri" in li.get_text())
    assert [m.get_text() for m in alegeri.select(".headline-title mark")] == ["România"]
    assert "1" not in [m.get_text() for m in page.select("mark")]


def test_opening_a_result_highlights_the_words_in_the_article(client):
    page = soup(client.get("/search", query_string={"q": "kazahstan"}, headers=HTMX))
    link = next(a for a in page.select("#headlines a") if "Energie" in a.get_text())
    assert "q=kazahstan" in link["href"]
    article = soup(client.get(link["href"]))
    marks = [m.get_text() for m in article.select(".article-body mark")]
    assert marks and all(m.lower().startswith("kazahstan") for m in marks)
    # Without a query, nothing is marked.
    plain = soup(client.get(link["href"].split("?")[0]))
    assert plain.select(".article-body mark") == []


def test_search_is_a_real_url_without_javascript(client):
    response = client.get("/search?q=kazahstan")
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("#search")["value"] == "kazahstan"
    assert len(page.select("#headlines a.headline")) == 2
    # The best match is open, its title being a match.
    assert page.select_one("#article h1").get_text() == "Kazahstan și uraniul"


def test_nothing_matched_says_so(client):
    fragment = soup(client.get("/search?q=zzzzz", headers=HTMX))
    assert "Nothing matched" in fragment.select_one("#listing-count").get_text()
    page = soup(client.get("/search?q=zzzzz"))
    assert page.select_one(".empty-state h1").get_text() == "Nothing matched"


HOSTILE_QUERIES = [
    '"',
    '""',
    '"unbalanced',
    "*",
    "**",
    "a*b",
    "NEAR",
    "NEAR(a b)",
    "NEAR(a b, 2)",
    "-",
    "-tara",
    "tara -si",
    ":",
    "title:tara",
    "text:",
    "((((",
    "tara)",
    "^",
    "AND",
    "OR NOT",
    "x" * 2000,
    "tara " * 400,
    "\x00\x01\x1f",
    "tara\x00si",
    "\u202e\u200b",
    "'; DROP TABLE articles; --",
    "%",
    "_",
    "\\",
    "{}",
    "[]",
    "🦀",
    "ț" * 100,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_any_input_is_safe(client, query):
    for headers in ({}, HTMX):
        response = client.get("/search", query_string={"q": query}, headers=headers)
        assert response.status_code == 200


def test_a_query_is_rebuilt_from_its_words_alone():
    query = parse_query('NEAR(tara "si") -xy: *')
    assert query.fts == '("near") AND ("tar" OR "tara") AND ("si") AND ("xy" OR "xy"*)'
    assert parse_query('"*:()-') is None
    # One letter is no prefix: it would match nearly every word of every article.
    assert parse_query("tara s").fts == '("tar" OR "tara") AND ("s")'


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"source": "digi24"}, {"Țara și vecinii ei", "Sport"}),
        ({"source": "protv", "from": "2024-11-01"}, set()),
        ({"from": "2024-11-02", "to": "2024-11-04"}, {"Sport"}),
        ({"to": "2024-10-31"}, set()),
        ({"from": "not a date"}, {"Țara și vecinii ei", "Sport"}),
    ],
)
def test_filters_combine_with_the_query(client, params, expected):
    assert set(titles(client, "tara", **params)) == expected


def test_unread_and_starred_filters_combine_with_the_query(client):
    client.get("/articles/1")  # read "Țara și vecinii ei"
    assert titles(client, "tara", show="unread") == ["Sport"]
    assert titles(client, "tara", show="starred") == []


def test_filters_stay_in_the_links(client):
    page = soup(client.get("/search", query_string={"q": "tara", "source": "digi24"}))
    for link in page.select("#headlines a.headline"):
        assert "q=tara" in link["href"] and "source=digi24" in link["href"]
    assert page.select_one('select[name="source"] option[selected]').get_text() == "digi24"


# ---- the sidebar's pages ------------------------------------------------------------------


@pytest.fixture
def big_client(tmp_path):
    db = open_db(tmp_path / "big.db")
    with db.atomic():
        for n in range(130):
            db["articles"].insert(
                {
                    "kind": "article",
                    "title": f"Știrea {n}",
                    "title_key": f"stirea {n}",
                    "slug": f"stirea-{n}",
                    "published": f"2024-{1 + n // 28:02}-{1 + n % 28:02}",
                    "html": "<p>x</p>",
                    "text": "x",
                    "content_hash": str(n),
                    "imported_at": "now",
                    "updated_at": "now",
                }
            )
    db.close()
    return create_app(
        {"DATABASE": str(tmp_path / "big.db"), "TESTING": True, "LOGIN_REQUIRED": False}
    ).test_client()


def test_the_sidebar_pages_by_keyset_with_a_total(big_client):
    page = soup(big_client.get("/"))
    first = [a["data-article-id"] for a in page.select("#headlines a.headline")]
    assert len(first) == 50
    assert page.select_one("#listing-count").get_text() == "130 headlines"
    more = page.select_one("#headlines li.more")
    assert more["hx-trigger"] == "intersect once"
    seen = list(first)
    while more is not None:
        fragment = soup(big_client.get(more["hx-get"], headers=HTMX))
        seen += [a["data-article-id"] for a in fragment.select("a.headline")]
        assert fragment.find("ol") is None  # items to append, not a new list
        more = fragment.select_one("li.more")
    assert len(seen) == 130 and len(set(seen)) == 130
    dates = [int(i) for i in seen]
    assert dates == sorted(dates, reverse=True)  # ids follow dates here: newest first


def test_more_works_without_javascript(big_client):
    page = soup(big_client.get("/"))
    link = page.select_one("#headlines li.more a")["href"]
    second = soup(big_client.get(link))
    ids = [a["data-article-id"] for a in second.select("#headlines a.headline")]
    assert len(ids) == 50 and "80" in ids


def test_a_malformed_page_key_is_a_clear_400(big_client):
    assert big_client.get("/headlines?after=abc", headers=HTMX).status_code == 400


def test_paging_runs_no_offset_and_walks_an_index(big_client):
    """What the sidebar's paging runs: no OFFSET (which counts every row it skips), and a
    plan that walks an index rather than scanning and sorting the table."""
    from webreader.db import thread_connection

    conn = thread_connection(big_client.application.config["DATABASE"]).conn
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        page = soup(big_client.get("/"))
        big_client.get(page.select_one("#headlines li.more a")["href"])
    finally:
        conn.set_trace_callback(None)
    assert not any(" OFFSET " in sql.upper() for sql in executed)
    listing = [sql for sql in executed if "FROM articles a WHERE" in sql and "LIMIT" in sql]
    assert len(listing) >= 2
    for sql in listing:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert "INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_unchanged_pages_answer_304(client):
    first = client.get("/articles/2")
    etag = first.headers["ETag"]
    again = client.get("/articles/2", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_a_full_page_stays_the_same_across_seconds_so_its_etag_holds(client):
    import time

    first = client.get("/articles/2")
    time.sleep(1.1)  # Flask-WTF's signed tokens carry the second they were made in
    again = client.get("/articles/2", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def _fts_ids(db, fts: str) -> set[int]:
    sql = "SELECT rowid FROM articles_search WHERE articles_search MATCH ?"
    return {row[0] for row in db.execute(sql, [fts])}


def test_a_word_being_typed_is_completed_from_the_index_words_and_finds_the_same(client):
    """The word being typed (4 letters or more) is asked for as the words it starts, which
    the search_terms table learns from every article saved: the same articles as FTS5's own
    prefix query, for every prefix of every indexed word."""
    db = open_db(client.application.config["DATABASE"])
    try:
        terms = [row[0] for row in db.execute("SELECT term FROM search_terms WHERE exact")]
        db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, articles_search, row)")
        vocabulary = {row[0] for row in db.execute("SELECT term FROM temp.vocab")}
        assert set(terms) == vocabulary  # Romanian and English words: all spelled alike
        prefixes = {t[:n] for t in terms for n in range(4, len(t) + 1)}
        assert len(prefixes) > 50
        for prefix in sorted(prefixes):
            completions = articles.complete_word(db, prefix)
            assert completions is not None and all(c.startswith(prefix) for c in completions)
            query = dataclasses.replace(parse_query(prefix), completions=completions)
            assert "*" not in query.fts
            assert _fts_ids(db, query.fts) == _fts_ids(db, parse_query(prefix).fts), prefix
    finally:
        db.close()


def test_short_prefixes_and_those_of_many_words_stay_prefix_queries(db, monkeypatch):
    assert articles.complete_word(db, "kaz") is None  # FTS5's prefix index serves it
    db.execute("INSERT INTO search_terms VALUES ('abcda', 1), ('abcdb', 1), ('abcdc', 1)")
    monkeypatch.setattr(articles, "COMPLETIONS", 2)
    assert articles.complete_word(db, "abcd") is None
    assert articles.complete_word(db, "abcda") == ("abcda",)
    assert articles.complete_word(db, "zzzz") == ()
    assert dataclasses.replace(parse_query("zzzz"), completions=()).fts == '("zzzz")'


@pytest.mark.parametrize(
    "word", ["Kazahstan¹", "Straße", "Київ", "Йошкар", "Αθήνα", "ﬁnanțe", "Ｔokyo", "ĳsland"]
)
def test_words_the_index_spells_otherwise_are_found_while_typed(tmp_path, word):
    """fold() and FTS5's tokenizer disagree on some characters (superscripts, ß, й, Greek
    accents, ligatures, full-width letters): a prefix of such a word is left to FTS5."""
    db = open_db(tmp_path / "w.db")
    try:
        dump = tmp_path / "w.txt"
        dump.write_text(f"Știre\n📅 2024-11-27\n\nDespre {word} azi.\n", encoding="utf-8")
        assert import_file(db, dump, load_rules()).status == "imported"
        for end in range(4, len(word) + 1):
            query = parse_query(word[:end])
            completed = dataclasses.replace(
                query, completions=articles.complete_word(db, query.prefix)
            )
            assert _fts_ids(db, completed.fts) == _fts_ids(db, query.fts), word[:end]
            if word[:end].isascii():
                assert _fts_ids(db, completed.fts) == {1}, word[:end]
    finally:
        db.close()


def test_a_library_indexed_before_search_terms_learns_them_when_migrated(tmp_path, sample_path):
    db = open_db(tmp_path / "old.db")
    assert import_file(db, sample_path, load_rules()).status == "imported"
    before = {row[0] for row in db.execute("SELECT term FROM search_terms")}
    db.execute("DROP TABLE search_terms")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'add_search_terms'")
    db.conn.commit()
    db.close()
    db = open_db(tmp_path / "old.db")
    try:
        assert {row[0] for row in db.execute("SELECT term FROM search_terms")} == before
        assert "kazahstan" in before
    finally:
        db.close()


def test_exact_totals_are_shown_whole_and_only_a_date_range_is_capped(big_client, monkeypatch):
    monkeypatch.setattr(articles, "COUNT_CAP", 100)
    page = soup(big_client.get("/"))
    assert page.select_one("#listing-count").get_text() == "130 headlines"
    page = soup(big_client.get("/?from=2024-01-01&to=2024-12-31"))
    assert page.select_one("#listing-count").get_text() == "100+ headlines"
    page = soup(big_client.get("/?from=2024-05-01"))
    assert page.select_one("#listing-count").get_text() == "18 headlines"


def _found(db, words: str) -> list[dict]:
    """The rows a search for these whole words finds (the index's own query language)."""
    query = " ".join(parse_query(word).fts for word in words.split())
    return articles.search_articles(db, query)[0]


def test_a_teaser_is_found_by_its_summary_and_the_index_follows_it_into_an_article(tmp_path):
    """A word only a teaser's summary holds finds the teaser; once the teaser's page is
    imported (the teaser becomes an article), the index holds the article's text instead."""
    from conftest import SAMPLE

    db = open_db(tmp_path / "t.db")
    import_file(db, SAMPLE, load_rules())
    found = _found(db, "interimat")
    assert [a["kind"] for a in found] == ["teaser"]
    teaser = found[0]
    page = tmp_path / "bolojan.txt"
    page.write_text(
        f"{teaser['title']}\n📅 2024-11-27\n\nInterviul complet cu liderul liberal, "
        "despre coaliție și buget, la Știrile ProTV.\n",
        encoding="utf-8",
    )
    assert import_file(db, page, load_rules()).status == "imported"
    assert _found(db, "interimat") == []  # the summary's word left with the teaser
    (article,) = _found(db, "coaliție")
    assert article["id"] == teaser["id"] and article["kind"] == "article"
    db.execute("INSERT INTO articles_search (articles_search) VALUES ('integrity-check')")


def test_a_library_from_before_finds_its_teasers_after_the_upgrade(tmp_path):
    """index_teaser_summaries on a library whose teasers were indexed by their (empty)
    text: they are indexed again by their summaries, and the index stays whole."""
    from conftest import SAMPLE
    from webreader.db import _STEMS, _STEMS_NOW

    db = open_db(tmp_path / "old.db")
    import_file(db, SAMPLE, load_rules())
    teasers = "FROM articles WHERE kind = 'teaser'"
    db.execute(
        "INSERT INTO articles_search(articles_search, rowid, title, text) "
        f"SELECT 'delete', id, {_STEMS_NOW.format('articles')} {teasers}"
    )
    db.execute(
        f"INSERT INTO articles_search(rowid, title, text) SELECT id, {_STEMS.format('articles')} "
        + teasers
    )
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'index_teaser_summaries'")
    db.conn.commit()
    assert _found(db, "interimat") == []  # as it was
    db.close()
    db = open_db(tmp_path / "old.db")
    assert [a["kind"] for a in _found(db, "interimat")] == ["teaser"]
    db.execute("INSERT INTO articles_search (articles_search) VALUES ('integrity-check')")
