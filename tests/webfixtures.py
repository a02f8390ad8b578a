"""Fixtures in HTML, DOCX and EPUB made at test time from real text in ../shared/eval.

Used by tests/test_readers_web.py, tests/test_hostile_web.py and
scripts/bench_readers_web.py. Nothing here is committed text from the eval
sets: every page, document and book is written from those files when needed.

- :func:`news_page`: a wmt22 news document as a web page of one of two
  real-looking templates (a Chinese-portal style ``div`` layout, an HTML5
  ``header/nav/article/aside/footer`` layout), wrapped in furniture in its
  language: menus, log-in links, breadcrumbs, date/source/font-size lines, an
  editor byline, share bars, related-headline lists (real headlines of other
  wmt22 documents, so both sides' lists translate each other), comment and
  captcha prompts, cookie banners, newsletter boxes, footer links, copyright
  and disclaimer lines. :func:`bilingual_page` puts both languages on one page.
  Each returns the HTML and its :class:`Gold` (the body lines, the furniture).
- :func:`write_docx`: paragraphs with heading styles, a table, a header and a
  footer, written with python-docx.
- :func:`write_epub`: an EPUB 3 zip (mimetype, container.xml, OPF, nav, XHTML
  chapters) written with zipfile, spine order differing from file order.
"""

from __future__ import annotations

import html
import io
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FURNITURE = {
    "zh": {
        "site": "环球新闻网",
        "login": ["登录", "注册"],
        "menu": ["首页", "新闻", "国际", "财经", "体育", "科技", "娱乐", "视频", "图片"],
        "crumbs": "您的位置：首页 > 国际 > 正文",
        "meta": ["发布时间：2022-03-03 10:21", "来源：新华社", "字号：大 中 小"],
        "editor": "（责任编辑：张伟）",
        "share": ["分享到：", "微信", "微博", "QQ空间"],
        "related": "相关新闻",
        "hot": "热门推荐",
        "comments": ["网友评论", "发表评论", "验证码：", "看不清楚？点击更换"],
        "ad": "广告",
        "read": "延伸阅读：",
        "footer": ["关于我们", "联系我们", "广告服务", "网站地图"],
        "copyright": "版权所有 © 2022 环球新闻网 保留所有权利",
        "icp": "京ICP备12345678号",
        "disclaimer": "免责声明：本网站转载的文章仅代表作者观点，不代表本网立场。",
        "cookie": "本网站使用cookie以改善您的体验。",
        "accept": "接受所有cookie",
        "newsletter": "订阅我们的新闻简报",
        "tags": "标签：新闻 国际 中国",
        "skip": "跳到主要内容",
        "search": "搜索",
        "top": "返回顶部",
        "prev": "上一篇：",
        "next": "下一篇：",
    },
    "en": {
        "site": "Global News Online",
        "login": ["Sign in", "Register"],
        "menu": ["Home", "News", "World", "Business", "Sports", "Tech", "Entertainment", "Video"],
        "crumbs": "You are here: Home > World > Article",
        "meta": ["Published: March 3, 2022", "Source: Xinhua", "Font size: A A A"],
        "editor": "Editor: Zhang Wei",
        "share": ["Share this article", "Share on Facebook", "Tweet", "Email"],
        "related": "Related articles",
        "hot": "Most popular",
        "comments": ["Comments (12)", "Leave a comment", "Enter the captcha", "Post comment"],
        "ad": "Advertisement",
        "read": "Read more:",
        "footer": ["About us", "Contact us", "Advertise with us", "Sitemap"],
        "copyright": "Copyright © 2022 Global News Online. All rights reserved.",
        "icp": "Privacy Policy | Terms of Use | Cookie Settings",
        "disclaimer": "Disclaimer: the views expressed are those of the author and not of this site.",
        "cookie": "This website uses cookies to improve your experience.",
        "accept": "Accept all cookies",
        "newsletter": "Subscribe to our newsletter",
        "tags": "Tags: news, world, china",
        "skip": "Skip to main content",
        "search": "Search",
        "top": "Back to top",
        "prev": "Previous article:",
        "next": "Next article:",
    },
}


@dataclass
class Gold:
    """What a page holds: its body lines (title first) per language, and the furniture
    strings put around them (every menu item, headline, notice ...)."""

    body: dict[str, list[str]] = field(default_factory=dict)
    furniture: list[str] = field(default_factory=list)


def wmt_news(eval_dir: Path) -> list[tuple[str, list[str], list[str]]]:
    """(name, zh lines, en lines) of the wmt22 news documents (title line first)."""
    wmt = eval_dir / "wmt22-en-zh-docs"
    out = []
    for row in (wmt / "doc_index.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        name, _, _, domain = row.split("\t")
        if domain != "news":
            continue
        zh = (wmt / "zh" / name).read_text(encoding="utf-8").splitlines()
        en = (wmt / "en" / name).read_text(encoding="utf-8").splitlines()
        out.append((name, zh, en))
    return out


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _links(items: list[str], tag: str = "li") -> str:
    return "".join(f'<{tag}><a href="/p/{i}.html">{_e(t)}</a></{tag}>' for i, t in enumerate(items))


def _paragraphs(lines: list[str], rng: random.Random) -> tuple[list[str], str]:
    """Body lines grouped into paragraphs of 1-3 (a joining space in English only)."""
    out, i = [], 0
    while i < len(lines):
        k = rng.randint(1, 3)
        out.append(lines[i : i + k])
        i += k
    zh_like = any("\u4e00" <= ch <= "\u9fff" for ch in "".join(lines))
    joiner = "" if zh_like else " "
    return lines, "\n".join(f"<p>{_e(joiner.join(p))}</p>" for p in out)


def _middle(content: str, insert: str) -> str:
    """``content`` (paragraphs, one a line) with ``insert`` after its middle paragraph."""
    lines = content.split("\n")
    at = (len(lines) + 1) // 2
    return "\n".join([*lines[:at], insert, *lines[at:]])


def _portal(
    lang: str, title: str, content: str, related: list[str], charset: str, f: dict
) -> tuple[str, list[str]]:
    """A Chinese-portal style page (div soup with class names, furniture in and around the article)."""
    items = [
        *f["login"],
        f["site"],
        *f["menu"],
        f["crumbs"],
        *f["meta"],
        f["editor"],
        *f["share"],
        f["related"],
        *related,
        *f["comments"],
        f["hot"],
        f["ad"],
        *f["footer"],
        f["copyright"],
        f["icp"],
        f["disclaimer"],
        f["top"],
    ]
    page = f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{_e(title)}_{_e(f["site"])}</title>
<link rel="stylesheet" href="/css/main.css">
<style>body {{ font: 14px/1.6 sans-serif }} .nav li {{ display: inline }}</style>
<script>var _hmt = _hmt || []; (function () {{ var hm = document.createElement("script");
hm.src = "https://stats.example.invalid/hm.js"; document.title = "tracking"; }})();</script>
</head><body>
<div id="top"><div class="topbar"><a href="/login">{_e(f["login"][0])}</a> | <a href="/reg">{_e(f["login"][1])}</a></div>
<div class="logo"><a href="/"><img src="/logo.png" alt="logo">{_e(f["site"])}</a></div>
<ul class="nav">{_links(f["menu"])}</ul></div>
<div class="crumbs">{_e(f["crumbs"])}</div>
<div class="main"><div class="left"><div class="article">
<h1>{_e(title)}</h1>
<div class="info">{"".join(f"<span>{_e(m)}</span> " for m in f["meta"])}</div>
<div class="content" id="content">
{_middle(content, f'<p class="ad"><a href="/ad">{_e(f["ad"])}</a></p>')}
<p>{_e(f["meta"][1])}</p>
<p class="editor">{_e(f["editor"])}</p>
</div>
<div class="share">{_e(f["share"][0])}{"".join(f'<a href="#">{_e(s)}</a>' for s in f["share"][1:])}</div>
</div>
<div class="related"><h3>{_e(f["related"])}</h3><ul>{_links(related)}</ul></div>
<div class="comment"><h3>{_e(f["comments"][0])}</h3><textarea></textarea>
<button>{_e(f["comments"][1])}</button><p>{_e(f["comments"][2])}<input name="c"> <a href="#">{_e(f["comments"][3])}</a></p></div>
</div>
<div class="right"><div class="box"><h3>{_e(f["hot"])}</h3><ol>{_links(related[::-1])}</ol></div>
<div class="ad"><a href="/ad"><img src="/ad.gif" alt=""></a>{_e(f["ad"])}</div></div></div>
<div id="footer"><p>{" | ".join(f'<a href="/f/{i}">{_e(t)}</a>' for i, t in enumerate(f["footer"]))}</p>
<p>{_e(f["copyright"])}</p><p>{_e(f["icp"])}</p><p>{_e(f["disclaimer"])}</p>
<a href="#top" class="totop">{_e(f["top"])}</a></div>
</body></html>
"""
    return page, items


def _html5(
    lang: str, title: str, content: str, related: list[str], charset: str, f: dict
) -> tuple[str, list[str]]:
    """An HTML5 news-site page (header/nav, article with byline and share bar, aside, footer)."""
    items = [
        f["skip"],
        f["read"],
        f["site"],
        *f["menu"],
        f["search"],
        f["cookie"],
        f["accept"],
        *f["meta"][:2],
        *f["share"],
        f["related"],
        *related,
        f["tags"],
        f["prev"],
        f["next"],
        *f["comments"][:2],
        f["hot"],
        f["newsletter"],
        *f["footer"],
        f["copyright"],
        f["icp"],
    ]
    half = len(related) // 2
    page = f"""<!doctype html>
<html lang="{"zh" if lang == "zh" else "en"}">
<head><meta charset="{charset}"><meta name="viewport" content="width=device-width">
<title>{_e(title)} | {_e(f["site"])}</title>
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "tracking"}}</script>
</head>
<body>
<header class="site-header"><a class="skip-link" href="#main">{_e(f["skip"])}</a>
<div class="brand"><a href="/">{_e(f["site"])}</a></div>
<nav class="primary"><ul>{_links(f["menu"])}</ul></nav>
<form role="search"><input type="search" placeholder="{_e(f["search"])}"><button>{_e(f["search"])}</button></form>
</header>
<div class="cookie-banner" role="dialog"><p>{_e(f["cookie"])}</p><button>{_e(f["accept"])}</button></div>
<main id="main"><article class="story">
<header><h1 class="headline">{_e(title)}</h1>
<p class="byline"><time datetime="2022-03-03">{_e(f["meta"][0])}</time> · <span>{_e(f["meta"][1])}</span></p></header>
<div class="share-bar"><span>{_e(f["share"][0])}</span>{"".join(f'<a href="#">{_e(s)}</a>' for s in f["share"][1:])}</div>
<div class="story-body">
{_middle(content, f'<p><strong>{_e(f["read"])}</strong> <a href="/p/r">{_e(related[0])}</a></p>')}
</div>
<aside class="related-inline"><h4>{_e(f["related"])}</h4><ul>{_links(related[:half])}</ul></aside>
<p class="tags">{_e(f["tags"])}</p>
<nav class="pager"><a href="/p/prev">{_e(f["prev"])} {_e(related[half])}</a> <a href="/p/next">{_e(f["next"])} {_e(related[-1])}</a></nav>
</article>
<section class="comments"><h2>{_e(f["comments"][0])}</h2><p><a href="#c">{_e(f["comments"][1])}</a></p></section>
</main>
<aside class="sidebar"><h3>{_e(f["hot"])}</h3><ol>{_links(related[half:])}</ol>
<div class="newsletter"><p>{_e(f["newsletter"])}</p><input type="email"></div></aside>
<footer class="site-footer"><ul>{_links(f["footer"])}</ul>
<p>{_e(f["copyright"])}</p><p>{_e(f["icp"])}</p></footer>
</body></html>
"""
    return page, items


TEMPLATES = {"portal": _portal, "html5": _html5}


def news_page(
    lang: str,
    lines: list[str],
    related: list[str],
    template: str,
    seed: int = 0,
    charset: str = "utf-8",
) -> tuple[str, Gold]:
    """A one-language page: ``lines[0]`` the headline, the rest the article (paragraphs of
    1-3 lines), ``related`` real headlines of other documents in furniture lists."""
    rng = random.Random(seed)
    body, content = _paragraphs(lines[1:], rng)
    page, items = TEMPLATES[template](lang, lines[0], content, related, charset, FURNITURE[lang])
    return page, Gold({lang: [lines[0], *body]}, items)


def bilingual_page(
    zh: list[str],
    en: list[str],
    related: dict[str, list[str]],
    template: str,
    interleaved: bool,
    seed: int = 0,
) -> tuple[str, Gold]:
    """One page holding both languages: the Chinese article then the English one (or their
    paragraphs interleaved), in furniture of both languages (Chinese first)."""
    rng = random.Random(seed)
    if interleaved:
        pairs = [f"<p>{_e(z)}</p>\n<p>{_e(e)}</p>" for z, e in zip(zh[1:], en[1:], strict=True)]
        content = "\n".join([f"<h2>{_e(en[0])}</h2>", *pairs])
    else:
        content = "\n".join(
            [_paragraphs(zh[1:], rng)[1], f"<h2>{_e(en[0])}</h2>", _paragraphs(en[1:], rng)[1]]
        )
    both = {k: [*FURNITURE["zh"][k], *FURNITURE["en"][k]] for k in ("login", "menu", "share")}
    f = {**FURNITURE["zh"], **both}
    for key in ("crumbs", "editor", "copyright", "disclaimer", "related", "hot", "icp"):
        f[key] = f"{FURNITURE['zh'][key]} {FURNITURE['en'][key]}"
    page, items = TEMPLATES[template](
        "zh", zh[0], content, related["zh"] + related["en"], "utf-8", f
    )
    extra = [FURNITURE[lang][k] for lang in ("zh", "en") for k in ("crumbs", "editor")]
    return page, Gold({"zh": zh, "en": en}, items + extra)


# ------------------------------------------------------------------------- DOCX


def write_docx(
    path: Path, title: str, sections: list[tuple[str, list[str]]], table: list[list[str]]
) -> None:
    """A DOCX: ``title`` (style Title), each section a Heading 1 and its paragraphs, then
    a table of ``table`` rows; a header and a footer line that a reader must leave out."""
    import docx

    doc = docx.Document()
    doc.sections[0].header.paragraphs[0].text = "HEADER-LINE 页眉 running header"
    doc.sections[0].footer.paragraphs[0].text = "FOOTER-LINE 页脚 page footer"
    doc.add_paragraph(title, style="Title")
    for heading, paras in sections:
        doc.add_heading(heading, level=1)
        for para in paras:
            doc.add_paragraph(para)
    grid = doc.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    doc.save(str(path))


def docx_texts(path: Path) -> list[str]:
    """Independent reader: the text of every ``w:p`` of word/document.xml, by zipfile + lxml."""
    from lxml import etree

    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    out = []
    for p in root.iter(f"{{{ns['w']}}}p"):
        text = "".join(t.text or "" for t in p.iter(f"{{{ns['w']}}}t"))
        if text:
            out.append(text)
    return out


# ------------------------------------------------------------------------- EPUB

_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""


def chapter_xhtml(title: str, paragraphs: list[str], lang: str, doctype: str = "") -> str:
    """An XHTML chapter: ``<h1>`` title and ``<p>`` paragraphs."""
    body = "\n".join(f"<p>{_e(p)}</p>" for p in paragraphs)
    return f"""<?xml version="1.0" encoding="utf-8"?>
{doctype or "<!DOCTYPE html>"}
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="{lang}">
<head><title>{_e(title)}</title><style>p {{ text-indent: 2em }}</style></head>
<body><section epub:type="chapter"><h1>{_e(title)}</h1>
{body}
</section></body></html>
"""


def write_epub(
    path: Path,
    lang: str,
    chapters: list[tuple[str, str]],
    book_title: str = "Book",
    extra: dict[str, bytes] | None = None,
) -> None:
    """An EPUB 3: ``chapters`` as (file name under OEBPS/, XHTML text) in spine order; the
    manifest lists them in reverse and a nav document (not in the spine) lists them all.
    ``extra`` adds members as given (for hostile variants)."""
    items = "\n".join(
        f'<item id="c{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, (name, _) in reversed(list(enumerate(chapters)))
    )
    spine = "\n".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:fixture</dc:identifier>
<dc:title>{_e(book_title)}</dc:title><dc:language>{lang}</dc:language></metadata>
<manifest>
<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="css" href="style.css" media-type="text/css"/>
{items}
</manifest>
<spine>
{spine}
</spine>
</package>
"""
    nav = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>nav</title></head>
<body><nav epub:type="toc"><ol>{"".join(f'<li><a href="{n}">TOC-ENTRY {i}</a></li>' for i, (n, _) in enumerate(chapters))}</ol></nav></body></html>
"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # stored, first
        z.writestr("META-INF/container.xml", _CONTAINER)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/nav.xhtml", nav)
        z.writestr("OEBPS/style.css", "p { margin: 0 }")
        for name, text in chapters:
            z.writestr(f"OEBPS/{name}", text)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())


def epub_chapter_texts(path: Path) -> list[list[str]]:
    """Independent reader: the ``<p>`` texts of each chapter in spine order (zipfile + lxml)."""
    from lxml import etree

    with zipfile.ZipFile(path) as z:
        opf = etree.fromstring(z.read("OEBPS/content.opf"))
        ns = {"o": "http://www.idpf.org/2007/opf"}
        hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//o:item", ns)}
        out = []
        for ref in opf.iterfind(".//o:itemref", ns):
            root = etree.fromstring(z.read(f"OEBPS/{hrefs[ref.get('idref')]}"))
            paras = root.iterfind(".//{http://www.w3.org/1999/xhtml}p")
            out.append(["".join(p.itertext()) for p in paras])
    return out


def mac_chapter(eval_dir: Path, lang: str, number: str, per_paragraph: int = 3) -> list[str]:
    """A MAC-Dev chapter's sentences grouped into paragraphs of ``per_paragraph``."""
    lines = (eval_dir / "mac-dev" / lang / number).read_text(encoding="utf-8").splitlines()
    joiner = "" if lang == "zh" else " "
    return [joiner.join(lines[i : i + per_paragraph]) for i in range(0, len(lines), per_paragraph)]
