"""WARC input (``.warc``, ``.warc.gz``): every HTML response record is a page, its URL kept.

Read with warcio (Apache-2.0). Bounds and hostile files:

- the file is read within ``extract.max_file_bytes``; a ``.warc.gz`` is first
  decompressed as a stream by :func:`corpus.extract.gunzip.gunzip` (all
  members, stopping at ``max_file_bytes`` or ``max_gzip_ratio`` times its size),
  so a gzip bomb costs at most that much;
- a record whose block is shorter than its ``Content-Length`` (a truncated
  file), or that lies about its length (the next record then does not start
  where it says: warcio finds no record header there), ends the reading: that
  record is skipped with its reason, the pages before it are kept;
- non-response records (request, metadata, warcinfo) are ignored; a response
  that is not ``200`` (a redirect, an error) or whose payload is not HTML
  (Content-Type, or bytes that are a known binary format) is skipped with a
  one-line reason.

The pages' bytes are read later by the HTML reader
(:func:`corpus.extract.html.read_html`), like an ``.html`` file's.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import read_bytes, sniff
from corpus.extract.gunzip import GZ, gunzip
from corpus.records import Skipped, WarcPage

__all__ = ["WARC_SUFFIXES", "is_warc", "read_warc"]

#: Names of WARC inputs.
WARC_SUFFIXES = (".warc", ".warc" + GZ)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_warc(path: Path) -> bool:
    """Whether ``path`` is named as a WARC file (``.warc`` or ``.warc.gz``)."""
    return path.name.endswith(WARC_SUFFIXES) and not path.name.startswith(".")


def _payload_problem(record: Any) -> str | None:
    """Why a response record is not a page, or None."""
    http = record.http_headers
    if http is None:
        return "response without HTTP headers"
    status = http.get_statuscode() or "?"
    if status != "200":
        location = http.get_header("Location")
        where = f" to {location}" if location else ""
        return f"HTTP status {status}{' (redirect' + where + ')' if status.startswith('3') else ''}"
    kind = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
    if kind not in _HTML_TYPES:
        return f"not HTML (Content-Type {kind or 'missing'})"
    return None


def read_warc(path: Path, cfg: ExtractConfig | None = None) -> Iterator[WarcPage | Skipped]:
    """The HTML pages of WARC file ``path`` in file order, and a :class:`Skipped` (source
    ``PATH::URL``, or ``PATH@OFFSET`` where no URL is known) for each response record that is
    not one or cannot be read. InputError naming the file when it cannot be read at all
    (missing, too large, a gzip bomb, not a WARC file)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    cfg = cfg or ExtractConfig()
    data = read_bytes(path, cfg.max_file_bytes)
    if path.name.endswith(GZ):
        data = gunzip(data, str(path), cfg.max_file_bytes, cfg.max_gzip_ratio)
    if not data.startswith(b"WARC/"):
        _, what = sniff(data)
        raise InputError(path, f"not a WARC file (starts with {what}, not WARC/)", "mislabelled")
    records = ArchiveIterator(io.BytesIO(data))
    pending: WarcPage | Skipped | None = None
    offset = 0
    warnings = io.StringIO()  # warcio writes "record not followed by newline" to stderr
    try:
        with contextlib.redirect_stderr(warnings):
            for record in records:
                if records.err_count and pending is not None:
                    break  # the previous record's Content-Length was wrong
                if pending is not None:
                    yield pending
                    pending = None
                if record.rec_type == "response":
                    pending = _page(path, record)
                offset = records.get_record_offset()  # (only after the block is read)
            else:
                if records.err_count == 0:
                    if pending is not None:
                        yield pending
                    if data[records.offset :].strip():
                        yield Skipped(
                            f"{path}@{records.offset}",
                            f"truncated WARC file: the record at byte {records.offset:,} is "
                            "incomplete",
                            "unreadable",
                        )
                    return
    except (ArchiveLoadFailed, OSError, ValueError, AttributeError, TypeError) as exc:
        # warcio meets hostile headers with these (a None URI, a bad number)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:80]
        if isinstance(pending, WarcPage) and b"\nWARC/" not in pending.data:
            yield pending  # it was whole: the record after it is the broken one
            pending = None
        where = pending.source if pending is not None else f"{path}@{offset}"
        yield Skipped(
            where,
            f"unreadable WARC record after byte {offset:,} ({first}): a truncated file or a "
            "Content-Length that does not match; the rest of the file is not read",
            "unreadable",
        )
        return
    if pending is not None:
        yield Skipped(
            pending.source,
            "WARC record whose Content-Length does not match its block (it runs into the next "
            "record); the rest of the file is not read",
            "unreadable",
        )


def _page(path: Path, record: Any) -> WarcPage | Skipped:
    """The page of one response record, or why it is not one."""
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI") or "(no WARC-Target-URI)"
    source = f"{path}::{url}"
    payload = record.content_stream().read()
    left = getattr(getattr(record, "raw_stream", None), "limit", 0) or 0
    if left > 0:
        return Skipped(
            source,
            f"truncated WARC record (its Content-Length says {left:,} bytes more than the file "
            "holds)",
            "unreadable",
        )
    problem = _payload_problem(record)
    if problem is not None:
        return Skipped(source, problem, "not_a_page")
    kind, what = sniff(payload)
    if kind != "text":
        return Skipped(source, f"Content-Type says HTML but the payload is {what}", "mislabelled")
    if not payload.strip():
        return Skipped(source, "empty page (0 bytes of HTML)", "empty")
    return WarcPage(url, source, payload)
