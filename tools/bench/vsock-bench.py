#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The host's end of the vsock benchmark (the vsock-bench case of
tests/e2e/guestdev-suite.sh, tools/bench/run-vsock-bench), run in L1.

vsock-bench.py (--socket PATH | --cid CID) --pid PID [--bytes N] [--connects N]

Reaches the guest's listeners (the vsockbench step of
tests/e2e/guestdev-guest/etc/phyllome.d/guestdev.sh, Debian's socat) either
through phyllome-vmm's hybrid vsock (--socket: a Unix socket, "CONNECT
<port>\\n" answered "OK <hostport>\\n") or through the kernel's vhost-vsock
(--cid: AF_VSOCK, QEMU's vhost-vsock-pci), and times, on this side:
  h2g      N bytes to guest port 1240 (socat to /dev/null), from before the
           connection to the guest's close after our SHUT_WR: every byte read
  g2h      N bytes from guest port 1241 (socat from /dev/zero, readbytes=N),
           from before the connection to the last byte, counted
  connect  N connections to guest port 1242 (socat fork, PIPE: an echo),
           each sending 1 byte and reading it back, then closed
then connects to port 1249, which tells the guest to stop. PID is the VMM's
process: its CPU time over each phase (all threads, plus vhost's kernel
thread "vhost-PID" for QEMU; and the vCPU threads' part). Prints one line:
  vsock-bench h2g_mibs=X g2h_mibs=Y connects_per_s=Z h2g_s=.. g2h_s=..
  connect_s=.. {h2g,g2h,connect}_cpu_s=.. {h2g,g2h,connect}_vcpu_s=..
exit 0, or a line saying what failed and exit 1.
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_sample  # noqa: E402

CHUNK = 1 << 20
MIB = 1 << 20


class Peer:
    """Opens stream connections to a guest port, by either transport."""

    def __init__(self, args):
        self.path, self.cid = args.socket, args.cid

    def connect(self, port, timeout=120):
        """A connected socket and any bytes that came after the OK line."""
        if self.cid is not None:
            s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect((self.cid, port))
            return s, b""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        s.sendall(b"CONNECT %d\n" % port)
        got = b""
        while b"\n" not in got:
            b = s.recv(4096)
            if not b:
                s.close()
                raise ConnectionError(f"port {port}: closed before OK "
                                      f"({got[:40]!r})")
            got += b
        line, rest = got.split(b"\n", 1)
        if not line.startswith(b"OK "):
            s.close()
            raise ConnectionError(f"port {port}: answered {line[:40]!r}")
        return s, rest


def vhost_threads(pid):
    """The kernel's vhost worker threads for process pid ("vhost-PID")."""
    name = f"vhost-{pid}\n"
    found = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read() == name:
                    found.append(int(d))
        except OSError:
            continue
    return found


class Cpu:
    """The VMM's CPU time over one phase."""

    def __init__(self, pid):
        self.pid = pid
        self.vhost = vhost_threads(pid)

    def sample(self):
        return cpu_sample(self.pid, self.vhost)

    @staticmethod
    def spent(a, b):
        if a is None or b is None:
            return None, None
        vcpu = (b[1] - a[1]) / 1e9 if a[1] is not None and b[1] is not None else None
        return (b[0] - a[0]) / 1e9, vcpu


def first_connect(peer, port, tries=30):
    """The first connection: the guest's listener may still be starting."""
    for i in range(tries):
        try:
            return peer.connect(port)
        except (ConnectionError, OSError):
            if i == tries - 1:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def h2g(peer, n):
    buf = memoryview(bytes(CHUNK))
    s, rest = first_connect(peer, 1240)
    if rest:
        raise ConnectionError(f"h2g: {len(rest)} unexpected bytes")
    t0 = time.monotonic()
    left = n
    while left:
        k = min(left, CHUNK)
        s.sendall(buf[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    extra = 0
    while True:
        b = s.recv(4096)
        if not b:
            break
        extra += len(b)
    t1 = time.monotonic()
    s.close()
    if extra:
        raise ConnectionError(f"h2g: the guest sent {extra} bytes back")
    return t1 - t0


def g2h(peer, n):
    buf = bytearray(CHUNK)
    t0 = time.monotonic()
    s, rest = peer.connect(1241)
    got = len(rest)
    while True:
        k = s.recv_into(buf)
        if not k:
            break
        got += k
    t1 = time.monotonic()
    s.close()
    if got != n:
        raise ConnectionError(f"g2h: got {got} bytes, not {n}")
    return t1 - t0


def connects(peer, n):
    t0 = time.monotonic()
    for i in range(n):
        s, rest = peer.connect(1242, timeout=30)
        s.sendall(b"x")
        while not rest:
            rest = s.recv(1)
            if not rest:
                raise ConnectionError(f"connect {i}: closed without the echo")
        if rest != b"x":
            raise ConnectionError(f"connect {i}: echoed {rest!r}")
        s.close()
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--socket", help="phyllome-vmm's --vsock socket")
    how.add_argument("--cid", type=int, help="the guest's CID (vhost-vsock)")
    ap.add_argument("--pid", type=int, required=True, help="the VMM's pid")
    ap.add_argument("--bytes", type=int, default=256 * MIB)
    ap.add_argument("--connects", type=int, default=1000)
    args = ap.parse_args()
    peer = Peer(args)
    cpu = Cpu(args.pid)
    out = {}
    try:
        for name, run, arg in (("h2g", h2g, args.bytes),
                               ("g2h", g2h, args.bytes),
                               ("connect", connects, args.connects)):
            a = cpu.sample()
            out[f"{name}_s"] = run(peer, arg)
            total, vcpu = Cpu.spent(a, cpu.sample())
            out[f"{name}_cpu_s"], out[f"{name}_vcpu_s"] = total, vcpu
        s, _ = peer.connect(1249, timeout=30)
        s.close()
    except (OSError, ConnectionError) as e:
        print(f"vsock-bench: failed after {sorted(out)}: {e}", flush=True)
        return 1
    out["h2g_mibs"] = args.bytes / MIB / out["h2g_s"]
    out["g2h_mibs"] = args.bytes / MIB / out["g2h_s"]
    out["connects_per_s"] = args.connects / out["connect_s"]
    fmt = {k: ("-" if v is None else f"{v:.2f}") for k, v in out.items()}
    keys = ["h2g_mibs", "g2h_mibs", "connects_per_s", "h2g_s", "g2h_s",
            "connect_s"] + [f"{p}_{c}" for p in ("h2g", "g2h", "connect")
                            for c in ("cpu_s", "vcpu_s")]
    print("vsock-bench " + " ".join(f"{k}={fmt[k]}" for k in keys), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
