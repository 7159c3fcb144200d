"""HTML case report: self-contained, escaped, and rendered by headless Chromium with the network picture visible."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from .conftest import HOSTILE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_is_self_contained_and_escaped(exported):
    out, _ = exported
    html = (out / "report" / "NW-1.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE not in html  # never raw
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|file:)""", html, re.I)
    assert not re.search(r"url\((?!#)|@import|<link|<img|<iframe|<object", html, re.I)  # url(#arrow) is in-page
    assert html.count("<svg") == 2 and 'id="network-picture"' in html and 'id="timeline"' in html
    # evidence table cites file and row of every transaction; compound link evidence shown
    for path, row in (("/landing/kbank_th_2024-03.csv", 1), ("/landing/tronscan_TKH.csv", 7)):
        assert f"<code>{path}</code></td><td class=\"num\">{row}</td>" in html
    assert "Login from 103.2.3.4 inside KK Park range 103.2.3.0/24 &lt;b&gt;bold&lt;/b&gt;" in html
    assert "2024-03-01" in html and "2024-03-03" in html  # timeline days
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert 'href="NW-1.html"' in index


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG, without Pillow."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [r if bpp == 3 else bytes(v for j, v in enumerate(r) if j % 4 != 3) for r in rows]


def screenshot(html: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         f"--screenshot={png}", "--window-size=1400,1000", html.resolve().as_uri()],
        check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium; .ci/run installs it)")
def test_report_renders_in_chromium_with_the_network_picture_visible(exported, tmp_path):
    out, _ = exported
    png = tmp_path / "report.png"
    screenshot(out / "report" / "NW-1.html", png, tmp_path / "profile")
    assert png.exists() and png.stat().st_size > 10_000
    width, height, rows = png_pixels(png)
    assert (width, height) == (1400, 1000)
    non_white = coloured = 0
    for y in range(height // 3, height):  # the picture sits below the summary
        r = rows[y]
        for x in range(0, width * 3, 3):
            red, green, blue = r[x], r[x + 1], r[x + 2]
            if red < 235 or green < 235 or blue < 235:
                non_white += 1
            if max(red, green, blue) - min(red, green, blue) > 80:
                coloured += 1  # role colours of the nodes, not grey text
    assert non_white > 15_000, non_white
    assert coloured > 4_000, coloured
    shutil.copy(png, out.parent / "report_screenshot.png")  # kept beside the export for a human look
