#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The guest's two consoles from the host, as a user attaches to them.

Boot 1: the default guest with --serial pty and --console socket=PATH
(phyllome.action=consoles: a shell on ttyS0 and one on hvc0). Both paths
come from the lines the CLI prints on stderr; then: the boot output on
the pty (what the guest printed before anyone attached included), a
command typed on each console answered on the same console, a guest
reboot that the pty and the socket's client both live through (the back
ends belong to the VM, the devices to each machine), poweroff with exit
status 0 and the socket's file removed.

Boot 2: --serial socket=PATH --console tty, the VMM's stdin and stdout a
terminal (a pty of this script): what is typed there reaches hvc0's shell
(the CLI feeds the virtio console, not the serial port), and the serial
port's shell answers on the socket.

Usage: console-check.py VMM KERNEL INITRD LOG_PREFIX
Exit 0 when everything held; otherwise one line on stdout saying what did
not. LOG_PREFIX.err, .pty, .hvc (boot 1) and LOG_PREFIX.2.* (boot 2) keep
the VMM's stderr and what each console showed.
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
proc = None


class Console:
    """One end the test reads and writes, with everything it showed."""

    def __init__(self, name, fd, log=None):
        self.name, self.fd, self.seen = name, fd, b""
        self.log = open("%s.%s" % (log or prefix, name), "wb")

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
                fail("%s: closed while waiting for %r (last: %r)"
                     % (self.name, pattern, self.seen[-200:]))
            self.seen += data
            self.log.write(data)
            self.log.flush()

    def type(self, line):
        os.write(self.fd, line.encode() + b"\n")


def fail(why):
    print(why)
    if proc and proc.poll() is None:
        proc.kill()
    sys.exit(1)


def start(log, serial, console, want, tty=None):
    """Starts the VMM; returns the paths its stderr names (want of them)."""
    global proc
    err = open(log + ".err", "wb")
    out = tty if tty is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [vmm, "--kernel", kernel, "--initramfs", initrd, "--memory", "size=256M",
         "--serial", serial, "--console", console,
         "--cmdline", "console=ttyS0 console=hvc0 quiet phyllome.action=consoles"],
        stdin=out, stdout=out, stderr=err)
    paths, text = {}, ""
    for _ in range(100):
        text = open(log + ".err").read()
        paths = dict(re.findall(r"^(serial|console): (?:pty|socket) (\S+)$",
                                text, re.M))
        if len(paths) == want or proc.poll() is not None:
            break
        time.sleep(0.1)
    if len(paths) != want:
        fail("want %d 'serial:'/'console:' lines on stderr: %r" % (want, text))
    return paths


def finish(console):
    """Powers the guest off through console; the VMM must exit 0."""
    console.type("poweroff -f")
    try:
        rc = proc.wait(120)
    except subprocess.TimeoutExpired:
        fail("the VMM did not exit after poweroff")
    if rc != 0:
        fail("exit status %d after poweroff, want 0" % rc)
    if os.path.exists(sock_path):
        fail("%s is still there after the VMM exited" % sock_path)


def ask_both(a, a_word, b, b_word):
    """A command typed on each console, answered there and only there."""
    for con, word in ((a, a_word), (b, b_word)):
        con.type("echo %s-$((6*7))" % word)
        con.expect(("%s-42" % word).encode(), 30)
    if ("%s-42" % a_word).encode() in b.seen or ("%s-42" % b_word).encode() in a.seen:
        fail("the consoles' outputs mixed")


def connect(name, log):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    return Console(name, s.fileno(), log), s


paths = start(prefix, "pty", "socket=" + sock_path, 2)
if paths["console"] != sock_path or not paths["serial"].startswith("/dev/pts/"):
    fail("unexpected paths %r" % paths)

pty = Console("pty", os.open(paths["serial"], os.O_RDWR | os.O_NOCTTY))
pty.expect(rb"PHYLLOME-GUEST: shells on ttyS0 and hvc0", 200)
pty.expect(rb"PHYLLOME-GUEST: init started", 1)
# The socket's client comes late: what hvc0 printed meanwhile waited.
time.sleep(2)
hvc, keep = connect("hvc", prefix)
hvc.expect(rb"PHYLLOME-GUEST: hvc0 shell", 30)

ask_both(pty, "ser", hvc, "hvc")

# A guest reboot rebuilds the devices; the pty and the client stay.
mark, pmark = len(hvc.seen), len(pty.seen)
pty.type("reboot -f")
pty.expect(rb"PHYLLOME-GUEST: init started", 200, start=pmark)
hvc.expect(rb"PHYLLOME-GUEST: hvc0 shell", 200, start=mark)
hvc.type("echo again-$((6*7))")
hvc.expect(rb"again-42", 30)
pty.expect(rb"PHYLLOME-GUEST: shells on ttyS0 and hvc0", 60, start=pmark)
finish(pty)
keep.close()

# Boot 2: the virtio console on the VMM's terminal, the serial port on the
# socket.
master, slave = os.openpty()
start(prefix + ".2", "socket=" + sock_path, "tty", 1, tty=slave)
os.close(slave)
term = Console("tty", master, prefix + ".2")
term.expect(rb"PHYLLOME-GUEST: hvc0 shell", 200)
ser, keep = connect("serial", prefix + ".2")
ser.expect(rb"PHYLLOME-GUEST: shells on ttyS0 and hvc0", 60)
ser.expect(rb"PHYLLOME-GUEST: init started", 1)
ask_both(term, "tty", ser, "sock")
finish(ser)
print("serial pty %s and console socket: both shells answered, across a "
      "reboot; console tty and serial socket: both answered" % paths["serial"])
