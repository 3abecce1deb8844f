#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sends one command to a QEMU QMP socket and prints its "return" as JSON:
the GPU tests run the guest side under QEMU too (to validate it against a
known-good virtio-gpu) and take QEMU's screenshot through it.

Usage: qmp.py SOCKET COMMAND [ARGUMENTS-AS-JSON]
  e.g. qmp.py /tmp/q.sock screendump '{"filename": "/x/s.png", "format": "png"}'
       qmp.py /tmp/q.sock quit
Exit 0 on success, 1 when QEMU answers with an error (printed), 2 when the
socket cannot be used. Waits up to 10 s for the socket to appear."""
import json
import os
import socket
import sys
import time


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path, command = argv[0], argv[1]
    args = json.loads(argv[2]) if len(argv) == 3 else None
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                print(f"qmp.py: cannot connect to {path}: {e}", file=sys.stderr)
                return 2
            time.sleep(0.2)
    s.settimeout(60)
    f = s.makefile("rw")

    def reply():
        """The next answer, skipping asynchronous events."""
        while True:
            line = f.readline()
            if not line:
                raise EOFError("QEMU closed the QMP connection")
            msg = json.loads(line)
            if "return" in msg or "error" in msg or "QMP" in msg:
                return msg

    try:
        reply()  # the greeting
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        f.flush()
        reply()
        req = {"execute": command}
        if args is not None:
            req["arguments"] = args
        f.write(json.dumps(req) + "\n")
        f.flush()
        msg = reply()
    except (OSError, EOFError, ValueError) as e:
        # "quit" may close the socket before its answer arrives.
        if command == "quit":
            return 0
        print(f"qmp.py: {command}: {e}", file=sys.stderr)
        return 2
    if "error" in msg:
        print(f"qmp.py: {command}: {msg['error'].get('desc', msg['error'])}", file=sys.stderr)
        return 1
    print(json.dumps(msg["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
