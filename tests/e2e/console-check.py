#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The guest's two consoles from the host, as a user attaches to them.

Boots the default guest with --serial pty and --console socket=PATH
(phyllome.action=consoles: a shell on ttyS0 and one on hvc0), learns both
paths from the lines the CLI prints on stderr, and checks: the boot output
on the pty (what the guest printed before anyone attached included), a
command typed on each console answered on the same console, a guest
reboot that the pty and the socket's client both live through (the back
ends belong to the VM, the devices to each machine), poweroff with exit
status 0 and the socket's file removed.

Usage: console-check.py VMM KERNEL INITRD LOG_PREFIX
Exit 0 when everything held; otherwise one line on stdout saying what did
not. LOG_PREFIX.err, .pty and .hvc keep the VMM's stderr and what each
console showed.
"""
import os
import re
import select
import socket
import subprocess
import sys
import time

vmm, kernel, initrd, prefix = sys.argv[1:5]
sock_path = "/tmp/phy-e2e-console.%d.sock" % os.getpid()


class Console:
    """One end the test reads and writes, with everything it showed."""

    def __init__(self, name, fd):
        self.name, self.fd, self.seen = name, fd, b""
        self.log = open("%s.%s" % (prefix, name), "wb")

    def expect(self, pattern, seconds, start=0):
        """Waits for pattern (bytes regex) in what came after `start`."""
        end = time.monotonic() + seconds
        while not re.search(pattern, self.seen[start:]):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                fail("%s: no %r within %d s (last: %r)"
                     % (self.name, pattern, seconds, self.seen[-200:]))
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                fail("%s: closed while waiting for %r" % (self.name, pattern))
            self.seen += data
            self.log.write(data)
            self.log.flush()

    def type(self, line):
        os.write(self.fd, line.encode() + b"\n")


def fail(why):
    print(why)
    if proc.poll() is None:
        proc.kill()
    sys.exit(1)


err = open(prefix + ".err", "wb")
proc = subprocess.Popen(
    [vmm, "--kernel", kernel, "--initramfs", initrd, "--memory", "size=256M",
     "--serial", "pty", "--console", "socket=" + sock_path,
     "--cmdline", "console=ttyS0 console=hvc0 quiet phyllome.action=consoles"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)

paths = {}
for _ in range(100):
    text = open(prefix + ".err").read()
    paths = dict(re.findall(r"^(serial|console): (?:pty|socket) (\S+)$", text, re.M))
    if len(paths) == 2 or proc.poll() is not None:
        break
    time.sleep(0.1)
if len(paths) != 2:
    fail("no 'serial: pty' and 'console: socket' lines on stderr: %r" % text)
if paths["console"] != sock_path or not paths["serial"].startswith("/dev/pts/"):
    fail("unexpected paths %r" % paths)

pty = Console("pty", os.open(paths["serial"], os.O_RDWR | os.O_NOCTTY))
pty.expect(rb"PHYLLOME-GUEST: shells on ttyS0 and hvc0", 200)
pty.expect(rb"PHYLLOME-GUEST: init started", 1)
# The socket's client comes late: what hvc0 printed meanwhile waited.
time.sleep(2)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
hvc = Console("hvc", s.fileno())
hvc.expect(rb"PHYLLOME-GUEST: hvc0 shell", 30)

pty.type("echo ser-$((6*7))")
pty.expect(rb"ser-42", 30)
hvc.type("echo hvc-$((7*6))")
hvc.expect(rb"hvc-42", 30)
# What hvc0's shell sees is not the serial port's.
pty.type("echo ser-done")
pty.expect(rb"ser-done", 30)
if b"ser-done" in hvc.seen or b"hvc-42" in pty.seen:
    fail("the consoles' outputs mixed")

# A guest reboot rebuilds the devices; the pty and the client stay.
mark, pmark = len(hvc.seen), len(pty.seen)
pty.type("reboot -f")
pty.expect(rb"PHYLLOME-GUEST: init started", 200, start=pmark)
hvc.expect(rb"PHYLLOME-GUEST: hvc0 shell", 200, start=mark)
hvc.type("echo again-$((6*7))")
hvc.expect(rb"again-42", 30)
pty.expect(rb"PHYLLOME-GUEST: shells on ttyS0 and hvc0", 60, start=pmark)
pty.type("poweroff -f")
try:
    rc = proc.wait(120)
except subprocess.TimeoutExpired:
    fail("the VMM did not exit after poweroff")
if rc != 0:
    fail("exit status %d after poweroff, want 0" % rc)
if os.path.exists(sock_path):
    fail("%s is still there after the VMM exited" % sock_path)
print("serial pty %s and console socket: both shells answered, across a reboot"
      % paths["serial"])
