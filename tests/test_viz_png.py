"""viz.png writes valid PNG files and viz.plot puts a chart's pixels where they belong.

The PNG is decoded here by hand (chunks, CRCs, zlib, filter bytes), independently of the
encoder, as any PNG reader would."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from tapegrad import viz
from tapegrad.viz.plot import BLACK, CURVE, WHITE, frame_for


def read_png(data: bytes) -> tuple[dict, np.ndarray]:
    """Parse chunks (checking every CRC) and return the IHDR fields and the pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind}"
        chunks.append((kind, body))
        pos += 12 + length
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    w, h, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    header = dict(width=w, height=h, depth=depth, colour=colour, compression=comp,
                  filter=filt, interlace=interlace)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    channels = {0: 1, 2: 3, 6: 4}[colour]
    assert len(raw) == h * (1 + w * channels)
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * channels)
    assert (rows[:, 0] == 0).all()                      # filter type "none" on each row
    return header, rows[:, 1:].reshape(h, w, channels)


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_encoded_png_decodes_to_the_same_pixels(channels):
    rng = np.random.default_rng(0)
    shape = (7, 5) if channels is None else (7, 5, channels)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    header, decoded = read_png(viz.encode_png(pixels))
    assert header == dict(width=5, height=7, depth=8, colour={None: 0, 3: 2, 4: 6}[channels],
                          compression=0, filter=0, interlace=0)
    np.testing.assert_array_equal(decoded, pixels.reshape(7, 5, -1))


def test_write_png_writes_the_encoded_bytes(tmp_path):
    pixels = np.full((2, 3, 3), 200, np.uint8)
    viz.write_png(tmp_path / "a.png", pixels)
    assert (tmp_path / "a.png").read_bytes() == viz.encode_png(pixels)


def test_encode_png_rejects_what_png_cannot_hold():
    with pytest.raises(TypeError, match="expected uint8 pixels, got float64"):
        viz.encode_png(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2\)"):
        viz.encode_png(np.zeros((2, 2, 2), np.uint8))


def _colour_at(img: np.ndarray, col: int, row: int) -> tuple:
    return tuple(int(v) for v in img[row, col])


def test_line_chart_draws_the_curve_through_its_points():
    ys = [3.0, 1.0, 2.0, 0.0]
    img = viz.line_chart(ys, width=320, height=200)
    assert img.shape == (200, 320, 3) and img.dtype == np.uint8
    f = frame_for(np.arange(4.0), np.array(ys), 320, 200)
    for i, y in enumerate(ys):
        assert _colour_at(img, *f.to_pixel(i, y)) == CURVE
    # first point is the top-left corner of the plot area, the last the bottom-right
    assert f.to_pixel(0, 3.0) == (f.left, f.top)
    assert f.to_pixel(3, 0.0) == (f.right, f.bottom)
    # midway along the segment from (1, 1) to (2, 2)
    assert _colour_at(img, *f.to_pixel(1.5, 1.5)) == CURVE
    # far from the curve the plot area is background, or a light grid line
    assert _colour_at(img, *f.to_pixel(0.2, 0.3)) in (WHITE, (225, 225, 225))


def test_line_chart_draws_axes_and_tick_marks():
    img = viz.line_chart([0.0, 1.0], width=320, height=200)
    f = frame_for(np.arange(2.0), np.array([0.0, 1.0]), 320, 200)
    mid_row = (f.top + f.bottom) // 2
    assert _colour_at(img, f.left, mid_row) == BLACK                      # y axis
    assert _colour_at(img, (f.left + f.right) // 2, f.bottom) == BLACK     # x axis
    # ticks at round values: below the x axis at x = 0.5, left of the y axis at y = 0.4
    col, row = f.to_pixel(0.5, 0.4)
    assert _colour_at(img, col, f.bottom + 3) == BLACK
    assert _colour_at(img, f.left - 3, row) == BLACK
    # tick labels are drawn in the margins
    assert (img[f.bottom + 8:, :] == 0).any() and (img[:, :f.left - 6] == 0).any()


def test_flat_series_is_drawn_across_the_middle():
    img = viz.line_chart([2.0] * 5, width=200, height=120)
    f = frame_for(np.arange(5.0), np.full(5, 2.0), 200, 120)
    col, row = f.to_pixel(2, 2.0)
    assert row == (f.top + f.bottom + 1) // 2 or row == (f.top + f.bottom) // 2
    assert (img[row, f.left + 1:f.right + 1] == CURVE).all()


def test_save_line_chart_writes_a_png_of_the_chart(tmp_path):
    path = tmp_path / "loss.png"
    viz.save_line_chart(path, [1.0, 0.5, 0.25], width=160, height=100)
    header, pixels = read_png(path.read_bytes())
    assert (header["width"], header["height"]) == (160, 100)
    np.testing.assert_array_equal(pixels, viz.line_chart([1.0, 0.5, 0.25], width=160,
                                                         height=100))


def test_line_chart_rejects_empty_or_non_finite_data():
    with pytest.raises(ValueError, match="at least one finite value"):
        viz.line_chart([])
    with pytest.raises(ValueError, match="at least one finite value"):
        viz.line_chart([1.0, float("nan")])
