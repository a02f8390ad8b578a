"""The PDF reader on fixtures made at test time from a wmt22 news document (reportlab with
Noto Sans CJK SC: two pages, running header, page numbers, hard-wrapped and indented
paragraphs, one paragraph across the page break; a two-column page), checked with pypdf
as the independent reader; on the real whitepapers; and on small tables of lines."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
from doc_fixtures import Layout, cjk_font, wmt22_document, write_pdf, write_two_columns

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.discover import read_file
from corpus.extract.pdf import Line, Page, _normalise, _Vocabulary, blocks_from_pages, join_lines

ZH_HEADER = "《利比亚观察》2021年12月刊"
EN_HEADER = "Libya Observer, December 2021"


@pytest.fixture(scope="module")
def doc(eval_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """news.zh.pdf + news.en.pdf (two pages each) and a two-column English page."""
    zh, en = wmt22_document(eval_dir)
    folder = tmp_path_factory.mktemp("pdf")
    font = cjk_font(folder, "".join(zh) + ZH_HEADER)
    zh_paras = [zh[i] + zh[i + 1] for i in range(1, 13, 2)]
    en_paras = [en[i] + " " + en[i + 1] for i in range(1, 13, 2)]
    pages = {}
    for side, paras, header in (("zh", zh_paras, ZH_HEADER), ("en", en_paras, EN_HEADER)):
        heading = (zh if side == "zh" else en)[0]
        # The first page height (from A5 down) at which a paragraph runs over the page break.
        for height in range(595, 450, -10):
            path, layout = folder / f"news.{side}.pdf", Layout(height=height)
            written = write_pdf(path, font, heading, paras, header, side == "zh", layout)
            if written[0] == 2 and written[1]:
                break
        pages[side] = written
    write_two_columns(folder / "columns.en.pdf", font, en[0], en_paras[:2], en_paras[2:4])
    return {"folder": folder, "zh": [zh[0], *zh_paras], "en": [en[0], *en_paras], "pages": pages}


@pytest.mark.parametrize("side", ["zh", "en"])
def test_the_fixture_is_two_pages_with_header_and_numbers_by_pypdf(doc: dict, side: str) -> None:
    reader = pypdf.PdfReader(doc["folder"] / f"news.{side}.pdf")
    texts = [page.extract_text() for page in reader.pages]
    pages, spanning = doc["pages"][side]
    assert pages == len(texts) == 2 and spanning
    header = ZH_HEADER if side == "zh" else EN_HEADER
    for number, text in enumerate(texts, start=1):
        lines = [line.strip() for line in text.splitlines()]
        assert header in lines and str(number) in lines
    # The paragraph the writer ran over the page break starts on page 1 and ends on page 2.
    para = doc[side][1 + spanning[0]]
    glue = "" if side == "zh" else " "
    one, two = (glue.join(line.strip() for line in t.splitlines()) for t in texts)
    assert para[:20] in one and para[:20] not in two
    assert para[-20:] in two and para[-20:] not in one


@pytest.mark.parametrize("side", ["zh", "en"])
def test_two_pages_read_into_whole_paragraphs_without_header_or_numbers(
    doc: dict, side: str
) -> None:
    blocks = read_file(doc["folder"] / f"news.{side}.pdf").blocks
    assert [b.text for b in blocks] == doc[side]
    assert [b.kind for b in blocks] == ["heading"] + ["body"] * (len(blocks) - 1)


def test_two_columns_are_read_left_then_right(doc: dict) -> None:
    blocks = read_file(doc["folder"] / "columns.en.pdf").blocks
    assert [b.text for b in blocks] == doc["en"][:5]


def test_page_limit_and_timeout_are_bounds(doc: dict) -> None:
    path = doc["folder"] / "news.en.pdf"
    with pytest.raises(InputError) as err:
        read_file(path, ExtractConfig(pdf_max_pages=1))
    assert err.value.code == "too_many_pages"
    assert err.value.problem == "more than 1 pages (extract.pdf_max_pages)"
    with pytest.raises(InputError) as err:
        read_file(path, ExtractConfig(pdf_timeout=0.01))
    assert err.value.code == "timeout"
    assert err.value.problem == "reading it took longer than 0.01 s (extract.pdf_timeout)"


REAL = [
    "bitcoin-whitepaper.zh",
    "bitcoin-whitepaper.en",
    "aptos-whitepaper.zh",
    "aptos-whitepaper.en",
]


@pytest.mark.parametrize("name", REAL)
def test_the_real_whitepapers_read_clean(eval_dir: Path, name: str) -> None:
    blocks = read_file(eval_dir / "formats" / "pdf" / f"{name}.pdf").blocks
    text = "".join(b.text for b in blocks)
    assert not re.search("[\u2f00-\u2fdf\ue000-\uf8ff\ufffd\ufb00-\ufb06]|\\(cid:", text)
    # No page numbers (every page has one); bitcoin's formulas leave one bare "1".
    assert len([b.text for b in blocks if re.fullmatch(r"[\divx ]+", b.text)]) <= 1


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("bitcoin-whitepaper.en", "Abstract. A purely peer-to-peer", "while they were gone."),
        ("bitcoin-whitepaper.zh", "摘要. 一种完全的点对点电子货币", "离开时发生事件的证据。"),
        ("aptos-whitepaper.zh", "区块链作为一种新的互联网基础设施的兴起", "以应对这些挑战。"),
        (
            "aptos-whitepaper.en",
            "Relying solely on the TLS/SSL certificates",
            "double-spend attacks.",
        ),
    ],
)
def test_real_paragraphs_are_whole(eval_dir: Path, name: str, start: str, end: str) -> None:
    """Hard-wrapped lines rejoined (the Aptos one across a page break and a figure), Kangxi
    radicals normalised (the Aptos zh PDF gives ⼀ for 一)."""
    blocks = read_file(eval_dir / "formats" / "pdf" / f"{name}.pdf").blocks
    assert [b.text for b in blocks if b.text.startswith(start) and b.text.endswith(end)]


def test_hyphens_are_undone_only_where_the_joined_word_is_a_word() -> None:
    lines = ["physical phys-", "ical trade-", "offs widely-", "used and blockchain block-", "chain"]
    words = _Vocabulary()
    for text in [*lines, "their trade-offs"]:
        words.add(text)
    assert (
        join_lines(lines, words)
        == "physical physical trade-offs widely-used and blockchain blockchain"
    )
    assert join_lines(["the phys-", "ical world"], _Vocabulary()) == "the physical world"


def test_chinese_lines_join_without_a_space_and_english_with_one() -> None:
    assert (
        join_lines(["我们提出一", "种方案，在web3", "时代"], _Vocabulary())
        == "我们提出一种方案，在web3时代"
    )
    assert join_lines(["one line", "and the next"], _Vocabulary()) == "one line and the next"


def test_han_meets_latin_at_a_line_break_as_the_file_writes_it_elsewhere() -> None:
    spaced, unspaced = _Vocabulary(), _Vocabulary()
    spaced.add("最大 CPU 算力池，区块头大约是 80 bytes")
    unspaced.add("在web3时代，Aptos区块链")
    assert join_lines(["每年生成", "80 bytes"], spaced) == "每年生成 80 bytes"
    assert join_lines(["每年生成", "80 bytes"], unspaced) == "每年生成80 bytes"


def test_kangxi_radicals_and_ligatures_are_normalised_but_fullwidth_punctuation_stays() -> None:
    assert _normalise("⼀种⽤于（测试），ﬁle\ue09e(cid:12)  end") == "一种用于（测试），file end"


def _line(y: float, text: str, x0: float = 72, x1: float = 520, size: float = 10) -> Line:
    return Line(x0, y, x1, y + size, size, False, text)


def test_running_headers_and_page_numbers_repeat_and_go() -> None:
    def page(number: int, body: list[str]) -> Page:
        lines = [_line(800, f"Annual Report {2020 + number % 2}", x1=200)]
        lines += [_line(700 - 14 * i, t) for i, t in enumerate(body)]
        lines.append(_line(30, f"- {number} -", x0=290, x1=310))
        return Page(595, 842, tuple(lines))

    pages = [
        page(1, ["The first page says something long enough to fill its line"]),
        page(2, ["and goes on here to its end."]),
        page(3, ["Annual Report 2021 is the title of this page's only paragraph."]),
    ]
    blocks = blocks_from_pages(pages).blocks
    assert [b.text for b in blocks] == [
        "The first page says something long enough to fill its line and goes on here to its end.",
        "Annual Report 2021 is the title of this page's only paragraph.",
    ]


def test_short_paragraphs_one_line_each_stay_apart() -> None:
    # Most paragraphs one line long (short Chinese paragraphs, each with a first-line indent
    # of 22 pt and 10 pt more space below): the most common line start is the indent and the
    # commonest distance between lines is the one between paragraphs, yet each stays whole.
    texts = [
        ("是的，变化真的很大。", 78, 188),
        ("我从 3 岁开始就超重，在 30 岁之前，我一直都这样。", 78, 363),
        ("我的大多数家人和以前认识的绝大多数朋友还是像从前一样", 78, 364),
        ("对我，他们对我", 56, 133),
        ("真是太", 78, 111),  # a paragraph without its full stop
        ("宽容了。", 78, 122),
        ("不过，我跟有些家族成员的关系在我减肥后似乎更严重了。", 78, 350),
    ]
    y, lines = 700.0, []
    for number, (text, x0, x1) in enumerate(texts):
        lines.append(Line(x0, y, x1, y + 11, 11, False, text))
        y -= 16 if number == 2 else 26
    blocks = blocks_from_pages([Page(420, 842, tuple(lines))]).blocks
    assert [b.text for b in blocks] == [
        texts[0][0],
        texts[1][0],
        texts[2][0] + texts[3][0],
        *(t for t, _, _ in texts[4:]),
    ]


def test_an_indented_block_stays_one_paragraph() -> None:
    # an abstract set in from both margins: its lines start at the same indent and end at
    # the block's own right edge, short of the body's
    block = [
        "Abstract. A purely peer-to-peer version of electronic cash would allow online",
        "payments to be sent directly from one party to another without going through a",
        "financial institution. Digital signatures provide part of the solution.",
    ]
    body = ["The body of the paper starts here and runs to the right margin of the page", "as"]
    lines = [_line(700 - 14 * i, t, x0=146, x1=464) for i, t in enumerate(block)]
    lines[-1] = _line(672, block[-1], x0=146, x1=420)
    lines += [_line(640 - 14 * i, t, x0=108, x1=504) for i, t in enumerate(body)]
    blocks = blocks_from_pages([Page(612, 792, tuple(lines))]).blocks
    assert [b.text for b in blocks] == [" ".join(block), " ".join(body)]


def test_list_items_headings_and_small_print_get_their_kinds() -> None:
    lines = [
        _line(760, "2. Method", x1=150, size=14),
        _line(730, "We did three things:", x1=250),
        _line(716, "• first, we read the files that were given to us by everyone who", x0=90),
        _line(702, "wanted to help;", x0=100, x1=200),
        _line(688, "• then we wrote.", x0=90, x1=200),
        _line(650, "Figure 1: The files.", x1=200),
        _line(100, "1 A note in small print.", x1=200, size=7),
    ]
    blocks = blocks_from_pages([Page(595, 842, tuple(lines))]).blocks
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "2. Method"),
        ("body", "We did three things:"),
        (
            "list",
            "• first, we read the files that were given to us by everyone who wanted to help;",
        ),
        ("list", "• then we wrote."),
        ("caption", "Figure 1: The files."),
        ("caption", "1 A note in small print."),
    ]


def test_an_encrypted_pdf_is_named_as_such(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "locked.zh.pdf"), encrypt="a password")
    pdf.drawString(72, 720, "Hello")
    pdf.showPage()
    pdf.save()
    with pytest.raises(InputError) as err:
        read_file(tmp_path / "locked.zh.pdf")
    assert err.value.code == "encrypted"
    assert err.value.problem == "encrypted PDF (needs a password or forbids copying)"


def test_a_pdf_without_text_is_no_text(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "scan.zh.pdf"))
    pdf.rect(72, 72, 200, 200, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(InputError) as err:
        read_file(tmp_path / "scan.zh.pdf")
    assert (err.value.code, err.value.problem) == (
        "no_text",
        "no text in the PDF (scanned pages? no OCR is done)",
    )
