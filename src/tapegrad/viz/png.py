"""PNG files from the standard library alone (zlib + struct): enough for charts.

An image is an (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA array of uint8. Every row is
written with filter type 0 (none) and the whole image in one IDAT chunk: simple, and
small for charts, which are mostly flat colour that zlib compresses well.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

__all__ = ["PNG_SIGNATURE", "encode_png", "write_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}         # channels -> PNG colour type (grey, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """length, type, data, and the CRC-32 of type + data (PNG spec section 5.3)."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray) -> bytes:
    """The PNG file (bytes) of an (H, W), (H, W, 3) or (H, W, 4) uint8 array."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise TypeError(f"encode_png: expected uint8 pixels, got {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in _COLOUR_TYPES or 0 in a.shape[:2]:
        raise ValueError("encode_png: expected a non-empty (H, W), (H, W, 3) or (H, W, 4) "
                         f"array, got shape {tuple(np.shape(pixels))}")
    height, width, channels = a.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    # each scanline is preceded by its filter-type byte (0: stored as is)
    scanlines = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    scanlines[:, 1:] = a.reshape(height, width * channels)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 9)) + _chunk(b"IEND", b""))


def write_png(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """Write ``pixels`` (see ``encode_png``) to ``path`` as a PNG file."""
    data = encode_png(pixels)
    with open(path, "wb") as f:
        f.write(data)
