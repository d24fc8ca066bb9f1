"""The text-dump parser, on the real sample and on bad or unusual input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from webreader.importers.base import InvalidInput, decode_text
from webreader.importers.textdump import InvalidDump, load_rules, parse_dump

TITLE = (
    'Vladimir Putin, în vizită la "adevăratul său aliat". '
    "Țara în care liderul Rusiei are un interes uriaș"
)
TEASERS = [
    (
        "România va intra în Schengen de la 1 ianuarie. Iohannis: „Ambasadorii UE au agreat "
        "aderarea completă”",
        "Ambasadorii UE au agreat miercuri aderarea României la Spaţiul Schengen şi cu "
        "frontierele terestre, începând cu 1 ianuarie 2025.",
    ),
    (
        "Un oficial al statului român cere interzicerea TikTok în România, de joi. Pavel "
        "Popescu anunță începerea „procedurilor”",
        "Un oficial al statului român cere public interzicerea platformei TikTok în România, "
        "după acuzațiile de influențare în primul tur al electoratului român în favoarea "
        "suveranistului Călin Georgescu.",
    ),
    (
        "Ilie Bolojan, față în față cu Andreea Esca, la Știrile ProTV. Cum se pregătește PNL "
        "de alegerile parlamentare",
        "Începând de miercuri seară, vom discuta cu reprezentanții marilor partide care se vor "
        "prezenta duminica, la urne. Primul invitat al Știrilor Pro Tv, este Ilie Bolojan, "
        "noul președinte interimat al PNL.",
    ),
    (
        "Laura Codruța Kovesi, mesaj important pentru studenții din România: „Totul depinde "
        "de noi, de fiecare dintre noi”",
        "Laura Codruţa Kovesi a declarat, miercuri, în cadrul unei conferinţe la Universitatea "
        "„Alexandru Ioan Cuza” din Iaşi, că românii ar trebui să fie mândri pe drumul pe care "
        "l-au urmat ca europeni şi să aibă mai multă încredere în ei.",
    ),
    (
        "Cercetătorii NASA au găsit un „oraș” sub gheața din Groenlanda: „La început nu am "
        "știut ce este”",
        "Oamenii de știință NASA un „oraș” sub gheța din Groenlanda în timp ce încercau să "
        "cartografieze insula. Eforturile lor au dus la descoperirea Camp Century o bază "
        "militară americană din Războiul Rece.",
    ),
    (
        "Clubul de la Roma se delimitează de Călin Georgescu: „Utilizare neadecvată a "
        "istoricului asociației în campania electorală”",
        "Asociaţia Română pentru Clubul de la Roma îşi reafirmă angajamentul ferm pentru "
        "valorile europene şi atlantice, reflectate de calitatea de membru al României în UE "
        "şi NATO.",
    ),
    (
        "Explozie puternică într-un bloc de locuințe din Codlea. Nouă imobile au fost afectate",
        "O explozie puternică a zguduit, miercuri, un bloc de locuințe din orașul Codlea, "
        "județul Brașov. Un bărbat de 44 ani a fost grav rănit și este în spital, la terapie "
        "intensivă.",
    ),
    (
        "Motivul pentru care Rusia a arborat drapelul oficial luni în România. Explicația "
        "Moscovei | FOTO",
        "Steagurile Rusiei și Belarusului au fost arborate în județul Vrancea, în cadrul unui "
        "eveniment promovat pe rețelele de socializare de Ambasada Rusiei în România.",
    ),
    (
        "„Scenariul realist” care poate arunca Moldova în colaps. Transnistria rămâne în câteva "
        "săptămâni fără gazele rusești",
        "Gazele rusești ar putea fi oprite la livrare către Transnistria, acesta fiind un "
        "„scenariu realist” a afirmat miercuri ministrul Energiei din Republica Moldova, Victor "
        "Parlicov, după discuțiile cu gigantul rus Gazprom.",
    ),
]
BOILERPLATE = [
    "canalul de social media",
    "Pentru mai multe detalii",
    "stirea originala",
    "ROBOTFX",
    "MetaTrader",
    "Amulete",
    "talismane",
    "Ultimele stiri",
]


@pytest.fixture(scope="module")
def parsed():
    sample = Path(__file__).parent / "fixtures" / "stiri-protv-2024-11-27-putin-kazahstan.txt"
    return parse_dump(decode_text(sample.read_bytes())[0], load_rules())


def body(parsed) -> BeautifulSoup:
    return BeautifulSoup(parsed.article["html"], "html.parser")


def test_title_is_the_first_line_and_its_repetition_is_dropped(parsed):
    assert parsed.article["title"] == TITLE
    assert TITLE not in parsed.article["html"]


def test_date_line_gives_the_publication_date(parsed):
    assert parsed.article["published"] == "2024-11-27"
    assert "📅" not in parsed.article["html"]


def test_body_has_thirteen_paragraphs_and_one_subheading(parsed):
    soup = body(parsed)
    paragraphs = soup.find_all("p")
    assert len(paragraphs) == 13
    assert paragraphs[0].get_text().startswith("Pe agenda liderului de la Kremlin")
    assert paragraphs[-1].get_text().startswith("Totuşi, Kazahstanul")
    assert [h.get_text() for h in soup.find_all("h2")] == ['"Proiecte la scară mare"']
    # The subheading stands where it stood: after the seventh paragraph.
    assert soup.find("h2").find_previous_sibling("p") == paragraphs[6]


def test_no_boilerplate_ad_or_teaser_reaches_the_body(parsed):
    text = body(parsed).get_text()
    for phrase in BOILERPLATE:
        assert phrase not in text
    for headline, summary in TEASERS:
        assert headline not in text
        assert summary not in text


def test_the_nine_teasers_with_their_summaries(parsed):
    assert [(t["title"], t["summary"]) for t in parsed.teasers] == TEASERS
    assert {t["kind"] for t in parsed.teasers} == {"teaser"}
    assert {t["html"] for t in parsed.teasers} == {""}


def test_source_comes_from_the_latest_news_heading(parsed):
    assert parsed.article["source"] == "PRO TV"
    assert {t["source"] for t in parsed.teasers} == {"PRO TV"}


def test_teaser_with_the_article_title_gives_the_summary(parsed):
    assert parsed.article["summary"].startswith(
        "Preşedintele rus Vladimir Putin a sosit miercuri pentru o vizită de două zile"
    )


def test_language_is_detected_as_romanian(parsed):
    assert parsed.article["lang"] == "ro"


def test_english_text_is_not_called_romanian():
    text = (
        "A headline in English\n\nThe committee met on Tuesday to discuss the budget for "
        "next year, and agreed to publish its findings before the summer.\n"
    )
    assert parse_dump(text, load_rules()).article["lang"] == "en"


def test_markup_in_a_text_file_stays_text():
    text = 'Titlu cu <b>bold</b>\n\nUn paragraf cu <script>alert("x")</script> și <b>b</b>.\n'
    parsed = parse_dump(text, load_rules())
    assert parsed.article["title"] == "Titlu cu <b>bold</b>"
    soup = BeautifulSoup(parsed.article["html"], "html.parser")
    assert soup.find("script") is None and soup.find("b") is None
    assert soup.p.get_text() == 'Un paragraf cu <script>alert("x")</script> și <b>b</b>.'


@pytest.mark.parametrize("line", ["📅 2024-02-30", "📅 2024-13-01", "📅 ieri"])
def test_impossible_date_is_stored_as_unknown(line):
    parsed = parse_dump(f"Un titlu\n{line}\n\nUn paragraf de text.\n", load_rules())
    assert parsed.article["published"] is None
    assert parsed.warnings and "date" in parsed.warnings[0]
    assert line not in parsed.article["html"]


def test_dump_without_date_is_accepted():
    parsed = parse_dump("Un titlu\n\nUn paragraf de text.\n", load_rules())
    assert parsed.article["published"] is None
    assert parsed.warnings == []


def test_lines_within_a_paragraph_are_joined():
    parsed = parse_dump("Titlu\n\nPrima linie\na doua linie.\n", load_rules())
    assert parsed.article["html"] == "<p>Prima linie a doua linie.</p>"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"  \n\n\t \r\n", "only whitespace"),
        (b"\xef\xbb\xbf \n", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(InvalidInput, match=reason):
        decode_text(data)


def test_text_that_is_not_utf8_is_read_in_its_legacy_encoding():
    # "Această ştire e greşită." in Windows-1250, as old Romanian sites saved it.
    data = "Titlu\n\nAceastă ştire e greşită, părinţii sunt sfătuiţi să aştepte.\n".encode("cp1250")
    assert "Această ştire e greşită" in decode_text(data)[0]


def test_byte_order_mark_is_not_part_of_the_title():
    text, _ = decode_text("\ufeffTitlu\n\nUn paragraf.\n".encode())
    assert parse_dump(text, load_rules()).article["title"] == "Titlu"


@pytest.mark.parametrize(
    "text",
    [
        "📅 2024-11-27\n\nUn paragraf fără titlu.\n",
        "Ultimele stiri protv\n\nTitlu\n\nRezumat.\n",
        "x" * 301 + "\n\nText.\n",
    ],
)
def test_dump_without_a_title_is_refused(text):
    with pytest.raises(InvalidDump, match="no title"):
        parse_dump(text, load_rules())


def test_title_without_text_is_refused():
    with pytest.raises(InvalidDump, match="no article text"):
        parse_dump("Doar un titlu\n📅 2024-11-27\n", load_rules())


def test_rules_are_extended_from_a_users_file(tmp_path):
    text = "Titlu\n\nUn paragraf.\n\nCitește și: altceva\n\nUltimele stiri exemplu\n\nT\n\nR.\n"
    assert "Citește și" in parse_dump(text, load_rules()).article["html"]
    extra = tmp_path / "rules.toml"
    extra.write_text(
        "[[drop]]\nname = \"read also\"\npattern = '^Citește și:'\n"
        '[sources]\nexemplu = "Exemplu.ro"\n',
        encoding="utf-8",
    )
    parsed = parse_dump(text, load_rules(extra))
    assert "Citește și" not in parsed.article["html"]
    assert parsed.article["source"] == "Exemplu.ro"


def test_broken_rules_file_is_a_clear_error(tmp_path):
    extra = tmp_path / "rules.toml"
    extra.write_text("[[drop]]\npattern = '(unclosed'\n", encoding="utf-8")
    with pytest.raises(InvalidDump, match=re.escape(str(extra))):
        load_rules(extra)


def test_teaser_whose_headline_and_summary_share_a_paragraph():
    text = "Titlu\n\nUn paragraf.\n\nUltimele stiri protv\n\nAltă știre\nRezumatul ei.\n"
    parsed = parse_dump(text, load_rules())
    assert [(t["title"], t["summary"]) for t in parsed.teasers] == [("Altă știre", "Rezumatul ei.")]


def test_whitespace_only_text_is_refused_by_the_parser_too():
    with pytest.raises(InvalidDump, match="only whitespace"):
        parse_dump(" \n\u00a0\n\t", load_rules())


@pytest.mark.parametrize("odd", ["\uffff", "\ufdd0", "\U0001fffe", "\x00", "\ud800"])
def test_language_is_found_despite_characters_the_model_refuses(odd):
    """CLD2 refuses noncharacters, controls and lone surrogates: they are left out of what
    it reads, never the reason an article goes without a language (and its stems)."""
    from webreader.text import detect_language

    text = f"Țara noastră și orașul în care trăim sunt frumoase{odd}, spune primarul."
    assert detect_language(text) == "ro"
