"""Publish filtered pairs: a Hugging Face dataset folder, the rejected pairs, exports.

Layout written by :func:`write_dataset` under the build folder ``OUT``::

    OUT/dataset/README.md                      dataset card (YAML header the Hub reads)
    OUT/dataset/data/{split}-HASH-NNNNN-of-NNNNN.parquet   HASH: of the rows (datasets' cache key)
    OUT/rejected/rejected.jsonl                every rejected pair with its reason
    OUT/rejected/rejected.parquet              the same rows, dataset columns + reason
    OUT/export/{split}.zh, {split}.en          Moses plain text, one segment a line
    OUT/export/{split}.tsv                     zh<TAB>en, no header (OPUS style)
    OUT/export/{split}.tmx                     TMX 1.4 for translation-memory tools

``datasets.load_dataset("OUT/dataset")`` loads split ``train`` (plus
``validation`` / ``test`` when configured) with the ``translation`` column
typed ``datasets.Translation(languages=["en", "zh"])``: the features are in
the card's ``dataset_info`` and in each parquet file's schema metadata. The
folder can be uploaded to the Hub as is (:func:`push_to_hub`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from corpus import formats
from corpus._version import __version__
from corpus.confidence import model_for
from corpus.config import Config, PublishConfig
from corpus.embed import encoder_label
from corpus.errors import ConfigError, CorpusError, InputError
from corpus.formats import features, features_yaml, pair_record, pair_to_row
from corpus.records import Pair
from corpus.storage import atomic_path, atomic_write_jsonl, atomic_write_text

__all__ = [
    "SPLITS",
    "input_hash",
    "push_to_hub",
    "read_dataset",
    "signature",
    "split_by_document",
    "write_dataset",
    "write_exports",
]

SPLITS = ("train", "validation", "test")


def split_by_document(
    pairs: Sequence[Pair], cfg: PublishConfig
) -> tuple[dict[str, list[Pair]], list[str]]:
    """Pairs grouped into splits by document, and notes on what could not be honoured.

    Documents (sorted ids, shuffled with ``cfg.seed``) go whole to one split:
    ``round(share × documents)`` to validation and to test, at least one each
    when its share is above 0, as long as train keeps at least one document.
    A split that cannot get a document is left out and a note says why.
    Splits without pairs are omitted; pair order within a split is kept.
    """
    docs = sorted({p.doc_id for p in pairs})
    random.Random(cfg.seed).shuffle(docs)
    notes: list[str] = []
    assign: dict[str, str] = {}
    start = 0
    for split, share in (("test", cfg.test_share), ("validation", cfg.validation_share)):
        if share <= 0:
            continue
        want = max(1, round(share * len(docs)))
        take = min(want, len(docs) - 1 - start)
        if take < want:
            notes.append(
                f"{split}: {share:.0%} of {len(docs)} documents requested, "
                f"{max(take, 0)} given (train keeps at least one document)"
            )
        for doc in docs[start : start + max(take, 0)]:
            assign[doc] = split
        start += max(take, 0)
    out: dict[str, list[Pair]] = {}
    for pair in pairs:
        out.setdefault(assign.get(pair.doc_id, "train"), []).append(pair)
    return {s: out[s] for s in SPLITS if s in out}, notes


def signature(cfg: Config, info: Mapping[str, str]) -> str:
    """A sacrebleu-style reproducibility signature of a build.

    ``zh-en-corpus:VERSION|encoder:NAME|splitter:NAME|align:HASH|filters:HASH|input:HASH``;
    the align/filters hashes cover every value of those config sections. An ``st:PATH``
    encoder part is named ``st:NAME@DIGEST`` (:func:`corpus.embed.encoder_label`), never by
    its local path.
    """
    return "|".join(
        [
            f"zh-en-corpus:{__version__}",
            f"encoder:{encoder_label(cfg.embed.encoder)}",
            f"splitter:{info.get('splitter', 'unknown')}",
            f"align:{cfg.section_hash('align')}",
            f"filters:{cfg.section_hash('filters')}",
            f"input:{info.get('input_hash', 'unknown')[:16]}",
        ]
    )


def _size_category(n: int) -> str:
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
    ):
        if n < limit:
            return name
    return "100M<n<1B"


def _write_parquet(rows: list[dict[str, Any]], feats: Any, path: Path) -> None:
    """Rows as one parquet file (HF features in the schema metadata), written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=feats.arrow_schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _card(
    splits: Mapping[str, list[Pair]],
    rejected: Sequence[Pair],
    cfg: Config,
    info: Mapping[str, str],
    notes: Sequence[str],
    files: Mapping[str, list[str]],
    pairing: Mapping[str, Any] | None = None,
) -> str:
    import yaml

    kept = [p for ps in splits.values() for p in ps]
    pub = cfg.publish
    header = {
        "language": ["en", "zh"],
        "license": pub.license,
        "multilinguality": ["translation"],
        "task_categories": ["translation"],
        "size_categories": [_size_category(len(kept))],
        "pretty_name": pub.name,
        "configs": [
            {
                "config_name": "default",
                # the exact file names, which carry a hash of the rows: datasets keys its
                # cache on this header, so two different builds never share a cache entry
                "data_files": [{"split": s, "path": files[s]} for s in splits],
            }
        ],
        "dataset_info": {"features": features_yaml(paired=pairing is not None)},
    }
    kinds = Counter(p.link for p in kept)
    reasons = Counter(p.reason for p in rejected)
    docs = len({p.doc_id for p in kept} | {p.doc_id for p in rejected})
    esc = _md_escape
    lines = [
        "---",
        yaml.safe_dump(header, allow_unicode=True, sort_keys=False).rstrip(),
        "---",
        "",
        f"# {esc(pub.name)}",
        "",
        (
            "Chinese–English sentence pairs aligned and filtered by zh-en-corpus "
            f'{__version__}. Load with `datasets.load_dataset("PATH/TO/dataset")`; the '
            '`translation` column holds `{"en": ..., "zh": ...}`.'
        ),
        "",
        "## Counts",
        "",
        f"- documents: {docs}",
        f"- kept pairs: {len(kept)} ("
        + ", ".join(f"{s}: {len(ps)}" for s, ps in splits.items())
        + ")",
        f"- rejected pairs: {len(rejected)} (in `../rejected/`, each with its reason)",
        *_precision_lines(kept, cfg.embed.encoder),
        *_pairing_lines(pairing),
        "",
        "| link type (zh-en) | kept pairs |",
        "|---|---|",
        *[f"| {k} | {n} |" for k, n in sorted(kinds.items())],
        "",
        "| rejection reason | pairs |",
        "|---|---|",
        *[f"| {esc(str(r))} | {n} |" for r, n in sorted(reasons.items(), key=lambda x: -x[1])],
        "",
        "## How it was built",
        "",
        f"- encoder: `{esc(encoder_label(cfg.embed.encoder))}`",
        f"- sentence splitter: `{esc(info.get('splitter', 'unknown'))}`",
        "- aligner settings: "
        + ", ".join(f"`{k}={v}`" for k, v in dataclasses.asdict(cfg.align).items()),
        "- filter thresholds: "
        + ", ".join(f"`{k}={v}`" for k, v in dataclasses.asdict(cfg.filters).items()),
        f"- input hash (SHA-256 of the inputs): `{esc(info.get('input_hash', 'unknown'))}`",
        "",
        f"Signature: `{esc(signature(cfg, info))}`",
        "",
        "## Columns",
        "",
        "- `translation`: the pair; zh sentences joined without spaces, en with one space",
        "- `doc_id`, `zh_ids`, `en_ids`: document and 0-based sentence ids on each side",
        "- `link`: link type, zh sentence count first (e.g. `1-2`)",
        "- `score_cosine`: cosine similarity of the two sides' sentence embeddings",
        (
            "- `score_margin`: ratio margin (cosine over the mean cosine of the k nearest "
            "neighbours on the other side, within the document)"
        ),
        (
            "- `p_correct`: calibrated probability that the pair is exactly a gold link (same "
            "sentences on both sides), from a model fitted on held-out gold alignments"
        ),
        "- `len_ratio`: English / Chinese content characters (no spaces or punctuation)",
        (
            "- `zh_chars`, `en_chars`, `en_words`, `han_share`, `latin_share`, `num_mismatch`: "
            "the other measures the filters used"
        ),
        "- `reviewed`: a person's review decision (from the build report) was applied to the pair",
        *(
            [
                "- `zh_source`, `en_source`: the two documents the pair's document was paired "
                "from; `doc_score`: their pairing score (probability that they translate each "
                "other, see docs/crawls.md)"
            ]
            if pairing is not None
            else []
        ),
        "",
        "## Splits",
        "",
        "Splits are by document: no document is in two splits.",
        *[f"- note: {esc(n)}" for n in notes],
        "",
        "## Files",
        "",
        *[f"- {s}: " + ", ".join(f"`{f}`" for f in fs) for s, fs in files.items()],
        "",
        "## License",
        "",
        (
            f"`{esc(pub.license)}` (set by the builder's `publish.license`). The texts keep the "
            "rights of their original publishers."
        ),
        "",
    ]
    return "\n".join(lines)


def _precision_lines(kept: Sequence[Pair], encoder: str) -> list[str]:
    """The card's expected-precision lines: mean ``p_correct`` of the kept pairs and the
    expected number of wrong ones (none when no pair has a ``p_correct``)."""
    probs = [p.scores["p_correct"] for p in kept if "p_correct" in p.scores]
    if not probs:
        return []
    expected = sum(probs) / len(probs)
    model = model_for(encoder)
    fitted = (
        f"model fitted for `{model.encoder}` on {', '.join(model.fitted_on)}"
        if model.encoder == encoder
        else f"model fitted for `{model.encoder}`, not calibrated for "
        f"`{_md_escape(encoder_label(encoder))}`"
    )
    return [
        f"- expected precision (mean `p_correct` of the kept pairs): {expected:.3f} ({fitted})",
        f"- expected wrong pairs: {round(len(probs) * (1 - expected))} of {len(probs)}",
    ]


def _pairing_lines(pairing: Mapping[str, Any] | None) -> list[str]:
    """The card's counts of a paired crawl (``corpus build --pair``)."""
    if pairing is None:
        return []
    counts = pairing["counts"]
    return [
        f"- document pairs found in the crawl: {counts['paired']} (documents left without a "
        f"partner: {counts['unpaired_zh']} Chinese, {counts['unpaired_en']} English; "
        "listed in the report)"
    ]


def _md_escape(text: str) -> str:
    """Text safe inside a Markdown line of the card (no HTML, no line breaks, no backticks)."""
    text = re.sub(r"[\r\n]+", " ", text).replace("`", "'")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def write_dataset(
    kept: Sequence[Pair],
    rejected: Sequence[Pair],
    out_dir: str | os.PathLike[str],
    cfg: Config,
    info: Mapping[str, str],
    pairing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write OUT/dataset, OUT/rejected and OUT/export (see the module docstring).

    ``kept`` are pairs with ``reason is None``, ``rejected`` the others (each
    with its reason); CorpusError if a pair is on the wrong list, or if no pair
    was kept (the rejected pairs are still written, an earlier dataset is
    removed: ``datasets`` cannot load an empty parquet file). ``cfg`` gives
    the publish settings and everything the card reports; ``info`` carries
    what the config does not know: "input_hash" (SHA-256 of the inputs) and
    "splitter" (name and version of the sentence splitter); ``pairing``, the manifest of a
    paired crawl (:func:`corpus.pairing.read_manifest`), adds the columns zh_source,
    en_source, doc_score and the pairing counts to the card. Every file is
    written atomically; parquet files of an earlier build that this build did
    not write are removed so ``load_dataset`` never mixes builds. Returns a
    summary: {"splits": {split: rows}, "rejected": n, "notes": [...],
    "signature": str}.
    """
    if any(p.reason is not None for p in kept) or any(p.reason is None for p in rejected):
        raise CorpusError("write_dataset: kept pairs must have no reason, rejected ones one")
    out = Path(out_dir)
    data_dir = out / "dataset" / "data"
    atomic_write_jsonl(out / "rejected" / "rejected.jsonl", [pair_to_row(p) for p in rejected])
    paired = pairing is not None
    docs = {e["doc_id"]: e for e in pairing["pairs"]} if pairing is not None else {}
    unknown = dict.fromkeys(("zh_source", "en_source", "doc_score"))
    _write_parquet(
        [pair_record(p, True, docs.get(p.doc_id, unknown) if paired else None) for p in rejected],
        features(True, paired),
        out / "rejected" / "rejected.parquet",
    )
    if not kept:
        for old in [*data_dir.glob("*.parquet"), out / "dataset" / "README.md"]:
            old.unlink(missing_ok=True)
        raise CorpusError(
            f"no pair passed the filters ({len(rejected)} rejected, see "
            f"{out / 'rejected' / 'rejected.jsonl'}); no dataset written"
        )
    splits, notes = split_by_document(kept, cfg.publish)
    feats = features(paired=paired)
    written: dict[str, list[str]] = {}
    records = {
        split: [pair_record(p, doc=docs.get(p.doc_id, unknown) if paired else None) for p in pairs]
        for split, pairs in splits.items()
    }
    digest = hashlib.sha256(
        json.dumps(records, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()[:12]
    for split, rows in records.items():
        chunks = [
            rows[i : i + cfg.publish.shard_rows]
            for i in range(0, len(rows), cfg.publish.shard_rows)
        ] or [[]]
        for n, chunk in enumerate(chunks):
            name = f"{split}-{digest}-{n:05d}-of-{len(chunks):05d}.parquet"
            _write_parquet(chunk, feats, data_dir / name)
            written.setdefault(split, []).append(f"data/{name}")
    fresh = {Path(f).name for fs in written.values() for f in fs}
    for old in data_dir.glob("*.parquet"):
        if old.name not in fresh:
            old.unlink()
    atomic_write_text(
        out / "dataset" / "README.md",
        _card(splits, rejected, cfg, info, notes, written, pairing),
    )
    write_exports(splits, out / "export")
    return {
        "splits": {s: len(ps) for s, ps in splits.items()},
        "rejected": len(rejected),
        "notes": notes,
        "signature": signature(cfg, info),
    }


# --------------------------------------------------------------------------- exports

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _line(text: str) -> str:
    """One segment on one line: tabs and line breaks become spaces."""
    return re.sub(r"[\t\r\n\u2028\u2029\x85]+", " ", text).strip()


def _tmx(pairs: Iterable[Pair]) -> str:
    def seg(text: str) -> str:
        return escape(_XML_BAD.sub("", _line(text)))

    units = []
    for p in pairs:
        units.append(
            "  <tu>\n"
            f'   <prop type="x-doc-id">{escape(_XML_BAD.sub("", p.doc_id))}</prop>\n'
            f'   <prop type="x-link">{p.link}</prop>\n'
            f'   <tuv xml:lang="zh"><seg>{seg(p.zh)}</seg></tuv>\n'
            f'   <tuv xml:lang="en"><seg>{seg(p.en)}</seg></tuv>\n'
            "  </tu>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<tmx version="1.4">\n'
        f' <header creationtool="zh-en-corpus" creationtoolversion="{__version__}" '
        'datatype="plaintext" segtype="sentence" adminlang="en" srclang="zh" '
        'o-tmf="zh-en-corpus"/>\n'
        " <body>\n" + "".join(units) + " </body>\n</tmx>\n"
    )


def write_exports(
    splits: Mapping[str, Sequence[Pair]],
    export_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("moses", "tsv", "tmx"),
) -> list[Path]:
    """Write each split as Moses text, TSV and/or TMX into ``export_dir``; returns the paths.

    moses: ``{split}.zh`` and ``{split}.en``, line i of one translates line i
    of the other. tsv: ``{split}.tsv``, ``zh<TAB>en`` per line, no header.
    tmx: ``{split}.tmx``, TMX 1.4, srclang zh, one ``<tu>`` per pair with the
    document id as a ``<prop>``. Tabs and line breaks inside a segment become
    spaces, so line counts always match. Exports of the other standard splits
    (train, validation, test) left in the folder by an earlier build are
    removed; no other file is touched. CorpusError for an unknown split name
    or format.
    """
    unknown = set(formats) - {"moses", "tsv", "tmx"}
    if unknown:
        raise CorpusError(f"unknown export format(s) {sorted(unknown)}; valid: moses, tsv, tmx")
    if set(splits) - set(SPLITS):
        raise CorpusError(f"unknown split(s) {sorted(set(splits) - set(SPLITS))}")
    folder = Path(export_dir)
    paths: list[Path] = []
    for split, pairs in splits.items():
        if "moses" in formats:
            for lang in ("zh", "en"):
                path = folder / f"{split}.{lang}"
                atomic_write_text(path, "".join(_line(getattr(p, lang)) + "\n" for p in pairs))
                paths.append(path)
        if "tsv" in formats:
            path = folder / f"{split}.tsv"
            atomic_write_text(path, "".join(f"{_line(p.zh)}\t{_line(p.en)}\n" for p in pairs))
            paths.append(path)
        if "tmx" in formats:
            path = folder / f"{split}.tmx"
            atomic_write_text(path, _tmx(pairs))
            paths.append(path)
    for split in SPLITS:
        if split not in splits:
            for ext in ("zh", "en", "tsv", "tmx"):
                (folder / f"{split}.{ext}").unlink(missing_ok=True)
    return paths


def read_dataset(dataset_dir: str | os.PathLike[str]) -> dict[str, list[Pair]]:
    """The pairs of a dataset folder written by :func:`write_dataset`, by split
    (see :func:`corpus.formats.read_dataset`)."""
    return formats.read_dataset(dataset_dir, SPLITS)


# --------------------------------------------------------------------------- hub

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")


def push_to_hub(
    dataset_dir: str | os.PathLike[str],
    repo_id: str,
    private: bool = False,
    token: str | None = None,
) -> str:
    """Upload a dataset folder written by :func:`write_dataset` to the Hub; returns its URL.

    A thin call over ``huggingface_hub.HfApi``: ``create_repo(repo_type="dataset",
    exist_ok=True)`` then ``upload_folder`` of the folder as is. The token is
    ``token`` or, when None, whatever huggingface_hub finds (``HF_TOKEN`` in
    the environment, or a saved login). ConfigError for a malformed ``repo_id``,
    InputError for a folder that is not a dataset, CorpusError for any error the
    Hub returns.
    """
    folder = Path(dataset_dir)
    if not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise ConfigError(f"--repo-id {repo_id!r}: expected ORG/NAME")
    if not (folder / "README.md").is_file() or not any((folder / "data").glob("*.parquet")):
        raise InputError(folder, "not a dataset folder (README.md and data/*.parquet expected)")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id=repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            commit_message=f"Upload dataset built by zh-en-corpus {__version__}",
        )
    except (HfHubHTTPError, OSError, ValueError) as exc:  # HTTP, missing token, bad request
        raise CorpusError(f"upload to {repo_id} failed: {exc}") from None
    return f"https://huggingface.co/datasets/{repo_id}"


def input_hash(texts: Iterable[str]) -> str:
    """SHA-256 over the given input texts in order (each prefixed by its length)."""
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
