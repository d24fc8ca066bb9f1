"""The allowlist every article body passes through, as the last step before storing.

Article HTML is hostile until it has been through clean_html(). Only the tags and
attributes listed here survive; the content of script-like elements is dropped whole,
not kept as text (bleach's strip=True alone would keep it).
"""

from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser

import bleach
from bleach import html5lib_shim

ALLOWED_TAGS = frozenset(
    {
        # text and structure
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "code",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        # emphasis
        "em",
        "strong",
        "b",
        "i",
        "u",
        "s",
        "small",
        "sub",
        "sup",
        "mark",
        "abbr",
        "cite",
        "q",
        # links, images, figures
        "a",
        "img",
        "figure",
        "figcaption",
        # simple tables
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
    }
)

# Elements removed together with everything inside them: their content is code,
# fallback markup or interface, never article text.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "form",
        "button",
        "select",
        "textarea",
        "title",
        "head",
        "meta",
        "link",
        "base",
    }
)

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
IMAGE_PROTOCOLS = frozenset({"http", "https"})
LINK_REL = "noopener noreferrer nofollow"

_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
_URL_ATTRIBUTES = {"href", "src", "cite"}
# How browsers read a URL: entities decoded, control characters and spaces ignored.
_URL_NOISE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _url_scheme(value: str) -> str | None:
    match = _SCHEME.match(_URL_NOISE.sub("", html.unescape(value)))
    return match.group(1).lower() if match else None


def web_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) one, else None: for URLs shown as links."""
    if value and _url_scheme(value) in IMAGE_PROTOCOLS:
        return value.strip()
    return None


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _ATTRIBUTES.get(tag, ()):
        return False
    if name in _URL_ATTRIBUTES:
        # Absolute URLs only: a relative one would point into webreader itself.
        allowed = IMAGE_PROTOCOLS if tag == "img" else ALLOWED_PROTOCOLS
        return _url_scheme(value) in allowed
    return True


class _DropContent(html5lib_shim.Filter):
    """Removes DROPPED_WITH_CONTENT elements and their whole subtree from a token stream."""

    def __iter__(self):
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            name = token.get("name", "").lower()
            if name in DROPPED_WITH_CONTENT and kind in ("StartTag", "EndTag", "EmptyTag"):
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth = max(depth - 1, 0)
                continue
            if depth == 0:
                yield token


class _LinkRel(html5lib_shim.Filter):
    """Gives every link rel="noopener noreferrer nofollow", whatever it said before."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                token["data"][(None, "rel")] = LINK_REL
            yield token


# Parsing costs time in proportion to how deep the markup nests: most start and end tags
# make the parser look down its stack of open elements, so '<blockquote>' * 100_000 took
# minutes. No article nests its structure this deep; beyond these bounds the excess tags are
# dropped and their content kept (flattened), so a hostile body costs what a flat one does.
MAX_DEPTH = 64  # elements open at once (the parser's root among them)
# Formatting elements (b, i, a...) closed by a block around them are reopened before the next
# text, all at once: so many of them are bounded too.
MAX_FORMATTING = 32
_FORMATTING = frozenset(
    {
        "a",
        "b",
        "big",
        "code",
        "em",
        "font",
        "i",
        "nobr",
        "s",
        "small",
        "strike",
        "strong",
        "tt",
        "u",
    }
)
# Never dropped: void elements open nothing, and raw-text elements switch the tokenizer to
# reading their content as text, which must still happen for that content to be dropped.
_NOT_NESTING = frozenset(
    {
        "br",
        "hr",
        "img",
        "embed",
        "frame",
        "meta",
        "link",
        "base",
        "script",
        "style",
        "textarea",
        "title",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
    }
)
_START_TAG = html5lib_shim.TAG_TOKEN_TYPE_START
_CHARACTERS = html5lib_shim.TAG_TOKEN_TYPE_CHARACTERS
_PARSE_ERROR = html5lib_shim.TAG_TOKEN_TYPE_PARSEERROR


class _BoundedTokenizer(html5lib_shim.BleachHTMLTokenizer):
    """Bleach's tokenizer, bounded: a start tag that would open an element beyond MAX_DEPTH
    (or a formatting element beyond MAX_FORMATTING) is dropped, its content staying in the
    element above; runs of text tokens reach the tree as one (appending them one by one to
    the same text copies it every time). The parser takes one token at a time, so its
    stack is what the tokens before this one built.

    Two costs grow with the square of a token's size, so they are refused (MarkupTooLarge):
    a tag is checked for duplicate attributes one by one against all before (beyond
    MAX_ATTRIBUTES), and a tag name, an attribute name or value, or a comment is built a
    character at a time where it holds anything unusual (digits in a name, dashes in a
    comment, NUL characters), each character copying all that came before (beyond
    MAX_COPYING characters copied so, for the whole body)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.token_length = 0  # characters read since the last token
        self.copying = 0  # what appending them a character at a time may have copied
        char, chars_until = self.stream.char, self.stream.charsUntil

        def counted_char():
            self.token_length += 1
            self.copying += self.token_length
            if self.copying > MAX_COPYING:
                raise MarkupTooLarge("the article's HTML has tags or comments too long to read")
            return char()

        def counted_chars_until(characters, opposite=False):
            chars = chars_until(characters, opposite)
            self.token_length += len(chars)
            return chars

        self.stream.char = counted_char
        self.stream.charsUntil = counted_chars_until

    def attributeNameState(self):
        if len(self.currentToken["data"]) > MAX_ATTRIBUTES:
            raise MarkupTooLarge(
                f"the article's HTML has a tag with more than {MAX_ATTRIBUTES} attributes"
            )
        return super().attributeNameState()

    def __iter__(self):
        tree = self.parser.tree
        text: list[str] = []
        for token in super().__iter__():
            kind = token["type"]
            if kind == _PARSE_ERROR:  # reported, even amid text or a tag being read
                yield token
                continue
            self.token_length = 0
            if kind == _CHARACTERS:
                if token["data"] != "\x00":  # a NUL in text: ignored by the tree anyway
                    text.append(token["data"])
                continue
            if text:
                yield {"type": _CHARACTERS, "data": "".join(text)}
                text = []
            if (
                kind == _START_TAG
                and token["name"] not in _NOT_NESTING
                and (
                    len(tree.openElements) >= MAX_DEPTH
                    or (
                        token["name"] in _FORMATTING
                        and len(tree.activeFormattingElements) >= MAX_FORMATTING
                    )
                )
            ):
                continue  # nested too deep: the element goes, its content stays
            yield token
        if text:
            yield {"type": _CHARACTERS, "data": "".join(text)}


class _BoundedParser(html5lib_shim.BleachHTMLParser):
    """Bleach's parser with the bounded tokenizer, which also stops (MarkupTooLarge) once
    it has made MAX_ELEMENTS elements: formatting elements reopened in paragraph after
    paragraph can make many times more elements than the markup has tags."""

    def _parse(self, stream, innerHTML=False, container="div", scripting=True, **kwargs):
        # As BleachHTMLParser._parse, with the bounded tokenizer and the counted elements.
        element_class = type(self.tree).elementClass
        made = 0

        def count(name, namespace=None):
            nonlocal made
            made += 1
            if made > MAX_ELEMENTS:
                raise MarkupTooLarge(
                    f"the article's HTML makes more than {MAX_ELEMENTS:,} elements, "
                    "more than an article may have"
                )
            return element_class(name, namespace)

        self.tree.elementClass = count
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _BoundedTokenizer(
            stream=stream, consume_entities=self.consume_entities, parser=self, **kwargs
        )
        self.reset()
        try:
            self.mainLoop()
        except html5lib_shim.ReparseException:
            self.reset()
            self.mainLoop()


class _PreNewline(html5lib_shim.Filter):
    """Drops the newlines that start a <pre>. A parser drops the first one as markup
    layout, but html5lib only does in some places (not in a table cell), so written as it
    is, such a <pre> would lose a newline at each cleaning or keep it, depending on where it
    stands. Without them it reads the same to every parser."""

    def __iter__(self):
        after_pre = False
        for token in super().__iter__():
            if after_pre and token["type"] in ("Characters", "SpaceCharacters"):
                token = {**token, "data": token["data"].lstrip("\n")}
                if not token["data"]:
                    continue  # the next text token starts the <pre>
            after_pre = token["type"] == "StartTag" and token["name"] == "pre"
            yield token


_EtreeWalker = html5lib_shim.getTreeWalker("etree")


class _LinearWalker(_EtreeWalker):
    """html5lib's etree walker, which finds an element's place among its parent's children
    on the way back up by searching them, twice: the square of their number, seconds for
    thousands of paragraphs. This one remembers the places on the way down."""

    def __init__(self, tree) -> None:
        super().__init__(tree)
        self.keys: list[int | None] = []  # each of `parents`' place in its own parent

    def getFirstChild(self, node):
        if isinstance(node, tuple):
            element, key, parents, flag = node
        else:
            element, key, parents, flag = node, None, [], None
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.append(element)
            self.keys.append(key)
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.append(element)
                self.keys.append(key)
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        if key < len(parents[-1]) - 1:
            return parents[-1][key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent, parent_key = parents.pop(), self.keys.pop()
        return (parent, parent_key, parents, None) if parents else parent


class _Cleaner(bleach.Cleaner):
    def __init__(self) -> None:
        super().__init__(
            tags=ALLOWED_TAGS,
            attributes=_allow_attribute,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_LinkRel, _PreNewline],
        )
        # The parser must know the dropped elements as elements (so that their
        # content is parsed as raw text and stays inside them) for _DropContent
        # to remove them; the sanitizer filter still allows only ALLOWED_TAGS.
        self.parser = _BoundedParser(
            tags=ALLOWED_TAGS | DROPPED_WITH_CONTENT,
            strip=True,
            consume_entities=False,
            namespaceHTMLElements=False,
        )
        self.walker = lambda dom: _DropContent(_LinearWalker(dom))


_local = threading.local()


def _cleaner() -> _Cleaner:
    """This thread's cleaner: bleach's keep parsing state, so threads sharing one (the
    server's, importing two uploads at once) would mix their documents up."""
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = _Cleaner()
    return cleaner


# Rounds of cleaning before giving up on a stable result; see clean_html().
MAX_ROUNDS = 5
# Cleaning costs about 50 µs a tag here (HTML parsed and written in Python), so a body is
# refused beyond these, before any parsing: no article comes near them (a long one has a few
# thousand tags), and the worst markup within them cleans in a second or two.
MAX_HTML_CHARS = 1_000_000
MAX_MARKUP = 20_000  # tags and character references ("<" and "&")
MAX_ELEMENTS = 2 * MAX_MARKUP  # what the parser may make of them (see _BoundedParser)
MAX_ATTRIBUTES = 64  # of one tag (see _BoundedTokenizer)
MAX_COPYING = 10_000_000_000  # characters (idem): about a third of a second of copying


class MarkupTooLarge(ValueError):
    """The body is larger than an article is; the message says by how much, for a person."""


def check_size(markup: str) -> None:
    """Raises MarkupTooLarge for a body beyond MAX_HTML_CHARS or MAX_MARKUP."""
    if len(markup) > MAX_HTML_CHARS:
        raise MarkupTooLarge(
            f"the article's HTML is {len(markup) / 1e6:.1f} million characters, "
            f"more than the {MAX_HTML_CHARS / 1e6:g} million an article may have"
        )
    tags = markup.count("<") + markup.count("&")
    if tags > MAX_MARKUP:
        raise MarkupTooLarge(
            f"the article's HTML has {tags:,} tags and character references, "
            f"more than the {MAX_MARKUP:,} an article may have"
        )


def clean_html(markup: str) -> str:
    """Sanitized HTML, safe to render with |safe, and stable: cleaning it again changes
    nothing, so what a browser builds from it is the tree that was checked.

    >>> clean_html('<p onclick="x()">Hi<script>alert(1)</script></p>')
    '<p>Hi</p>'

    One round is not always stable. The parser's error recovery builds trees that no markup
    spells: in '<A><TABLE><A>' the second link is moved out of the table, into the first
    (foster parenting), and the markup written for that tree, '<a><a></a><table></table></a>',
    parses as two links side by side. So the output is cleaned again until it no longer
    changes: clean markup takes one round, other input two, misnested input three or four
    (each round undoes misnesting that the last one's markup made visible; longer input has
    not needed more). The rounds are bounded because each costs a whole parse and nothing
    proves that every input converges; at the bound the text alone is kept, as paragraphs,
    which is stable by construction.

    Raises MarkupTooLarge for a body beyond MAX_HTML_CHARS or MAX_MARKUP (see check_size)
    or one that makes more than MAX_ELEMENTS elements. Each round's input is held to the
    limits, the output too: what is stored can be imported again (from an export).
    """
    cleaner = _cleaner()
    current = markup
    for _ in range(MAX_ROUNDS):
        check_size(current)
        cleaned = cleaner.clean(current).strip()
        if cleaned == current:
            return cleaned
        current = cleaned
    return _as_paragraphs(html_to_text(current))


def _as_paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text.split("\n\n") if p)


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {
            "p",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "li",
            "blockquote",
            "pre",
            "figcaption",
            "tr",
            "dt",
            "dd",
            "caption",
            "br",
            "hr",
            "table",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    _CELLS = frozenset({"td", "th"})  # a row is one paragraph, its cells words apart

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")
        elif tag in self._CELLS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n\n")
        elif tag in self._CELLS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of sanitized HTML, paragraphs separated by blank lines (for search)."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)
