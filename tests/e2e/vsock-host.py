#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The host's end of e2e.guestdev's vsock case.

vsock-host.py SOCKET SERIAL_LOG BYTES CONNS: listens on SOCKET_5000 for the
guest's CONNS connections (each read to its end, answered "GOT <bytes>
<crc32>"), waits for the guest's "vsock listening" line, then opens CONNS
connections at once through SOCKET ("CONNECT 1234" / "OK <port>"), sends
BYTES on each and checks the guest's answers. Prints one line per check;
exit 0 when every byte arrived on both sides with matching CRCs.
"""
import socket
import sys
import threading
import time
import zlib

path, serial, total, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
failures = []
lock = threading.Lock()


def fail(msg):
    with lock:
        failures.append(msg)
    print("host: " + msg, flush=True)


def pattern(off, n):
    return bytes(((off + i) * 13 + 1) & 0xff for i in range(n))


CHUNK = pattern(0, 256 * 65536 // 256)[:65536]  # period 256: any offset of 256 matches


def from_guest(c):
    n, crc = 0, 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
        crc = zlib.crc32(b, crc)
    c.sendall(b"GOT %d %08x\n" % (n, crc))
    c.close()
    print("host: got %d bytes %08x from the guest" % (n, crc), flush=True)


def serve_guest(ls):
    threads = []
    for _ in range(conns):
        c, _ = ls.accept()
        t = threading.Thread(target=from_guest, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def to_guest(i):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"CONNECT 1234\n")
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            return fail("connection %d: closed before OK (%r)" % (i, line))
        line += b
    if not line.startswith(b"OK "):
        return fail("connection %d: %r instead of OK <port>" % (i, line))
    sent, crc = 0, 0
    while sent < total:
        k = min(len(CHUNK), total - sent)
        s.sendall(CHUNK[:k])
        crc = zlib.crc32(CHUNK[:k], crc)
        sent += k
    s.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        b = s.recv(256)
        if not b:
            break
        answer += b
    want = b"GOT %d %08x\n" % (sent, crc)
    if answer != want:
        return fail("connection %d (%s): the guest answered %r, want %r" % (i, line.strip(), answer, want))
    print("host: connection %d (%s): %d bytes, crc %08x, answered alike" % (i, line.strip().decode(), sent, crc), flush=True)


ls = socket.socket(socket.AF_UNIX)
ls.bind(path + "_5000")
ls.listen(conns)
guest_side = threading.Thread(target=serve_guest, args=(ls,), daemon=True)
guest_side.start()
def serial_text():
    """The guest's serial log so far; empty until the VMM has made it (the
    suite starts this script beside the VMM, and a slow VMM, such as the
    sanitized one, may not have opened its --serial file yet)."""
    try:
        with open(serial, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


deadline = time.time() + 300
while b"vsock listening" not in serial_text():
    if time.time() > deadline:
        fail("the guest never listened")
        sys.exit(1)
    time.sleep(0.2)
threads = [threading.Thread(target=to_guest, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
guest_side.join(timeout=600)
if guest_side.is_alive():
    fail("the guest's connections did not all end")
sys.exit(1 if failures else 0)
