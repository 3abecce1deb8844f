#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns an X screenshot (xwd's format) into a binary PPM, optionally only
a rectangle of it: how gpu-suite.sh's sdl case gets the SDL window's
pixels for tests/gpu-guest-prog/check-screenshot.py. The same format as
tests/unit/test_display_sdl.c decodes (a big-endian header, then ZPixmap
rows), with the standard library only.

Usage: xwd-crop.py IN.xwd OUT.ppm [X Y W H]
Reads ZPixmap dumps of 24 or 32 bits a pixel whose colour masks are whole
bytes (what Xvfb -screen 0 WxHx24 gives); anything else, or a rectangle
outside the image, is an error (exit 2, one line on stderr).
"""
import struct
import sys


def die(msg):
    print(f"xwd-crop.py: {msg}", file=sys.stderr)
    sys.exit(2)


def decode(buf):
    """(width, height, RGB bytes) of an xwd dump."""
    if len(buf) < 100:
        die(f"{len(buf)} bytes: not an xwd dump")
    (hdr, version, fmt, _depth, w, h, _xoff, order, _unit, _bit_order, _pad,
     bpp, stride, _cls, rmask, gmask, bmask, _bits, _entries,
     ncolors) = struct.unpack(">20I", buf[:80])
    data = hdr + ncolors * 12
    nbytes = bpp // 8
    if version != 7 or fmt != 2 or nbytes not in (3, 4) or stride < nbytes * w \
            or data + stride * h > len(buf):
        die(f"unsupported dump: version {version}, format {fmt}, {bpp} bpp, "
            f"{w}x{h}, stride {stride}, {len(buf)} bytes")
    # Where each channel's byte sits in a pixel's bytes: masks of whole
    # bytes only, so rows convert with slices (fast enough under TCG).
    where = []
    for mask in (rmask, gmask, bmask):
        shift = next((s for s in range(0, 8 * nbytes, 8) if mask == 0xff << s), None)
        if shift is None:
            die(f"colour mask {mask:#x} is not a whole byte")
        where.append(shift // 8 if order == 0 else nbytes - 1 - shift // 8)
    rgb = bytearray(w * h * 3)
    for y in range(h):
        row = buf[data + y * stride:data + y * stride + nbytes * w]
        out = rgb[y * w * 3:(y + 1) * w * 3]
        for c in range(3):
            out[c::3] = row[where[c]::nbytes]
        rgb[y * w * 3:(y + 1) * w * 3] = out
    return w, h, rgb


def main():
    if len(sys.argv) not in (3, 7):
        die("usage: xwd-crop.py IN.xwd OUT.ppm [X Y W H]")
    try:
        with open(sys.argv[1], "rb") as f:
            buf = f.read()
    except OSError as e:
        die(str(e))
    w, h, rgb = decode(buf)
    x, y, cw, ch = 0, 0, w, h
    if len(sys.argv) == 7:
        x, y, cw, ch = (int(v) for v in sys.argv[3:7])
    if x < 0 or y < 0 or cw <= 0 or ch <= 0 or x + cw > w or y + ch > h:
        die(f"rectangle {cw}x{ch} at {x},{y} is outside the {w}x{h} image")
    rows = [rgb[((y + r) * w + x) * 3:((y + r) * w + x + cw) * 3] for r in range(ch)]
    with open(sys.argv[2], "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (cw, ch))
        f.write(b"".join(rows))
    print(f"{cw}x{ch} at {x},{y} of {w}x{h}")


if __name__ == "__main__":
    main()
