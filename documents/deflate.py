"""Pieces of one deflate stream compressed apart, and the CRC-32 of texts joined.

A zip entry is one raw deflate stream. A piece compressed by a compressor of its own and ended
with ``Z_SYNC_FLUSH`` (a block boundary, byte-aligned, not the last block) can be put after any
other such piece: the decoder reads the blocks one after the other, and a fresh compressor
never refers back past its own start. So the history's chunks, compressed once in the
background, go into a workbook as they are stored, between a head and a tail compressed then.

The entry's CRC-32 is that of the whole text, which is not at hand for the stored pieces:
:func:`crc32_combine` makes it from the pieces' CRCs and lengths (zlib's ``crc32_combine``,
which Python's :mod:`zlib` does not offer).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

COMPRESS_LEVEL = 1  # as the package's other parts: about the size of level 6 at a third the time


@dataclass(frozen=True)
class Deflated:
    """A text compressed on its own as raw deflate ending at a sync flush, its CRC-32 and length."""

    data: bytes
    crc: int
    length: int


def raw_compressor(level: int = COMPRESS_LEVEL) -> Any:
    """A zlib compressor of raw deflate (no zlib header or trailer: a zip entry's data)."""
    return zlib.compressobj(level, zlib.DEFLATED, -15)


def deflate_piece(text: bytes, level: int = COMPRESS_LEVEL) -> Deflated:
    compressor = raw_compressor(level)
    data = compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Deflated(data, zlib.crc32(text), len(text))


_CRC_POLYNOMIAL = 0xEDB88320  # CRC-32's polynomial, reflected


def _gf2_times(matrix: list[int], vector: int) -> int:
    """The 32×32 matrix over GF(2) (a list of columns) times a 32-bit vector."""
    total, column = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[column]
        vector >>= 1
        column += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, column) for column in matrix]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from ``crc1`` of A, ``crc2`` of B and B's length (zlib's method:
    appending ``length2`` zero bytes to A is a linear map on its CRC, applied by squaring the
    one-zero-bit operator, and B's CRC is then XORed in)."""
    if length2 <= 0:
        return crc1
    odd = [_CRC_POLYNOMIAL] + [1 << bit for bit in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:  # the first square below makes one zero byte, as zlib's loop
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2
