"""Bounded reading of zip containers (DOCX, EPUB) held in memory; nothing is written anywhere.

:class:`SafeZip` checks, before anything is inflated, the member count that the
archive's end record states (``extract.max_zip_members``: the central directory
is not even parsed past it), then every member name (absolute, ``..``,
backslash or NUL paths, and names given twice, are refused: they have no
place in a document container). :meth:`SafeZip.read` checks the member's
declared size against what is left of ``extract.max_unzipped_bytes`` for the
file, then inflates in 64 KiB pieces, counting the actual bytes against the
same budget and the ratio to the compressed size (``extract.max_zip_ratio``,
once past 1 MiB), and stops at the first piece past a bound. Every problem is
an :class:`~corpus.errors.InputError` naming the file and the member.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from corpus.config import ExtractConfig
from corpus.errors import InputError

__all__ = ["SafeZip"]

_PIECE = 64 * 1024
_RATIO_FLOOR = 1024 * 1024  # the ratio is checked once a member has inflated this far
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


def _stated_members(data: bytes) -> int | None:
    """The member count the archive's end record states (zip64 too), None if there is none."""
    tail_start = max(0, len(data) - (65535 + 22))
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or len(data) - at < 22:
        return None
    count = int.from_bytes(data[at + 10 : at + 12], "little")
    locator = at - 20
    if count == 0xFFFF and locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
        where = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if data[where : where + 4] == _EOCD64 and where + 40 <= len(data):
            count = int.from_bytes(data[where + 32 : where + 40], "little")
    return count


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return (
        name.startswith("/")
        or "\\" in name
        or "\0" in name
        or ".." in parts
        or (len(name) > 1 and name[1] == ":")
    )


class SafeZip:
    """A zip archive in memory whose members are read within the bounds of ``cfg``.

    Raises :class:`InputError` (codes ``bad_zip``, ``unsafe_zip``, ``zip_bomb``)
    naming ``source`` when the bytes are not a readable zip archive, list too
    many members, or have a member name that is unsafe or given twice.
    """

    def __init__(self, data: bytes, source: str, cfg: ExtractConfig) -> None:
        self.source = source
        self._cfg = cfg
        self._left = cfg.max_unzipped_bytes
        stated = _stated_members(data)
        if stated is None:
            raise InputError(source, "not a zip archive (no end-of-archive record)", "bad_zip")
        if stated > cfg.max_zip_members:
            raise InputError(
                source,
                f"zip archive lists {stated:,} members, more than "
                f"{cfg.max_zip_members:,} (extract.max_zip_members)",
                "zip_bomb",
            )
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
            raise InputError(source, f"not a readable zip archive ({exc})", "bad_zip") from None
        seen: set[str] = set()
        for info in infos:
            if _unsafe(info.filename):
                raise InputError(
                    source,
                    f"unsafe zip member name {info.filename!r} (absolute or '..' path); "
                    "nothing is extracted",
                    "unsafe_zip",
                )
            if info.filename in seen:
                raise InputError(
                    source, f"zip member {info.filename!r} is given twice", "unsafe_zip"
                )
            seen.add(info.filename)
        self._infos = {info.filename: info for info in infos}

    def names(self) -> list[str]:
        """The member names, in archive order."""
        return list(self._infos)

    def has(self, name: str) -> bool:
        """Whether member ``name`` exists."""
        return name in self._infos

    def read(self, name: str) -> bytes:
        """The inflated bytes of member ``name``; InputError if it is missing, encrypted,
        damaged, or would pass a bound (declared or actual size, ratio)."""
        info = self._infos.get(name)
        if info is None:
            raise InputError(self.source, f"zip member {name!r} is missing", "bad_zip")
        if info.file_size > self._left:
            raise self._too_large(name, info.file_size)
        out = bytearray()
        try:
            with self._zip.open(info) as member:
                while piece := member.read(_PIECE):
                    out += piece
                    self._check(name, len(out), info.compress_size)
        except (  # RuntimeError: an encrypted member
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise InputError(
                self.source, f"zip member {name!r} cannot be read ({exc})", "bad_zip"
            ) from None
        self._left -= len(out)
        return bytes(out)

    def _check(self, name: str, produced: int, compressed: int) -> None:
        if produced > self._left:
            raise self._too_large(name, produced)
        limit = self._cfg.max_zip_ratio
        if produced > _RATIO_FLOOR and produced > limit * max(compressed, 1):
            raise InputError(
                self.source,
                f"zip member {name!r} inflates more than {limit} times its compressed size "
                f"({compressed:,} bytes; extract.max_zip_ratio): a zip bomb",
                "zip_bomb",
            )

    def _too_large(self, name: str, size: int) -> InputError:
        return InputError(
            self.source,
            f"zip member {name!r} would inflate past {self._cfg.max_unzipped_bytes:,} bytes "
            f"for the file ({size:,} bytes; extract.max_unzipped_bytes): a zip bomb",
            "zip_bomb",
        )
