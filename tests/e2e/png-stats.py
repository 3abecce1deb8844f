#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints "WxH COLOURS LIT" for a screenshot: its size, how many distinct
colours it has and the share of pixels that are not black, in percent.
Decodes with check-screenshot.py's reader (PNG or PPM).

Usage: png-stats.py IMAGE"""
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "check_screenshot",
    os.path.join(_here, "..", "gpu-guest-prog", "check-screenshot.py"))
_cs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cs)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        w, h, bpp, rows = _cs.read_image(argv[1])
    except (OSError, ValueError) as e:
        print(f"bad: {e}")
        return 2
    colours, lit = set(), 0
    for y in range(h):
        for x in range(w):
            p = _cs.pixel(rows, bpp, x, y)
            colours.add(p)
            lit += p != (0, 0, 0)
    print(f"{w}x{h} {len(colours)} {100 * lit // max(1, w * h)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
