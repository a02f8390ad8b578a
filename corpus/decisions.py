"""The review decisions file: what the report's "Download decisions" saves and
``corpus build --decisions FILE`` reads (see docs/output.md, "Review decisions")::

    {"format": "zh-en-corpus-review", "version": 1,
     "decisions": [{"doc_id", "zh_ids", "en_ids", "zh", "en", "verdict"}, ...]}

Other keys (the page adds the build's ``signature``) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corpus.errors import InputError
from corpus.records import VERDICTS, Decision

__all__ = ["DECISIONS_FORMAT", "decision_of", "decision_row", "decisions_json", "read_decisions"]

#: The ``format`` field of a decisions file (what the report's "Download decisions" saves).
DECISIONS_FORMAT = "zh-en-corpus-review"
_DECISIONS_VERSION = 1


def decision_row(decision: Decision) -> dict[str, Any]:
    """A JSON-ready dict of one decision (one entry of a decisions file)."""
    return {
        "doc_id": decision.doc_id,
        "zh_ids": list(decision.zh_ids),
        "en_ids": list(decision.en_ids),
        "zh": decision.zh,
        "en": decision.en,
        "verdict": decision.verdict,
    }


def decisions_json(decisions: Iterable[Decision]) -> str:
    """A decisions file's text: ``{"format": DECISIONS_FORMAT, "version": 1, "decisions": [...]}``
    (the same form the report's page downloads)."""
    data = {
        "format": DECISIONS_FORMAT,
        "version": _DECISIONS_VERSION,
        "decisions": [decision_row(d) for d in decisions],
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def decision_of(path: Path, index: int, row: Any) -> Decision:
    """Entry ``index`` of a decisions file as a Decision; InputError naming the entry."""

    def bad(problem: str) -> InputError:
        return InputError(path, f"decision {index + 1}: {problem}", "bad_decisions")

    if not isinstance(row, dict):
        raise bad("not a JSON object")
    try:
        ids = [tuple(int(i) for i in row[side]) for side in ("zh_ids", "en_ids")]
        doc_id, zh, en, verdict = (row[k] for k in ("doc_id", "zh", "en", "verdict"))
    except KeyError as exc:
        raise bad(f"missing key {exc}") from None
    except (TypeError, ValueError):
        raise bad("zh_ids and en_ids must be lists of integers") from None
    if not all(isinstance(v, str) for v in (doc_id, zh, en, verdict)):
        raise bad("doc_id, zh, en and verdict must be strings")
    if verdict not in VERDICTS:
        raise bad(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if not ids[0] or not ids[1]:
        raise bad("a pair with an empty side (a 1-0 or 0-1 link) cannot be reviewed")
    return Decision(doc_id, ids[0], ids[1], zh, en, verdict)


def read_decisions(path: str | Path) -> list[Decision]:
    """The decisions of a file written by the report's page (or :func:`decisions_json`), in
    file order; of two decisions on one pair the later one counts.

    InputError (code ``bad_decisions``, naming the file and the problem) if the
    file cannot be read, is not such a file, or an entry is malformed.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "bad_decisions") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a JSON file ({exc})", "bad_decisions") from None
    if not isinstance(data, dict) or data.get("format") != DECISIONS_FORMAT:
        raise InputError(
            path, f'not a decisions file (expected "format": "{DECISIONS_FORMAT}")', "bad_decisions"
        )
    if data.get("version") != _DECISIONS_VERSION or not isinstance(data.get("decisions"), list):
        raise InputError(
            path,
            f"unsupported decisions file (version {data.get('version')!r}, expected "
            f"{_DECISIONS_VERSION} with a list of decisions)",
            "bad_decisions",
        )
    latest: dict[tuple[Any, ...], Decision] = {}
    for i, row in enumerate(data["decisions"]):
        decision = decision_of(path, i, row)
        latest.pop(decision.key, None)
        latest[decision.key] = decision
    return list(latest.values())
