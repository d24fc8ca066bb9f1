"""Property-based tests (hypothesis): the parsers, the sanitizer and every query parameter
take any input without crashing, and answer within their contract."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import html_events
from webreader import articles, create_app, search
from webreader.db import connect
from webreader.importers.base import decode_text
from webreader.importers.pipeline import InvalidInput
from webreader.importers.textdump import load_rules, parse_dump
from webreader.sanitize import ALLOWED_TAGS, clean_html

RULES = load_rules()
# Text that looks like a dump some of the time: lines, dates, the teaser marker, markup.
DUMP_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "📅 2024-11-27",
        "📅 2024-13-45",
        "Ultimele stiri PRO TV",
        "<script>",
        "Țara și România",
        "x" * 200,
        "",
        " ",
        "\t",
        "\r\n",
        "\x00",
        "\u202e",
        "ÎNCHIDE",
    ]
)
DUMPS = st.lists(st.one_of(st.text(max_size=80), DUMP_PIECES), max_size=30).map("".join)
HTML = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "<",
                ">",
                "</",
                "/>",
                "<script>",
                "</script>",
                "<a href=",
                "javascript:",
                "<img ",
                "onerror=",
                "<svg>",
                "<math>",
                "<style>",
                "<!--",
                "-->",
                "<![CDATA[",
                "]]>",
                '"',
                "'",
                "=",
                "&#x6a;",
                "&lt;",
                "<p>",
                "</p>",
                "hx-get=",
                "data-hx-on=",
                "<noscript>",
                "<template>",
                "<table>",
                "<mark>",
                "<b>",
                "`",
                "\x00",
                "<iframe srcdoc=",
                "<a ",
            ]
        ),
    ),
    max_size=40,
).map("".join)
QUERY_TEXT = st.text(max_size=60) | st.sampled_from(
    ['"', "*", "NEAR(", "-", ":", "(", ")", "AND OR NOT", "^", "țara*", "\x00", "a" * 2000]
)


@settings(max_examples=300, deadline=None)
@given(DUMPS)
def test_the_dump_parser_takes_any_text(text):
    try:
        parsed = parse_dump(text, RULES)
    except InvalidInput as exc:
        assert str(exc)  # a reason a person can read
        return
    assert parsed.article["title"].strip()
    assert "<script" not in clean_html(parsed.article["html"]).lower()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_are_refused_clearly(data):
    try:
        text, _encoding = decode_text(data)
    except InvalidInput as exc:
        assert str(exc)
        return
    assert isinstance(text, str)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(f"{name}={value}" for name, value in attrs)


@settings(max_examples=400, deadline=None)
@given(HTML)
def test_sanitized_html_holds_only_allowed_markup(html):
    cleaned = clean_html(html)
    found = _Elements()
    found.feed(cleaned)
    found.close()
    assert found.tags <= ALLOWED_TAGS, found.tags - ALLOWED_TAGS
    for attribute in found.attributes:
        name, _, value = attribute.partition("=")
        assert not name.startswith(("on", "hx-", "data-", "style")), attribute
        if name in ("href", "src", "cite"):
            assert value.startswith(("http:", "https:", "mailto:")), attribute
    # Cleaning is stable: what is stored comes out the same when cleaned again (what a
    # browser parses is what was checked).
    assert clean_html(cleaned) == cleaned


# Markup whose attribute values hold the searched words, quotes and angle brackets.
ATTRIBUTE_HTML = st.lists(
    st.one_of(
        HTML,
        st.sampled_from(
            [
                '<a href="https://e.example/alert" title="',
                '<img src="https://e.example/x" alt="',
                "<abbr title='",
                '"',
                "'",
                ">",
                "<",
                "&gt;",
                "&amp;",
                " script ",
                " alert ",
                "x>alert",
                "</a>",
                "</abbr>",
                "<p>",
            ]
        ),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ATTRIBUTE_HTML, st.sampled_from(["script", "alert", "href", "onerror", "mark", "x"]))
def test_highlighting_adds_marks_to_text_and_nothing_else(html, word):
    cleaned = clean_html(html)
    marked = str(search.highlight_html(cleaned, search.parse_query(word + " "), "en"))
    # Remove the marks and the same tags, attributes (none marked) and text remain.
    assert html_events(marked) == html_events(cleaned)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from conftest import make_library

    return make_library(tmp_path_factory.mktemp("properties"), extra_articles=12)


@pytest.fixture(scope="module")
def library_app(library):
    return create_app({"DATABASE": str(library), "TESTING": True, "LOGIN_REQUIRED": False})


@settings(max_examples=300, deadline=None)
@given(text=QUERY_TEXT)
def test_any_search_text_gives_a_query_that_runs(library, text):
    query = search.parse_query(text)
    if query is None:
        return
    db = connect(library)
    try:
        results, matched = articles.search_articles(db, query.fts)
    finally:
        db.close()
    assert matched >= len(results)


PARAMS = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(
            QUERY_TEXT,
            st.sampled_from(
                [
                    "all",
                    "unread",
                    "starred",
                    "2024-11-27",
                    "2024-02-30",
                    "-1",
                    "9" * 30,
                    "PRO TV",
                    "0",
                    "1",
                ]
            ),
        )
        for name in ("q", "show", "source", "from", "to", "after", "keep_unread", "next", "v")
    },
)
PATHS = st.sampled_from(
    [
        "/",
        "/search",
        "/headlines",
        "/articles/1",
        "/articles/2/some-slug",
        "/articles/999999",
        "/articles/0",
        "/login",
        "/healthz",
        "/static/style.css",
    ]
) | st.integers(min_value=-5, max_value=2**70).map(lambda n: f"/articles/{n}")


@settings(max_examples=400, deadline=None)
@given(path=PATHS, params=PARAMS, htmx=st.booleans())
def test_every_query_parameter_on_every_page_is_answered_without_a_500(
    library_app, path, params, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    client = library_app.test_client()
    with client.get(path, query_string=params, headers=headers) as response:
        assert response.status_code < 500, (path, params, response.status_code)
        assert "Traceback" not in response.get_data(as_text=True)
