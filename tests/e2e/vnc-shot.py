#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Takes one screenshot from a VNC server (QEMU's -vnc) and writes it as a
binary PPM. Why: QEMU 7.2's screendump answers "no surface" for a scanout
that virgl rendered (a GL texture), while its egl-headless display copies
such scanouts into the surface VNC serves. So the GPU tests read QEMU's
GL scanout through VNC. Only the standard library: a minimal RFB 3.8
client (no authentication, raw encoding, 32-bit true colour).

Usage: vnc-shot.py SOCKET OUT.ppm
  SOCKET: a Unix socket (QEMU -vnc unix:PATH) or HOST:PORT
Exit 0 on success (prints WxH), 2 on any failure (prints why)."""
import socket
import struct
import sys
import time


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"server closed the connection ({len(buf)} of {n} bytes)")
        buf += chunk
    return bytes(buf)


def connect(addr, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ":" in addr and not addr.startswith("/"):
                host, port = addr.rsplit(":", 1)
                s = socket.create_connection((host, int(port)))
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(addr)
            s.settimeout(60)
            return s
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def screenshot(addr):
    s = connect(addr)
    # Version handshake (RFC 6143 7.1.1), then security type None (1).
    version = recv_exact(s, 12)
    if not version.startswith(b"RFB "):
        raise ValueError(f"not an RFB server: {version!r}")
    s.sendall(b"RFB 003.008\n")
    ntypes = recv_exact(s, 1)[0]
    if ntypes == 0:
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        raise ValueError(f"server refused: {recv_exact(s, n).decode(errors='replace')}")
    types = recv_exact(s, ntypes)
    if 1 not in types:
        raise ValueError(f"server wants authentication (types {list(types)})")
    s.sendall(b"\x01")
    (result,) = struct.unpack(">I", recv_exact(s, 4))
    if result != 0:
        raise ValueError("security handshake failed")
    # ClientInit (shared), ServerInit: size, pixel format, name.
    s.sendall(b"\x01")
    w, h = struct.unpack(">HH", recv_exact(s, 4))
    recv_exact(s, 16)
    (nlen,) = struct.unpack(">I", recv_exact(s, 4))
    recv_exact(s, nlen)
    # SetPixelFormat: 32 bpp, depth 24, little endian, true colour, 8 bits
    # a channel, red at bit 16, green 8, blue 0: bytes B, G, R, X.
    s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
    # SetEncodings: raw (0) only.
    s.sendall(struct.pack(">BxHi", 2, 1, 0))
    # FramebufferUpdateRequest, not incremental: the whole screen.
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
    fb = bytearray(w * h * 3)
    covered = 0
    while covered < w * h:
        mtype = recv_exact(s, 1)[0]
        if mtype == 2:  # Bell
            continue
        if mtype == 3:  # ServerCutText
            recv_exact(s, 3)
            (n,) = struct.unpack(">I", recv_exact(s, 4))
            recv_exact(s, n)
            continue
        if mtype != 0:
            raise ValueError(f"unexpected server message type {mtype}")
        recv_exact(s, 1)
        (nrects,) = struct.unpack(">H", recv_exact(s, 2))
        for _ in range(nrects):
            x, y, rw, rh, enc = struct.unpack(">HHHHi", recv_exact(s, 12))
            if enc != 0:
                raise ValueError(f"unexpected encoding {enc}")
            data = recv_exact(s, rw * rh * 4)
            for row in range(rh):
                src = data[row * rw * 4:(row + 1) * rw * 4]
                o = ((y + row) * w + x) * 3
                # B, G, R, X -> R, G, B
                fb[o:o + rw * 3:3] = src[2::4]
                fb[o + 1:o + rw * 3:3] = src[1::4]
                fb[o + 2:o + rw * 3:3] = src[0::4]
            covered += rw * rh
        if covered < w * h:
            s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, w, h))
    s.close()
    return w, h, bytes(fb)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        w, h, fb = screenshot(argv[0])
        with open(argv[1], "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (w, h) + fb)
    except (OSError, ValueError, EOFError, struct.error) as e:
        print(f"vnc-shot.py: {e}", file=sys.stderr)
        return 2
    print(f"{w}x{h}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
