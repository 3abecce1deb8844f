#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""L1's half of the TCP transfers in tests/e2e/net-suite.sh: listens on
the given ports (the guest connects), sends or receives on each, and
prints one line per port as it finishes:
  send PORT BYTES SHA256 SECS      (sent MIB MiB of random data, then closed)
  recv PORT BYTES SHA256 SECS      (read until the guest closed)
  error PORT WHY
then "all done" once every port has ended, or "timeout" after --timeout s.

Usage: net-xfer.py [--bind ADDR] [--timeout S] [--send PORT:MIB]...
                   [--recv PORT]...
       net-xfer.py selftest
--bind: listen on ADDR only (default: every address).
Exit status: 0 when every port ended without an error, else 1."""
import hashlib
import os
import socket
import sys
import threading
import time

CHUNK = 1 << 20


def random_chunks(mib):
    # One random MiB per chunk: os.urandom is the kernel's ChaCha20.
    for _ in range(mib):
        yield os.urandom(CHUNK)


def serve(srv, mode, mib, deadline, report):
    port = srv.getsockname()[1]
    try:
        srv.settimeout(max(1.0, deadline - time.monotonic()))
        conn, _ = srv.accept()
    except OSError as e:
        report(f"error {port} no connection: {e}")
        return False
    srv.close()
    h = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    try:
        with conn:
            conn.settimeout(max(1.0, deadline - time.monotonic()))
            if mode == "send":
                for chunk in random_chunks(mib):
                    h.update(chunk)
                    conn.sendall(chunk)
                    n += len(chunk)
                conn.shutdown(socket.SHUT_WR)
                # Until the guest closes too, so nothing is cut off by a reset.
                while conn.recv(65536):
                    pass
            else:
                while True:
                    b = conn.recv(CHUNK)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
    except OSError as e:
        report(f"error {port} after {n} bytes: {e}")
        return False
    report(f"{mode} {port} {n} {h.hexdigest()} {time.monotonic() - t0:.1f}")
    return True


def main(argv):
    if argv[1:2] == ["selftest"]:
        return selftest()
    timeout = 600.0
    bind = ""
    jobs = []
    i = 1
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--timeout":
                timeout = float(argv[i + 1])
            elif a == "--bind":
                bind = argv[i + 1]
            elif a == "--send":
                p, m = argv[i + 1].split(":")
                jobs.append(("send", int(p), int(m)))
            elif a == "--recv":
                jobs.append(("recv", int(argv[i + 1]), 0))
            else:
                raise ValueError(a)
            i += 2
    except (IndexError, ValueError):
        print(__doc__, file=sys.stderr)
        return 2
    lock = threading.Lock()

    def report(line):
        with lock:
            print(line, flush=True)
    deadline = time.monotonic() + timeout
    results = []
    threads = []
    for mode, port, mib in jobs:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((bind, port))
        srv.listen(1)

        def run(srv=srv, mode=mode, mib=mib):
            results.append(serve(srv, mode, mib, deadline, report))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        threads.append(t)
    report("listening " + " ".join(str(p) for _, p, _ in jobs))
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        report("timeout")
        return 1
    report("all done")
    return 0 if all(results) else 1


def selftest():
    """Loopback: one send and one recv port, checked against each other."""
    import subprocess
    p = subprocess.Popen([sys.executable, __file__, "--bind", "127.0.0.1", "--timeout", "30",
                          "--send", "17002:3", "--recv", "17003"],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().startswith("listening")
    with socket.create_connection(("127.0.0.1", 17002)) as c:
        got = hashlib.sha256()
        n = 0
        while True:
            b = c.recv(65536)
            if not b:
                break
            got.update(b)
            n += len(b)
    data = os.urandom(3 * CHUNK + 5)
    with socket.create_connection(("127.0.0.1", 17003)) as c:
        c.sendall(data)
    out, _ = p.communicate(timeout=30)
    lines = out.split("\n")
    send = next(l for l in lines if l.startswith("send ")).split()
    recv = next(l for l in lines if l.startswith("recv ")).split()
    assert send[2:4] == [str(n), got.hexdigest()], (send, n)
    assert recv[2:4] == [str(len(data)), hashlib.sha256(data).hexdigest()], recv
    assert p.returncode == 0 and "all done" in lines
    print("net-xfer selftest: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
