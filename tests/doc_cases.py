"""Documents with known answers, made from real text, and the pair F1 of a build on them.

The text is the wmt22 test documents in ``../shared/eval`` (professional
translations, segment i of the zh file translates segment i of the en file).
A *case* writes them as input files the way real documents come, and keeps,
for every document, which characters of each side belong to which segment:

- ``clean``: ``NAME.zh.txt`` + ``NAME.en.txt``, one segment per paragraph;
- ``split``: the same, but each side grouped into paragraphs of 1-3 segments
  independently of the other side (a CMS or a translator re-paragraphed);
- ``web``: each side wrapped in its own web furniture (menus, share bars,
  related headlines, notices: lines whose translation is not on the other
  side), a segment missing on one side now and then, and a third of the
  documents paragraphed as in ``split``;
- ``page``: one bilingual ``NAME.txt`` per document: the Chinese article, then
  the English one, each with its furniture.

:func:`pair_f1` scores a build's kept pairs: a pair is right when the set of
segments its zh characters come from equals that of its en characters (so a
segment split into two 1-1 pairs is right, a pair of furniture or of two
different segments is wrong); precision and recall count zh characters
(recall over the segments that are on both sides).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

CASES = ("clean", "split", "web", "page")
#: The formats of the ``formats`` case, one per document in turn (srt/vtt: a subtitle pair).
FORMATS = ("txt", "html", "docx", "epub", "pdf", "srt", "vtt")

# Web furniture, in both languages: none of these has its translation on the other side of
# the same document (each document draws its two sides' lines from opposite halves).
FURNITURE_EN = [
    "Home | News | World | Business | Sports | Tech",
    "Share on WeChat",
    "Share on Weibo",
    "Related Topics",
    "Most Read",
    "Click here to read more",
    "Copyright © 2022 All rights reserved.",
    "Privacy Policy | Terms of Use",
    "Advertisement",
    "Sign in",
    "Subscribe to our newsletter",
    "Follow us",
    "You may also like",
    "Posted on March 3, 2022",
    "Previous article",
    "Next article",
    "Back to top",
    "This website uses cookies to improve your experience.",
    "Download our app",
    "Scan the QR code to read on your phone",
]
# Line i translates FURNITURE_EN[i]; a document's two sides draw from opposite halves.
FURNITURE_ZH = [
    "首页 | 新闻 | 国际 | 财经 | 体育 | 科技",
    "分享到微信",
    "分享到微博",
    "相关新闻",
    "热门推荐",
    "点击查看更多",
    "版权所有 © 2022 保留所有权利。",
    "隐私政策 | 使用条款",
    "广告",
    "登录",
    "订阅我们的新闻",
    "关注我们",
    "猜你喜欢",
    "发布时间：2022年3月3日",
    "上一篇",
    "下一篇",
    "返回顶部",
    "本网站使用cookie以改善您的体验。",
    "下载客户端",
    "扫一扫，手机阅读",
]


@dataclass
class Side:
    """One side as written: its text and the (start, end, segment) character spans in it."""

    text: str = ""
    spans: list[tuple[int, int, int]] = field(default_factory=list)

    def add(self, piece: str, segment: int | None, sep: str) -> None:
        if self.text:
            self.text += sep
        start = len(self.text)
        self.text += piece
        if segment is not None:
            self.spans.append((start, len(self.text), segment))

    def segments(self) -> list[tuple[int, str]]:
        """(id, text) of the segments written, in order."""
        return [(seg, self.text[a:b]) for a, b, seg in self.spans]


@dataclass
class CaseDoc:
    """A document of a case: its name (doc_id), each side's segments as (id, text) in the
    order written, and the ids of the segments present on both sides."""

    name: str
    zh_segments: list[tuple[int, str]]
    en_segments: list[tuple[int, str]]
    both: set[int]


def wmt_documents(eval_dir: Path, min_segments: int = 4) -> list[tuple[str, list[str], list[str]]]:
    """(name, zh segments, en segments) of the wmt22 documents with at least ``min_segments``."""
    wmt = eval_dir / "wmt22-en-zh-docs"
    out = []
    for path in sorted((wmt / "zh").iterdir()):
        zh = path.read_text(encoding="utf-8").splitlines()
        en = (wmt / "en" / path.name).read_text(encoding="utf-8").splitlines()
        if len(zh) == len(en) >= min_segments:
            out.append((path.name, zh, en))
    return out


def _groups(n: int, rng: random.Random) -> list[list[int]]:
    """Segment ids 0..n-1 grouped into consecutive paragraphs of 1-3."""
    out, i = [], 0
    while i < n:
        k = rng.randint(1, 3)
        out.append(list(range(i, min(n, i + k))))
        i += k
    return out


def _write_side(
    segments: list[str | None],
    lang: str,
    rng: random.Random,
    regroup: bool,
    furniture: list[str],
) -> Side:
    """One side: furniture blocks before, between and after; segments one paragraph each, or
    grouped into paragraphs of 1-3 (``regroup``); ``None`` segments are left out."""
    side = Side()
    joiner = "" if lang == "zh" else " "
    pool = list(furniture)
    rng.shuffle(pool)
    head = pool[: rng.randint(0, 4)]
    tail = pool[4 : 4 + rng.randint(0, 4)]
    middle = pool[8:10] if pool and rng.random() < 0.5 else []
    for line in head:
        side.add(line, None, "\n\n")
    groups = _groups(len(segments), rng) if regroup else [[i] for i in range(len(segments))]
    at = rng.randint(1, max(1, len(groups) - 1)) if middle else -1
    for g, group in enumerate(groups):
        if g == at:
            for line in middle:
                side.add(line, None, "\n\n")
        kept = [i for i in group if segments[i] is not None]
        for k, i in enumerate(kept):
            side.add(str(segments[i]), i, "\n\n" if k == 0 else joiner)
    for line in tail:
        side.add(line, None, "\n\n")
    return side


def make_case(
    kind: str, eval_dir: Path, folder: Path, seed: int = 0, limit: int = 0
) -> list[CaseDoc]:
    """Write the documents of case ``kind`` (see the module docstring) into ``folder``."""
    if kind not in CASES:
        raise ValueError(f"unknown case {kind!r}; valid: {CASES}")
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    docs = wmt_documents(eval_dir)
    docs = docs[:limit] if limit else docs
    out = []
    for n, (name, zh, en) in enumerate(docs):
        zh_segs: list[str | None] = list(zh)
        en_segs: list[str | None] = list(en)
        furnished = kind in ("web", "page")
        regroup = kind == "split" or (kind == "web" and n % 3 == 0)
        if kind == "web":
            for i in range(len(zh)):
                if rng.random() < 0.05:
                    (zh_segs if rng.random() < 0.5 else en_segs)[i] = None
        half = len(FURNITURE_EN) // 2
        flip = rng.random() < 0.5
        fur_en = (FURNITURE_EN[:half] if flip else FURNITURE_EN[half:]) if furnished else []
        fur_zh = (FURNITURE_ZH[half:] if flip else FURNITURE_ZH[:half]) if furnished else []
        zh_side = _write_side(zh_segs, "zh", rng, regroup, fur_zh)
        en_side = _write_side(en_segs, "en", rng, regroup, fur_en)
        both = {i for i in range(len(zh)) if zh_segs[i] is not None and en_segs[i] is not None}
        if kind == "page":  # one file: the Chinese article, then the English one
            text = zh_side.text + "\n\n" + en_side.text + "\n"
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        else:
            (folder / f"{name}.zh.txt").write_text(zh_side.text + "\n", encoding="utf-8")
            (folder / f"{name}.en.txt").write_text(en_side.text + "\n", encoding="utf-8")
        out.append(CaseDoc(name, zh_side.segments(), en_side.segments(), both))
    return out


def make_formats_case(
    eval_dir: Path, folder: Path, limit: int = 0
) -> tuple[list[CaseDoc], dict[str, list[str]]]:
    """The documents of the ``clean`` case, each written in one of :data:`FORMATS` in turn
    (both sides in that format; HTML pages in a news template with web furniture, PDFs with a
    running header and page numbers, subtitles with the two sides cut into cues at different
    places but sharing their segments' times). Returns the documents and, per format, the names
    of its documents."""
    from tests import doc_fixtures, webfixtures

    folder.mkdir(parents=True, exist_ok=True)
    docs = wmt_documents(eval_dir)
    docs = docs[:limit] if limit else docs
    # every character of both sides: a glyph missing from the font would be lost from the PDF
    font = doc_fixtures.cjk_font(folder, "".join(s for _, zh, en in docs for s in zh + en))
    out, by_format = [], {f: [] for f in FORMATS}
    for n, (name, zh, en) in enumerate(docs):
        fmt = FORMATS[n % len(FORMATS)]
        by_format[fmt].append(name)
        spans = doc_fixtures.cue_times(en, 0.06)  # the speech's timing: one for both sides
        for lang, segs in (("zh", zh), ("en", en)):
            path = folder / f"{name}.{lang}.{fmt}"
            if fmt == "txt":
                path.write_text("\n\n".join(segs) + "\n", encoding="utf-8")
            elif fmt == "html":
                related = [z for _, other, _ in docs[n + 1 : n + 4] for z in other[:1]]
                page, _ = webfixtures.news_page(lang, segs, related, "html5", seed=n)
                path.write_text(page, encoding="utf-8")
            elif fmt == "docx":
                _write_docx(path, segs)
            elif fmt == "epub":
                half = max(1, len(segs) // 2)
                chapters = [
                    (f"c{i}.xhtml", webfixtures.chapter_xhtml(part[0], part[1:], lang))
                    for i, part in enumerate((segs[:half], segs[half:]))
                    if part
                ]
                webfixtures.write_epub(path, lang, chapters)
            elif fmt == "pdf":
                doc_fixtures.write_pdf(
                    path, font, segs[0], segs[1:], f"wmt22 {name}", chinese=lang == "zh"
                )
            else:
                width = 9 if lang == "zh" else 5
                cues = doc_fixtures.split_cues(segs, spans, width, chinese=lang == "zh")
                (doc_fixtures.write_srt if fmt == "srt" else doc_fixtures.write_vtt)(path, cues)
        ids = list(enumerate(zh)), list(enumerate(en))
        out.append(CaseDoc(name, ids[0], ids[1], set(range(len(zh)))))
    return out, by_format


def _write_docx(path: Path, segments: list[str]) -> None:
    """A DOCX with python-docx: the first segment as the title, one paragraph per segment."""
    import docx

    document = docx.Document()
    document.add_paragraph(segments[0], style="Title")
    for segment in segments[1:]:
        document.add_paragraph(segment)
    document.save(str(path))


def _squeeze(text: str) -> str:
    return "".join(text.split())


class _Locator:
    """Which segments a side's sentences come from, found by content (white space ignored), so
    that what a reader changed between the words (line breaks, spacing) does not matter."""

    def __init__(self, segments: list[tuple[int, str]]) -> None:
        self.text = ""
        self.owner: list[int] = []
        for seg, text in segments:
            piece = _squeeze(text)
            self.text += piece
            self.owner += [seg] * len(piece)
        self.pos = 0

    def find(self, sentence: str) -> set[int]:
        """Segments of the next occurrence of ``sentence`` after the last one found; {-1} if it
        is in no segment (furniture)."""
        piece = _squeeze(sentence)
        at = self.text.find(piece, self.pos) if piece else -1
        if at < 0:
            return {-1}
        self.pos = at + len(piece)
        return set(self.owner[at : at + len(piece)])


def pair_f1(out: Path, docs: list[CaseDoc]) -> dict[str, float | int]:
    """Pair precision, recall and F1 (zh characters) of the kept pairs of the build in ``out``
    on the documents ``docs`` (the build's other documents are not counted); also the number
    of kept pairs made of furniture only and of wrong pairs."""
    by_name = {d.name: d for d in docs}
    owners: dict[str, tuple[list[set[int]], list[set[int]]]] = {}
    for path in (out / "work").glob("*/sentences.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            row = json.loads(line)
            if row["kind"] != "document" or row["doc_id"] not in by_name:
                continue
            doc = by_name[row["doc_id"]]
            zh, en = _Locator(doc.zh_segments), _Locator(doc.en_segments)
            owners[row["doc_id"]] = (
                [zh.find(s[1]) for s in row["zh"]],
                [en.find(s[1]) for s in row["en"]],
            )
    rows = [
        r
        for f in sorted((out / "dataset" / "data").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    right = kept = furniture = wrong = 0
    rows = [r for r in rows if r["doc_id"] in by_name]
    for row in rows:
        zh_of, en_of = owners[row["doc_id"]]
        zs = set().union(*(zh_of[i] for i in row["zh_ids"]))
        es = set().union(*(en_of[i] for i in row["en_ids"]))
        chars = len(_squeeze(row["translation"]["zh"]))
        kept += chars
        if zs == es and -1 not in zs:
            right += chars
        elif zs <= {-1} or es <= {-1}:
            furniture += 1
        else:
            wrong += 1
    gold = sum(len(_squeeze(t)) for d in docs for seg, t in d.zh_segments if seg in d.both)
    p = right / kept if kept else 0.0
    r = right / gold if gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "p": p,
        "r": r,
        "f1": f1,
        "furniture_pairs": furniture,
        "wrong_pairs": wrong,
        "kept_pairs": len(rows),
    }
