"""The allowlist, against a table of hostile input."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from webreader.sanitize import LINK_REL, clean_html, html_to_text

REL = f'rel="{LINK_REL}"'

HOSTILE = [
    # script-like elements disappear with their content
    ("<p>a<script>alert(1)</script>b</p>", "<p>ab</p>"),
    ("<script src=https://evil.example/x.js></script>", ""),
    ("<style>body{display:none}</style><p>t</p>", "<p>t</p>"),
    ("<noscript><p>fallback</p></noscript>ok", "ok"),
    ("<template><p>hidden</p></template>ok", "ok"),
    ("<svg onload=alert(1)><script>alert(1)</script></svg>ok", "ok"),
    ("<math><mtext><script>alert(1)</script></mtext></math>ok", "ok"),
    ("<title>t</title><p>x</p>", "<p>x</p>"),
    ("<xmp><img src=x onerror=alert(1)></xmp>ok", "ok"),
    # event handlers, style, htmx attributes
    ('<p onclick="alert(1)" onmouseover="x()">t</p>', "<p>t</p>"),
    ("<img src=https://e.example/a.png onerror=alert(1)>", '<img src="https://e.example/a.png">'),
    ('<p style="position:fixed;top:0">t</p>', "<p>t</p>"),
    ('<p hx-get="/articles/1" hx-trigger="load">t</p>', "<p>t</p>"),
    ('<p data-hx-get="/x" data-hx-trigger="load" hx-on:click="alert(1)">t</p>', "<p>t</p>"),
    (
        '<a href="https://e.example" hx-post="/x" hx-swap="outerHTML">l</a>',
        f'<a href="https://e.example" {REL}>l</a>',
    ),
    (
        '<div hx-boost="true"><a href="https://e.example">l</a></div>',
        f'<a href="https://e.example" {REL}>l</a>',
    ),
    # forms, frames, objects
    ('<form action="/delete" method="post"><input name=x><button>Go</button></form>ok', "ok"),
    ('<iframe src="https://e.example"></iframe>ok', "ok"),
    ('<frameset><frame src="https://e.example"></frameset>', ""),
    ('<object data="x.swf"><embed src="x.swf"></object>ok', "ok"),
    ("<textarea><p>x</p></textarea>ok", "ok"),
    # only http, https and mailto URLs
    ('<a href="javascript:alert(1)">x</a>', f"<a {REL}>x</a>"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', f"<a {REL}>x</a>"),
    ('<a href="jav&#x09;ascript:alert(1)">x</a>', f"<a {REL}>x</a>"),
    ('<a href=" &#14;javascript:alert(1)">x</a>', f"<a {REL}>x</a>"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', f"<a {REL}>x</a>"),
    ('<a href="vbscript:msgbox(1)">x</a>', f"<a {REL}>x</a>"),
    ('<a href="/logout">x</a>', f"<a {REL}>x</a>"),
    ('<a href="//evil.example/">x</a>', f"<a {REL}>x</a>"),
    ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', "<img>"),
    ('<img src="mailto:a@example.com">', "<img>"),
    ('<a href="mailto:ed@example.com">m</a>', f'<a href="mailto:ed@example.com" {REL}>m</a>'),
    (
        '<a href="http://e.example/?a=1&amp;b=2">q</a>',
        f'<a href="http://e.example/?a=1&amp;b=2" {REL}>q</a>',
    ),
    ('<blockquote cite="javascript:alert(1)">q</blockquote>', "<blockquote>q</blockquote>"),
    # links always get rel, whatever they said
    (
        '<a href="https://e.example" rel="opener" target="_blank">x</a>',
        f'<a href="https://e.example" {REL}>x</a>',
    ),
    # unknown tags are stripped but their text kept; comments go
    ("<div><span>text</span></div>", "text"),
    ("<p>a<!-- <script>alert(1)</script> -->b</p>", "<p>ab</p>"),
    ("<p>1 &lt; 2 &amp; 3</p>", "<p>1 &lt; 2 &amp; 3</p>"),
    ('<p title="x" id="y" class="z">t</p>', "<p>t</p>"),
    # a nested parser trick must not produce markup
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', '<img>"&gt;'),
]


@pytest.mark.parametrize(("dirty", "clean"), HOSTILE)
def test_hostile_input_is_cleaned(dirty, clean):
    assert clean_html(dirty) == clean


ALLOWED = [
    "<h2>Subtitlu</h2><p>Text <em>accentuat</em> și <strong>îngroșat</strong>.</p>",
    '<ul><li>unu</li></ul><ol start="3"><li>trei</li></ol>',
    "<blockquote><p>Citat</p></blockquote>",
    '<figure><img src="https://e.example/a.jpg" alt="Foto" width="640" height="480">'
    "<figcaption>Foto: Agerpres</figcaption></figure>",
    '<table><caption>Cifre</caption><thead><tr><th scope="col">An</th></tr></thead>'
    '<tbody><tr><td colspan="2">2024</td></tr></tbody></table>',
]


@pytest.mark.parametrize("markup", ALLOWED)
def test_article_structure_survives(markup):
    expected = BeautifulSoup(markup, "html.parser")
    cleaned = BeautifulSoup(clean_html(markup), "html.parser")
    assert [t.name for t in cleaned.find_all(True)] == [t.name for t in expected.find_all(True)]
    assert cleaned.get_text() == expected.get_text()


def test_no_dangerous_attribute_survives_any_allowed_tag():
    from webreader.sanitize import ALLOWED_TAGS

    for tag in ALLOWED_TAGS:
        dirty = (
            f'<{tag} onclick="x()" style="color:red" hx-get="/x" data-hx-get="/y" '
            f'hx-on:click="x()" data-x="1" id="i" class="c">t</{tag}>'
        )
        soup = BeautifulSoup(clean_html(dirty), "html.parser")
        for element in soup.find_all(True):
            names = set(element.attrs) - {"rel"}
            assert names == set(), (tag, element.attrs)


def test_cleaning_twice_changes_nothing():
    for dirty, _ in HOSTILE:
        once = clean_html(dirty)
        assert clean_html(once) == once


def test_plain_text_keeps_paragraphs_apart():
    assert html_to_text("<h2>T</h2><p>a &amp; b</p><p>c\n  d</p>") == "T\n\na & b\n\nc d"


def test_plain_text_keeps_table_cells_apart():
    """Cells written without spaces between them are still separate words (for search)."""
    markup = "<table><tr><th>Model</th><th>Price</th></tr><tr><td>P40</td><td>1.512</td></tr>"
    assert html_to_text(markup + "</table>") == "Model Price\n\nP40 1.512"
