"""Decoding: the bytes of a text file to text, and what a file's bytes really are.

:func:`decode_bytes`: BOM (UTF-8, UTF-16, UTF-32), then strict UTF-8, then
charset-normalizer limited to the encodings of Chinese and English files
(GB18030/GBK, Big5, BOM-less UTF-16/32, cp1252). A UTF-8 file with a few
invalid byte sequences among many valid ones (at least 10 valid non-ASCII
characters per bad sequence) is decoded with U+FFFD replacements and a note;
otherwise it is read as another encoding or rejected. Known binary formats,
NUL bytes outside UTF-16/32 and text with over 1 % control characters are
rejected as binary. A mojibake repair by ftfy is applied only when it leaves
no replacement character. Traditional Chinese is kept as written.

:func:`sniff` names the format the first bytes show (magic numbers), so a
reader never trusts a file's name alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import ftfy

from corpus.errors import InputError

__all__ = ["Decoded", "decode_bytes", "read_bytes", "read_decoded", "read_text", "sniff"]

log = logging.getLogger(__name__)

# (magic, format name, what to call it): formats a reader may expect, and other binaries.
_MAGIC = (
    (b"\x89PNG", "png", "PNG image"),
    (b"\xff\xd8\xff", "jpeg", "JPEG image"),
    (b"GIF8", "gif", "GIF image"),
    (b"%PDF", "pdf", "PDF document"),
    (b"PK\x03\x04", "zip", "ZIP archive (or .docx/.epub)"),
    (b"\x1f\x8b", "gzip", "gzip archive"),
    (b"\x7fELF", "elf", "executable"),
    (b"RIFF", "riff", "RIFF media file"),
    (b"\xd0\xcf\x11\xe0", "ole", "MS Office document"),
    (b"PAR1", "parquet", "Parquet file"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# The encodings charset-normalizer may choose from: those of Chinese and English
# text files. (Left free, it reads short GB18030 text as Korean cp949.)
_CANDIDATES = ["gb18030", "big5", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "cp1252", "latin_1"]


def sniff(data: bytes) -> tuple[str, str]:
    """(format, description) of the bytes by their magic number: ("pdf", "PDF document"),
    ("zip", ...), ("png", ...), ...; ("text", "text") when no binary magic matches."""
    for magic, name, what in _MAGIC:
        if data.startswith(magic):
            return name, what
    return "text", "text"


@dataclass(frozen=True)
class Decoded:
    """Decoded text of one file, the encoding used, and warnings about the decoding."""

    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def decode_bytes(data: bytes, source: str) -> Decoded:
    """Decode ``data`` (the bytes of file ``source``) to text with ``\\n`` line ends.

    Warnings (bytes replaced, mojibake repaired) are in ``notes`` and logged.

    Raises :class:`InputError` for an empty file, a known binary format, an
    undetectable encoding, text full of control characters, or whitespace only.
    """
    if not data:
        raise InputError(source, "empty file (0 bytes)", "empty")
    kind, what = sniff(data)
    if kind != "text":
        raise InputError(source, f"binary file ({what}), not text", "binary")
    notes: list[str] = []
    text, encoding = _decode(data, source, notes)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    fixed = ftfy.fix_encoding(text)
    if fixed != text:
        if "\ufffd" not in fixed:
            notes.append(
                "repaired mojibake (UTF-8 text that had been decoded as Latin-1/cp1252) with ftfy"
            )
            text = fixed
        else:
            notes.append("text looks like mojibake that cannot be repaired reliably; kept as is")
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\n\f\v") or ch == "\x7f")
    if controls > max(2, len(text) // 100):
        raise InputError(source, f"binary file ({controls} control characters), not text", "binary")
    if not text.strip():
        raise InputError(source, "no text (whitespace only)", "no_text")
    for note in notes:
        log.warning("%s: %s", source, note)
    return Decoded(text, encoding, tuple(notes))


def _decode(data: bytes, source: str, notes: list[str]) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(
                    source,
                    f"invalid {encoding} after its byte-order mark (byte {exc.start})",
                    "encoding",
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if b"\0" not in data:
        replaced = data.decode("utf-8", errors="replace")
        bad = replaced.count("\ufffd") - data.count(b"\xef\xbf\xbd")
        good = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != "\ufffd")
        if good >= 10 * bad:
            note = f"{bad} invalid UTF-8 byte sequence(s) replaced by U+FFFD (first at byte {first_bad})"
            notes.append(note)
            return replaced, "utf-8"
    best = charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATES).best()
    if (
        best is None
        or best.encoding is None
        or (b"\0" in data and not best.encoding.startswith("utf_"))
    ):
        if b"\0" in data:
            raise InputError(
                source, "binary file (NUL bytes, not UTF-16/32 text), not text", "binary"
            )
        raise InputError(
            source,
            "cannot detect the text encoding (tried UTF-8, GB18030, Big5, UTF-16/32, cp1252)",
            "encoding",
        )
    if best.encoding == "latin_1":
        try:  # cp1252 is latin-1 with quotes and dashes where latin-1 has control codes
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path``; InputError naming it if it is missing, a folder, unreadable, or
    (with ``limit``) larger than ``limit`` bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(path, "no such file", "not_found") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file", "unreadable") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "unreadable") from None
    if limit is not None and len(data) > limit:
        raise InputError(path, f"larger than {limit:,} bytes (extract.max_file_bytes)", "too_large")
    return data


def read_decoded(path: Path) -> Decoded:
    """The decoded text of file ``path`` (see :func:`decode_bytes`)."""
    return decode_bytes(read_bytes(path), str(path))


def read_text(path: str | Path) -> str:
    """The decoded text of ``path`` (see :func:`decode_bytes`); warnings are logged."""
    return read_decoded(Path(path)).text
