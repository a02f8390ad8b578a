"""Publish filtered pairs: a Hugging Face dataset folder, the rejected pairs, exports.

Layout written by :func:`publish_pairs` (streaming; :func:`write_dataset` for pairs held in
memory) under the build folder ``OUT``::

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from corpus import formats
from corpus._version import __version__
from corpus.confidence import model_for
from corpus.config import Config, PublishConfig
from corpus.embed import encoder_label
from corpus.errors import ConfigError, CorpusError, InputError
from corpus.exports import SPLITS, Exports, export_texts, write_exports
from corpus.formats import features, features_yaml, pair_record, pair_to_row
from corpus.records import Pair
from corpus.shards import ParquetFile, RowDigest, ShardSet
from corpus.storage import atomic_path, atomic_write_text

__all__ = [
    "SPLITS",
    "assign_splits",
    "input_hash",
    "publish_pairs",
    "Publication",
    "push_to_hub",
    "read_dataset",
    "signature",
    "split_by_document",
    "write_dataset",
    "write_exports",
]


def assign_splits(doc_ids: Iterable[str], cfg: PublishConfig) -> tuple[dict[str, str], list[str]]:
    """The split of each document that is not in train, and notes on what could not be honoured.

    Documents (sorted ids, shuffled with ``cfg.seed``) go whole to one split:
    ``round(share × documents)`` to validation and to test, at least one each
    when its share is above 0, as long as train keeps at least one document.
    A split that cannot get a document is left out and a note says why.
    """
    docs = sorted(set(doc_ids))
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
    return assign, notes


def split_by_document(
    pairs: Sequence[Pair], cfg: PublishConfig
) -> tuple[dict[str, list[Pair]], list[str]]:
    """Pairs grouped into splits by document (:func:`assign_splits`), and the notes.
    Splits without pairs are omitted; pair order within a split is kept."""
    assign, notes = assign_splits((p.doc_id for p in pairs), cfg)
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


@dataclasses.dataclass
class _Counts:
    """What the card counts, gathered one dataset row at a time."""

    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    reasons: Counter[str | None] = dataclasses.field(default_factory=Counter)
    docs: set[str] = dataclasses.field(default_factory=set)
    p_sum: float = 0.0
    p_count: int = 0

    def add(self, row: Mapping[str, Any], split: str | None) -> None:
        """Count the :func:`pair_record` ``row``: kept in ``split``, or rejected (a row with
        its reason) when ``split`` is None."""
        self.docs.add(row["doc_id"])
        if split is None:
            self.reasons[row["reason"]] += 1
            return
        self.rows[split] = self.rows.get(split, 0) + 1
        self.kinds[row["link"]] += 1
        if row["p_correct"] is not None:
            self.p_sum += row["p_correct"]
            self.p_count += 1


def _card(
    counts: _Counts,
    cfg: Config,
    info: Mapping[str, str],
    notes: Sequence[str],
    files: Mapping[str, list[str]],
    pairing: Mapping[str, Any] | None = None,
) -> str:
    import yaml

    splits = {s: counts.rows[s] for s in SPLITS if s in counts.rows}
    kept = sum(splits.values())
    pub = cfg.publish
    header = {
        "language": ["en", "zh"],
        "license": pub.license,
        "multilinguality": ["translation"],
        "task_categories": ["translation"],
        "size_categories": [_size_category(kept)],
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
    kinds, reasons, docs = counts.kinds, counts.reasons, len(counts.docs)
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
        f"- kept pairs: {kept} (" + ", ".join(f"{s}: {n}" for s, n in splits.items()) + ")",
        f"- rejected pairs: {sum(reasons.values())} (in `../rejected/`, each with its reason)",
        *_precision_lines(counts, cfg.embed.encoder),
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


def _precision_lines(counts: _Counts, encoder: str) -> list[str]:
    """The card's expected-precision lines: mean ``p_correct`` of the kept pairs and the
    expected number of wrong ones (none when no pair has a ``p_correct``)."""
    if not counts.p_count:
        return []
    expected = counts.p_sum / counts.p_count
    model = model_for(encoder)
    fitted = (
        f"model fitted for `{model.encoder}` on {', '.join(model.fitted_on)}"
        if model.encoder == encoder
        else f"model fitted for `{model.encoder}`, not calibrated for "
        f"`{_md_escape(encoder_label(encoder))}`"
    )
    return [
        f"- expected precision (mean `p_correct` of the kept pairs): {expected:.3f} ({fitted})",
        f"- expected wrong pairs: {round(counts.p_count * (1 - expected))} of {counts.p_count}",
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
    """Write OUT/dataset, OUT/rejected and OUT/export (see the module docstring) from pairs
    held in memory: :func:`publish_pairs` of ``kept`` then ``rejected``.

    ``kept`` are pairs with ``reason is None``, ``rejected`` the others (each
    with its reason); CorpusError if a pair is on the wrong list.
    """
    if any(p.reason is not None for p in kept) or any(p.reason is None for p in rejected):
        raise CorpusError("write_dataset: kept pairs must have no reason, rejected ones one")
    return publish_pairs(lambda: chain(kept, rejected), out_dir, cfg, info, pairing)


def publish_pairs(
    pairs: Callable[[], Iterable[Pair]],
    out_dir: str | os.PathLike[str],
    cfg: Config,
    info: Mapping[str, str],
    pairing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write OUT/dataset, OUT/rejected and OUT/export (see the module docstring), streaming.

    ``pairs()`` gives every filtered pair (``reason`` None = kept) in build
    order; it is called twice (the doc ids of the kept pairs decide the split
    by document, :func:`assign_splits`, then the rows are written as they
    come), so memory grows with the number of documents, not of pairs. Shards
    hold at most ``publish.shard_rows`` rows and about ``publish.shard_mb`` MB
    (:class:`~corpus.shards.ShardSet`). CorpusError if no pair was kept (the
    rejected pairs are still written, an earlier dataset is removed:
    ``datasets`` cannot load an empty parquet file). ``cfg`` gives the publish
    settings and everything the card reports; ``info`` carries what the config
    does not know: "input_hash" (SHA-256 of the inputs) and "splitter" (name
    and version of the sentence splitter); ``pairing``, the manifest of a
    paired crawl (:func:`corpus.pairing.read_manifest`), adds the columns
    zh_source, en_source, doc_score and the pairing counts to the card. Every
    file is put in place whole; parquet files of an earlier build that this
    build did not write are removed so ``load_dataset`` never mixes builds.
    Returns a summary: {"splits": {split: rows}, "rejected": n, "notes":
    [...], "signature": str}.
    """
    out = Path(out_dir)
    assign, notes = assign_splits((p.doc_id for p in pairs() if p.reason is None), cfg.publish)
    splits = [s for s in SPLITS if s == "train" or s in assign.values()]
    docs = {e["doc_id"]: e for e in pairing["pairs"]} if pairing is not None else None
    publication = Publication(out, cfg, splits, paired=pairing is not None)
    try:
        for p in pairs():
            publication.add(
                p, None if p.reason is not None else assign.get(p.doc_id, "train"), docs
            )
    except BaseException:
        publication.abort()
        raise
    return publication.finish(info, notes, pairing)


class Publication:
    """The files :func:`publish_pairs` writes, fed one pair at a time in build order: the
    shards of ``splits``, the exports and the rejected pairs under the build folder ``out``.
    :meth:`add` takes a pair; :meth:`put` takes what :meth:`prepare` computes from one (so
    another process may compute it). :meth:`finish` puts every file
    in place and writes the card; :meth:`abort` removes what was written."""

    def __init__(self, out: Path, cfg: Config, splits: Sequence[str], paired: bool) -> None:
        self.out, self.cfg = out, cfg
        self.data_dir = out / "dataset" / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        feats, pub = features(paired=paired), cfg.publish
        self.shards = {
            s: ShardSet(self.data_dir, s, feats, pub.shard_rows, pub.shard_mb) for s in splits
        }
        self.exports = Exports(out / "export", splits)
        self.rejected = ParquetFile(out / "rejected" / "rejected.parquet", features(True, paired))
        self._jsonl = atomic_path(out / "rejected" / "rejected.jsonl")
        self.jsonl = open(self._jsonl.__enter__(), "w", encoding="utf-8", newline="\n")
        self.digest, self.counts = RowDigest(), _Counts()

    def add(self, p: Pair, split: str | None, docs: Mapping[str, Any] | None = None) -> None:
        """Add pair ``p``: kept in ``split``, or rejected when ``split`` is None; ``docs``: a
        paired crawl's manifest entries by doc_id (their columns join the rows)."""
        self.put(split, *self.prepare(p, docs))

    @staticmethod
    def prepare(
        p: Pair, docs: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], tuple[str, str, str] | str]:
        """What :meth:`put` takes of pair ``p`` (see :meth:`add` for ``docs``): its dataset
        row (with its reason if rejected) and, if kept, its export texts
        (:func:`~corpus.exports.export_texts`), else its rejected.jsonl line (no newline)."""
        doc = docs.get(p.doc_id, _UNKNOWN) if docs is not None else None
        if p.reason is not None:
            return pair_record(p, True, doc), json.dumps(pair_to_row(p), ensure_ascii=False)
        return pair_record(p, doc=doc), export_texts(p)

    def put(
        self, split: str | None, row: dict[str, Any], extra: tuple[str, str, str] | str
    ) -> None:
        """Write one pair from what :meth:`prepare` gave: kept in ``split``, or rejected
        when ``split`` is None."""
        self.counts.add(row, split)
        if split is None:
            assert isinstance(extra, str)
            self.jsonl.write(extra + "\n")
            self.rejected.add(row)
            return
        assert not isinstance(extra, str)
        self.digest.add(split, row)
        self.shards[split].add(row)
        self.exports.write(split, *extra)

    def abort(self) -> None:
        for shard in self.shards.values():
            shard.abort()
        self.exports.close(keep=False)
        self.rejected.close(keep=False)
        self.jsonl.close()
        self._jsonl.__exit__(GeneratorExit, GeneratorExit(), None)

    def finish(
        self, info: Mapping[str, str], notes: Sequence[str], pairing: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Put the files in place and write the card (see :func:`publish_pairs`, which
        documents ``info``, ``pairing`` and the summary returned); CorpusError if no pair
        was kept."""
        out, counts, data_dir = self.out, self.counts, self.data_dir
        self.jsonl.close()
        self._jsonl.__exit__(None, None, None)
        self.rejected.close()
        if not counts.rows:
            for shard in self.shards.values():
                shard.abort()
            self.exports.close(keep=False)
            for old in [*data_dir.glob("*.parquet"), out / "dataset" / "README.md"]:
                old.unlink(missing_ok=True)
            raise CorpusError(
                f"no pair passed the filters ({sum(counts.reasons.values())} rejected, see "
                f"{out / 'rejected' / 'rejected.jsonl'}); no dataset written"
            )
        name = self.digest.hexdigest()[:12]
        written = {s: [f"data/{f}" for f in shard.finish(name)] for s, shard in self.shards.items()}
        fresh = {Path(f).name for fs in written.values() for f in fs}
        for old in data_dir.glob("*.parquet"):
            if old.name not in fresh:
                old.unlink()
        card = _card(counts, self.cfg, info, notes, written, pairing)
        atomic_write_text(out / "dataset" / "README.md", card)
        self.exports.close()
        return {
            "splits": {s: counts.rows[s] for s in self.shards if s in counts.rows},
            "rejected": sum(counts.reasons.values()),
            "notes": notes,
            "signature": signature(self.cfg, info),
        }


_UNKNOWN = dict.fromkeys(("zh_source", "en_source", "doc_score"))


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
