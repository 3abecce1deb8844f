#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a screenshot of the guest's scanout against the pattern that
tests/gpu-guest-prog/phy-gpu-pattern.c draws (keep the two definitions
together): quadrants split at W/2 and H/2, top-left red, top-right green,
bottom-left blue, bottom-right magenta, and a yellow square of side
min(W,H)/8 at (W/16, H/16). With --pattern bars, the colour bars the
default guest draws on its framebuffer (tools/guest/init, show_fb): eight
vertical bars of W/8, white, yellow, cyan, green, magenta, red, blue,
black.

Usage: check-screenshot.py IMAGE [--size WxH] [--tolerance N] [--pattern quadrants|bars]
       check-screenshot.py --self-test
IMAGE is a PNG (8-bit RGB or RGBA, not interlaced: what phyllome-vmm's
--screenshot-on-exit and QEMU's screendump write) or a binary PPM (P6).
Only the standard library: zlib and struct decode the PNG.

Every pixel is compared, each channel within --tolerance (default 8: the
pattern's channels are all 0 or 255, any faithful path keeps them). Prints
one line, "ok WxH" (exit 0) or "bad: ..." with the first wrong pixel and,
when the image matches a mirrored, flipped, rotated or red/blue-swapped
pattern, which one (exit 1). Exit 2 when the file cannot be read."""
import struct
import sys
import zlib

TOP_LEFT = (255, 0, 0)
TOP_RIGHT = (0, 255, 0)
BOTTOM_LEFT = (0, 0, 255)
BOTTOM_RIGHT = (255, 0, 255)
MARKER = (255, 255, 0)


def pattern_at(w, h, x, y):
    """The colour at screen pixel (x, y), y counted from the top."""
    side = min(w, h) // 8
    mx, my = w // 16, h // 16
    if mx <= x < mx + side and my <= y < my + side:
        return MARKER
    if y < h // 2:
        return TOP_LEFT if x < w // 2 else TOP_RIGHT
    return BOTTOM_LEFT if x < w // 2 else BOTTOM_RIGHT


BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]


def bars_at(w, h, x, y):
    """The default guest's colour bars at (x, y)."""
    return BARS[x * 8 // w]


PATTERNS = {"quadrants": pattern_at, "bars": bars_at}


# ------------------------------------------------------------ decoding
def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(data, w, h, bpp):
    """PNG scanline filters (spec section 9) undone; returns rows of bytes."""
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ftype = data[i]
        raw = bytearray(data[i + 1:i + 1 + stride])
        i += 1 + stride
        if len(raw) != stride:
            raise ValueError("image data too short")
        if ftype == 1:  # Sub
            for k in range(bpp, stride):
                raw[k] = (raw[k] + raw[k - bpp]) & 255
        elif ftype == 2:  # Up
            raw = bytearray((a + b) & 255 for a, b in zip(raw, prev))
        elif ftype == 3:  # Average
            for k in range(stride):
                left = raw[k - bpp] if k >= bpp else 0
                raw[k] = (raw[k] + ((left + prev[k]) >> 1)) & 255
        elif ftype == 4:  # Paeth
            for k in range(stride):
                left = raw[k - bpp] if k >= bpp else 0
                upleft = prev[k - bpp] if k >= bpp else 0
                raw[k] = (raw[k] + _paeth(left, prev[k], upleft)) & 255
        elif ftype != 0:
            raise ValueError(f"unknown PNG filter type {ftype}")
        rows.append(raw)
        prev = raw
    return rows


def read_png(blob):
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(blob):
        length, ctype = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if not hdr:
        raise ValueError("PNG without IHDR")
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}, "
                         f"interlace {interlace} (want 8-bit RGB/RGBA, not interlaced)")
    bpp = 3 if ctype == 2 else 4
    rows = _unfilter(zlib.decompress(b"".join(idat)), w, h, bpp)
    return w, h, bpp, rows


def read_ppm(blob):
    # P6, whitespace-separated width, height, maxval, one whitespace, data.
    fields, pos = [], 2
    while len(fields) < 3:
        while blob[pos:pos + 1].isspace():
            pos += 1
        if blob[pos:pos + 1] == b"#":
            pos = blob.index(b"\n", pos)
            continue
        end = pos
        while not blob[end:end + 1].isspace():
            end += 1
        fields.append(int(blob[pos:end]))
        pos = end
    w, h, maxval = fields
    if maxval != 255:
        raise ValueError(f"PPM maxval {maxval}, want 255")
    pos += 1
    stride = w * 3
    rows = [blob[pos + y * stride:pos + (y + 1) * stride] for y in range(h)]
    if len(rows[-1]) != stride:
        raise ValueError("PPM data too short")
    return w, h, 3, rows


def read_image(path):
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:2] == b"P6":
        return read_ppm(blob)
    return read_png(blob)


# ------------------------------------------------------------ checking
def pixel(rows, bpp, x, y):
    r = rows[y]
    return r[x * bpp], r[x * bpp + 1], r[x * bpp + 2]


def close(a, b, tol):
    return all(abs(p - q) <= tol for p, q in zip(a, b))


# What a wrong image may be instead: a pattern `pat` seen through these.
TRANSFORMS = {
    "upside down (flipped vertically)": lambda pat, w, h, x, y: pat(w, h, x, h - 1 - y),
    "mirrored (flipped horizontally)": lambda pat, w, h, x, y: pat(w, h, w - 1 - x, y),
    "rotated by 180 degrees": lambda pat, w, h, x, y: pat(w, h, w - 1 - x, h - 1 - y),
    "red and blue swapped (BGR vs RGB)": lambda pat, w, h, x, y: pat(w, h, x, y)[::-1],
    "upside down and red/blue swapped":
        lambda pat, w, h, x, y: pat(w, h, x, h - 1 - y)[::-1],
}


def diagnose(w, h, bpp, rows, tol, pat):
    """The transform that explains the image, from a sample of pixels."""
    pts = [(x, y) for y in range(0, h, max(1, h // 24)) for x in range(0, w, max(1, w // 32))]
    for name, f in TRANSFORMS.items():
        if all(close(pixel(rows, bpp, x, y), f(pat, w, h, x, y), tol) for x, y in pts):
            return name
    return None


def check(path, size=None, tol=8, pat=pattern_at):
    try:
        w, h, bpp, rows = read_image(path)
    except (OSError, ValueError, zlib.error, IndexError, struct.error) as e:
        return 2, f"cannot read {path}: {e}"
    if size and (w, h) != size:
        return 1, f"bad: image is {w}x{h}, want {size[0]}x{size[1]}"
    nbad, first = 0, None
    for y in range(h):
        row = rows[y]
        for x in range(w):
            want = pat(w, h, x, y)
            o = x * bpp
            if (abs(row[o] - want[0]) > tol or abs(row[o + 1] - want[1]) > tol
                    or abs(row[o + 2] - want[2]) > tol):
                if first is None:
                    first = (x, y, tuple(row[o:o + 3]), want)
                nbad += 1
    if not nbad:
        return 0, f"ok {w}x{h}"
    x, y, got, want = first
    msg = (f"bad: {nbad} of {w * h} pixels differ, first at {x},{y}: got "
           f"{got}, want {want}")
    why = diagnose(w, h, bpp, rows, tol, pat)
    if why:
        msg += f"; the image is the pattern {why}"
    return 1, msg


# ------------------------------------------------------------ self-test
def _filter_row(ftype, raw, prev, bpp):
    """The encoder's side of _unfilter, for the self-test."""
    out = bytearray(len(raw))
    for k in range(len(raw)):
        left = raw[k - bpp] if k >= bpp else 0
        up = prev[k]
        upleft = prev[k - bpp] if k >= bpp else 0
        pred = (0, left, up, (left + up) >> 1, _paeth(left, up, upleft))[ftype]
        out[k] = (raw[k] - pred) & 255
    return bytes([ftype]) + bytes(out)


def write_png(path, w, h, colour_at, bpp=3):
    """Rows filtered with each of the five filter types in turn."""
    rows, prev = [], bytes(w * bpp)
    for y in range(h):
        raw = b"".join(bytes(colour_at(x, y)) + (b"\xff" if bpp == 4 else b"")
                       for x in range(w))
        rows.append(_filter_row(y % 5, raw, prev, bpp))
        prev = raw

    def chunk(t, body):
        return (struct.pack(">I", len(body)) + t + body
                + struct.pack(">I", zlib.crc32(t + body) & 0xffffffff))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if bpp == 3 else 6, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"".join(rows)))
                + chunk(b"IEND", b""))


def self_test():
    """The checker against images made here: the pattern passes in every
    encoding; each transform, a one-pixel error and a wrong size fail."""
    import os
    import tempfile
    w, h = 64, 48
    failures, count = [], [0]
    with tempfile.TemporaryDirectory() as d:
        def expect(name, path, want_rc, want_text, size=None, pat=pattern_at):
            count[0] += 1
            rc, line = check(path, size, pat=pat)
            if rc != want_rc or want_text not in line:
                failures.append(f"{name}: got ({rc}, {line!r}), want rc {want_rc} with {want_text!r}")
        good = os.path.join(d, "good.png")
        write_png(good, w, h, lambda x, y: pattern_at(w, h, x, y))
        expect("rgb png", good, 0, f"ok {w}x{h}", (w, h))
        expect("wrong size", good, 1, "want 640x480", (640, 480))
        rgba = os.path.join(d, "rgba.png")
        write_png(rgba, w, h, lambda x, y: pattern_at(w, h, x, y), bpp=4)
        expect("rgba png", rgba, 0, "ok")
        ppm = os.path.join(d, "good.ppm")
        with open(ppm, "wb") as f:
            f.write(b"P6\n# comment\n%d %d\n255\n" % (w, h) + b"".join(
                bytes(pattern_at(w, h, x, y)) for y in range(h) for x in range(w)))
        expect("ppm", ppm, 0, "ok")
        for name, t in TRANSFORMS.items():
            p = os.path.join(d, "t.png")
            write_png(p, w, h, lambda x, y: t(pattern_at, w, h, x, y))
            expect(name, p, 1, f"the pattern {name}")
        bars = os.path.join(d, "bars.png")
        write_png(bars, w, h, lambda x, y: bars_at(w, h, x, y))
        expect("bars", bars, 0, f"ok {w}x{h}", pat=bars_at)
        expect("bars, not quadrants", bars, 1, "pixels differ")
        write_png(bars, w, h, lambda x, y: bars_at(w, h, w - 1 - x, y))
        expect("bars mirrored", bars, 1, "the pattern mirrored", pat=bars_at)
        write_png(bars, w, h, lambda x, y: bars_at(w, h, x, y)[::-1])
        expect("bars red/blue swapped", bars, 1, "red and blue swapped", pat=bars_at)
        one = os.path.join(d, "one.png")
        write_png(one, w, h, lambda x, y: (0, 0, 0) if (x, y) == (40, 30) else pattern_at(w, h, x, y))
        expect("one pixel", one, 1, "1 of 3072 pixels differ, first at 40,30")
        near = os.path.join(d, "near.png")
        write_png(near, w, h, lambda x, y: tuple(max(0, c - 8) for c in pattern_at(w, h, x, y)))
        expect("within tolerance", near, 0, "ok")
        bad = os.path.join(d, "bad.png")
        with open(bad, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nnonsense")
        expect("garbage", bad, 2, "cannot read")
    for f in failures:
        print(f"check-screenshot self-test: {f}")
    print(f"check-screenshot self-test: {count[0] - len(failures)} of {count[0]} checks passed")
    return 1 if failures else 0


def main(argv):
    args, size, tol, pat = [], None, 8, pattern_at
    it = iter(argv)
    for a in it:
        if a == "--size":
            try:
                size = tuple(int(v) for v in next(it).split("x"))
            except (StopIteration, ValueError):
                print("check-screenshot: --size needs WxH", file=sys.stderr)
                return 2
        elif a == "--tolerance":
            tol = int(next(it, "8"))
        elif a == "--pattern":
            name = next(it, "")
            if name not in PATTERNS:
                print(f"check-screenshot: --pattern is one of {', '.join(PATTERNS)}", file=sys.stderr)
                return 2
            pat = PATTERNS[name]
        elif a == "--self-test":
            return self_test()
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    if len(args) != 1:
        print("usage: check-screenshot.py IMAGE [--size WxH] [--tolerance N] "
              "[--pattern quadrants|bars]", file=sys.stderr)
        return 2
    rc, line = check(args[0], size, tol, pat)
    print(line)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
