"""Fixture writers for the PDF and subtitle readers' tests: real text from ../shared/eval
written with the writer side of real libraries (reportlab with a Noto CJK font, srt,
webvtt-py), made at test time and never committed.

reportlab embeds TrueType outlines only, and Debian's ``fonts-noto-cjk`` ships
CFF (PostScript) outlines, so :func:`cjk_font` subsets Noto Sans CJK SC to the
characters a fixture needs and converts it to TrueType with fontTools (cu2qu).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def wmt22_document(eval_dir: Path, number: str = "003") -> tuple[list[str], list[str]]:
    """The (zh, en) segments of one wmt22 document (line i translates line i)."""
    folder = eval_dir / "wmt22-en-zh-docs"
    zh = (folder / "zh" / number).read_text(encoding="utf-8").splitlines()
    en = (folder / "en" / number).read_text(encoding="utf-8").splitlines()
    assert len(zh) == len(en)
    return zh, en


def cjk_font(folder: Path, text: str) -> str:
    """Register (once) and return the name of a reportlab font holding Noto Sans CJK SC's
    glyphs for ``text`` plus ASCII, converted to TrueType in ``folder``."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, newTable
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not NOTO_CJK.is_file():
        raise AssertionError(f"{NOTO_CJK} is missing: apt-get install -y fonts-noto-cjk")
    font = next(
        f for f in TTCollection(str(NOTO_CJK), lazy=True).fonts if "SC" in f["name"].getDebugName(1)
    )
    options = subset.Options()
    options.notdef_outline = True
    options.desubroutinize = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))) + "".join(map(chr, range(32, 127))))
    subsetter.subset(font)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for key in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, key, 1 if key == "maxZones" else 0)
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    name = f"NotoSC-{abs(hash(text)) % 10**8}"
    path = folder / f"{name}.ttf"
    font.save(str(path))
    pdfmetrics.registerFont(TTFont(name, str(path)))
    return name


@dataclass(frozen=True)
class Layout:
    """Page geometry of a written PDF (points)."""

    width: float = 420.0  # A5
    height: float = 595.0
    margin: float = 56.0
    size: float = 11.0
    pitch: float = 16.0
    gap: float = 10.0  # extra space between paragraphs
    indent: float = 22.0  # first-line indent of body paragraphs


def _wrap(
    text: str, font: str, size: float, width: float, first: float, chinese: bool
) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (the first ``first`` narrower): by
    character for Chinese, by word for English."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    units = _han_units(text) if chinese else text.split(" ")
    glue = "" if chinese else " "
    lines: list[str] = []
    current = ""
    for unit in units:
        trial = unit if not current else current + glue + unit
        limit = width - (first if not lines else 0)
        if current and stringWidth(trial, font, size) > limit:
            lines.append(current)
            current = unit
        else:
            current = trial
    lines.append(current)
    return lines


def _han_units(text: str) -> list[str]:
    """``text`` cut only between two non-ASCII characters ("近 100 名" stays whole): a line
    break beside a space or inside a number would lose what the text had there."""
    units: list[str] = []
    for i, ch in enumerate(text):
        if units and (ch.isascii() or text[i - 1].isascii()):
            units[-1] += ch
        else:
            units.append(ch)
    return units


def write_pdf(
    path: Path,
    font: str,
    heading: str,
    paragraphs: list[str],
    header: str,
    chinese: bool,
    layout: Layout = Layout(),
) -> tuple[int, list[int]]:
    """Write ``heading`` (larger) and ``paragraphs`` (hard-wrapped, first line indented) flowing
    over as many pages as they need, each page with the running ``header`` at the top and its
    page number at the bottom; returns the number of pages and the indices of the paragraphs
    that run over a page break."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(layout.width, layout.height))
    page = 1
    top = layout.height - layout.margin - 2 * layout.pitch
    y = top

    def furniture() -> None:
        pdf.setFont(font, 9)
        pdf.drawString(layout.margin, layout.height - layout.margin, header)
        pdf.drawCentredString(layout.width / 2, layout.margin / 2, str(page))

    furniture()
    pdf.setFont(font, layout.size * 1.5)
    pdf.drawString(layout.margin, y, heading)
    y -= 2 * layout.pitch + layout.gap
    width = layout.width - 2 * layout.margin
    spanning = []
    for index, text in enumerate(paragraphs):
        for number, line in enumerate(
            _wrap(text, font, layout.size, width, layout.indent, chinese)
        ):
            if y < layout.margin + layout.pitch:
                pdf.showPage()
                page += 1
                furniture()
                y = top
                if number:
                    spanning.append(index)
            pdf.setFont(font, layout.size)
            pdf.drawString(layout.margin + (layout.indent if number == 0 else 0), y, line)
            y -= layout.pitch
        y -= layout.gap
    pdf.showPage()
    pdf.save()
    return page, spanning


def write_two_columns(path: Path, font: str, title: str, left: list[str], right: list[str]) -> None:
    """One page: a full-width ``title``, then ``left`` paragraphs in the left column and
    ``right`` paragraphs in the right column (English, word-wrapped)."""
    from reportlab.pdfgen import canvas

    layout = Layout(width=595.0, height=842.0)
    pdf = canvas.Canvas(str(path), pagesize=(layout.width, layout.height))
    pdf.setFont(font, 16)
    pdf.drawString(layout.margin, layout.height - layout.margin, title)
    column = (layout.width - 2 * layout.margin - 24) / 2
    for x, paras in ((layout.margin, left), (layout.margin + column + 24, right)):
        y = layout.height - layout.margin - 40
        for text in paras:
            for number, line in enumerate(_wrap(text, font, 10, column, 14, False)):
                pdf.setFont(font, 10)
                pdf.drawString(x + (14 if number == 0 else 0), y, line)
                y -= 13
            y -= 8
    pdf.showPage()
    pdf.save()


def cue_times(sentences: list[str], seconds_per_char: float) -> list[tuple[float, float]]:
    """A (start, end) span per sentence, back to back with a 0.4 s pause, proportional to
    its length."""
    spans = []
    t = 1.0
    for sentence in sentences:
        length = max(1.0, len(sentence) * seconds_per_char)
        spans.append((t, t + length))
        t += length + 0.4
    return spans


def split_cues(
    sentences: list[str], spans: list[tuple[float, float]], width: int, chinese: bool
) -> list[tuple[float, float, str]]:
    """Cues of at most ``width`` characters (Chinese) or words (English) per sentence, each
    taking its share of the sentence's span: where the cuts fall differs between the sides."""
    cues = []
    for sentence, (start, end) in zip(sentences, spans, strict=True):
        pieces = _chunks(sentence, width) if chinese else _word_chunks(sentence, width)
        step = (end - start) / len(pieces)
        for i, text in enumerate(pieces):
            cues.append((round(start + i * step, 3), round(start + (i + 1) * step - 0.05, 3), text))
    return cues


def _chunks(text: str, width: int) -> list[str]:
    """``text`` in pieces of about ``width`` characters, never cut beside a space or inside
    a Latin word or number (as subtitlers cut; a reader cannot tell a space at a cue boundary
    from none)."""
    pieces, i = [], 0
    while i < len(text):
        j = min(i + width, len(text))
        while j < len(text) and (" " in text[j - 1 : j + 1] or text[j - 1 : j + 1].isascii()):
            j += 1
        pieces.append(text[i:j])
        i = j
    return pieces


def _word_chunks(text: str, width: int) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[i : i + width]) for i in range(0, len(words), width)]


def write_srt(path: Path, cues: list[tuple[float, float, str]]) -> None:
    """Write ``cues`` as SRT with the ``srt`` library, in the order given (even out of time order)."""
    from datetime import timedelta

    import srt

    subtitles = [
        srt.Subtitle(i + 1, timedelta(seconds=a), timedelta(seconds=b), text)
        for i, (a, b, text) in enumerate(cues)
    ]
    path.write_text(srt.compose(subtitles, reindex=False), encoding="utf-8")  # kept in order


def write_vtt(path: Path, cues: list[tuple[float, float, str]]) -> None:
    """Write ``cues`` as WebVTT with webvtt-py."""
    import webvtt

    def clock(seconds: float) -> str:
        millis = round(seconds * 1000)
        whole, rest = divmod(millis, 1000)
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{rest:03d}"

    vtt = webvtt.WebVTT()
    for a, b, text in cues:
        vtt.captions.append(webvtt.Caption(clock(a), clock(b), text))
    vtt.save(str(path))


# --------------------------------------------------------------------------- hostile PDFs


def raw_pdf(objects: list[bytes], extra: bytes = b"") -> bytes:
    """A PDF made of ``objects`` (object i+1 is ``objects[i]``; 1 is the catalog) with a
    correct xref table, then ``extra`` after ``%%EOF``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out) + extra


def _stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 12 Tf 72 720 Td (Hello from a hostile file.) Tj ET"


def _page(contents: int = 4, font: int = 5) -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (contents, font)
    )


def hostile_pdfs(planted: Path) -> dict[str, bytes]:
    """Name -> bytes of each hostile PDF case. ``planted`` is a file whose contents must never
    reach any output (a stream that names it as its external data file)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    good = [catalog, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(), _stream(_TEXT), _FONT]
    whole = raw_pdf(good)
    flood = zlib_compress(b"BT /F1 1 Tf " + b"(x) Tj " * 30_000_000 + b"ET")
    return {
        "truncated": whole[: len(whole) // 2],
        "garbage-after-header": b"%PDF-1.7\n" + bytes(range(256)) * 64,
        "tree-loop": raw_pdf(
            [catalog, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", *good[2:]]
        ),
        "billion-pages": raw_pdf(
            [catalog, b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>", *good[2:]]
        ),
        "many-pages": raw_pdf(
            [
                catalog,
                b"<< /Type /Pages /Kids [%s] /Count 1500 >>"
                % b" ".join(b"%d 0 R" % (5 + i) for i in range(1500)),
                _stream(_TEXT),
                _FONT,
                *[_page(3, 4)] * 1500,
            ]
        ),
        "short-length": raw_pdf(
            [*good[:3], _stream(_TEXT).replace(b"/Length %d" % len(_TEXT), b"/Length 7"), _FONT]
        ),
        "huge-length": raw_pdf(
            [
                *good[:3],
                _stream(_TEXT).replace(b"/Length %d" % len(_TEXT), b"/Length 999999999"),
                _FONT,
            ]
        ),
        "flood": raw_pdf([*good[:3], _stream(flood, b"/Filter /FlateDecode"), _FONT]),
        "external-file": raw_pdf(
            [
                *good[:3],
                b"<< /Length 0 /F (%s) >>\nstream\n\nendstream" % str(planted).encode(),
                _FONT,
            ]
        ),
    }


def zlib_compress(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data, 9)
