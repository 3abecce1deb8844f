#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Replays what libvirt's ch driver does to run a domain on Cloud Hypervisor
(src/ch/ch_monitor.c, ch_process.c), with phyllome-vmm called by that name:

  cloud-hypervisor --version; the API socket bound by us and passed as
  --api-socket fd=N; the event monitor on a FIFO; vm.create with libvirt's
  body (serial and console on ptys, a read-only disk); vm.add-net on a raw
  socket with the tap's descriptor by SCM_RIGHTS, answered within 500 ms;
  vm.boot with an empty body; the vCPU threads by /proc/PID/task/*/comm;
  the pty from vm.info's config.serial.file, a command typed into the
  guest's shell there and its answer read back; ping over the passed tap;
  pause and resume; vm.shutdown (the VMM stays), vm.boot again, a command
  on the new pty; vmm.shutdown (the VMM exits 0). Then the same VM from a
  --config file made of vm.info's config. The event monitor's lines are
  checked at each step.

Prints one line a step and "libvirt-sequence: ok" at the end, or
"libvirt-sequence: FAIL: why" and exits 1.
Usage: libvirt-sequence.py VMM KERNEL INITRD WORKDIR
"""
import fcntl
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
import tty

VMM, KERNEL, INITRD, WORK = sys.argv[1:5]
TAP = "phylv%d" % (os.getpid() % 10000)
HOST_IP, GUEST_IP = "192.168.123.1", "192.168.123.2"
BOOT_TIMEOUT = 300


class Fail(Exception):
    pass


def step(msg):
    print("  " + msg, flush=True)


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- the API, as libvirt's curl calls it over the Unix socket ----

def http(method, endpoint, body=None, fds=None, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.path.join(WORK, "api.sock"))
    data = b"" if body is None else json.dumps(body).encode()
    head = ("%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (method, endpoint, len(data))).encode()
    if fds:
        socket.send_fds(s, [head + data], fds)
    else:
        s.sendall(head + data)
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = s.recv(65536)
        check(chunk, "%s: connection closed without an answer" % endpoint)
        resp += chunk
    head, _, rest = resp.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head, re.I)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        rest += s.recv(65536)
    s.close()
    status = int(head.split()[1])
    check(re.match(rb"HTTP/1\.[01] ", head), "%s: not HTTP/1.x: %r" % (endpoint, head[:20]))
    return status, rest.decode(errors="replace")


def put(endpoint, body=None, want=(200, 204), fds=None):
    status, text = http("PUT", endpoint, body, fds)
    check(status in want, "PUT %s: HTTP %d, want %s: %s" % (endpoint, status, want, text[:300]))
    return text


def info():
    status, text = http("GET", "vm.info")
    check(status == 200, "GET vm.info: HTTP %d: %s" % (status, text[:300]))
    return json.loads(text)


# ---- the event monitor: a FIFO read by a thread ----

events = []
events_lock = threading.Lock()


def read_events(path):
    with open(path, "rb") as f:  # blocks until the VMM opens it
        buf = b""
        while True:
            chunk = f.read1(4096) if hasattr(f, "read1") else f.read(4096)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    ev = json.loads(line)
                    with events_lock:
                        events.append("%s:%s" % (ev["source"], ev["event"]))


def wait_event(name, after, timeout=60):
    """Index of the first `name` event at or after index `after`."""
    end = time.time() + timeout
    while time.time() < end:
        with events_lock:
            for i in range(after, len(events)):
                if events[i] == name:
                    return i + 1
        time.sleep(0.05)
    raise Fail("no %s event after #%d (events: %s)" % (name, after, " ".join(events)))


# ---- the guest's shell on a pty ----

def pty_open(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def pty_expect(fd, pattern, timeout, seen=b""):
    end = time.time() + timeout
    buf = seen
    while time.time() < end:
        if re.search(pattern, buf):
            return buf
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                time.sleep(0.2)
    raise Fail("no %r on the pty in %d s; last: %r" % (pattern, timeout, buf[-300:]))


def shell_command(fd, cmd, answer, timeout=60):
    os.write(fd, cmd.encode() + b"\n")
    return pty_expect(fd, answer, timeout)


# ---- a tap, opened as libvirt opens it ----

def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
    TUNSETIFF = 0x400454CA
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    subprocess.run(["ip", "addr", "add", HOST_IP + "/24", "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    return fd


def vmm_fds(pid, want=None):
    """The VMM's open descriptors; with `want`, once they settle there
    (the server closes a connection when it sees the client hang up)."""
    n = len(os.listdir("/proc/%d/fd" % pid))
    for _ in range(100):
        if want is None or n == want:
            break
        time.sleep(0.02)
        n = len(os.listdir("/proc/%d/fd" % pid))
    return n


def main():
    os.makedirs(WORK, exist_ok=True)
    ch = os.path.join(WORK, "cloud-hypervisor")
    if os.path.lexists(ch):
        os.unlink(ch)
    os.symlink(os.path.abspath(VMM), ch)

    out = subprocess.run([ch, "--version"], capture_output=True, text=True).stdout
    check(re.match(r"cloud-hypervisor v\d+\.\d+\.\d+", out), "--version: %r" % out)
    step("version: " + out.strip())

    disk = os.path.join(WORK, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(4 << 20)
    tap_fd = open_tap(TAP)

    # libvirt: unlink, bind, listen(1); the FIFO; then the VMM, with the
    # socket inherited.
    sock_path = os.path.join(WORK, "api.sock")
    fifo = os.path.join(WORK, "events.fifo")
    for p in (sock_path, fifo):
        if os.path.exists(p):
            os.unlink(p)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(1)
    os.mkfifo(fifo, 0o600)
    log = open(os.path.join(WORK, "vmm.log"), "wb")
    proc = subprocess.Popen([ch, "--api-socket", "fd=%d" % lsock.fileno(),
                             "--event-monitor", "path=" + fifo],
                            pass_fds=(lsock.fileno(),), stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)
    lsock.close()
    reader = threading.Thread(target=read_events, args=(fifo,), daemon=True)
    reader.start()
    try:
        run(proc, disk, tap_fd)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        os.close(tap_fd)
    config_file_boot()


def run(proc, disk, tap_fd):
    ev = wait_event("vmm:starting", 0)
    cmdline = "console=ttyS0 quiet phyllome.action=shell"
    # virCHMonitorBuildVMJson's members, in its order.
    put("vm.create", {
        "serial": {"mode": "Pty"},
        "console": {"mode": "Pty"},
        "cpus": {"boot_vcpus": 1, "max_vcpus": 1},
        "memory": {"size": 512 << 20},
        "payload": {"kernel": KERNEL, "cmdline": cmdline, "initramfs": INITRD},
        "disks": [{"path": disk, "readonly": True}],
    })
    step("vm.create: 204")
    before = vmm_fds(proc.pid)
    time.sleep(0.2)
    before = vmm_fds(proc.pid)
    t0 = time.time()
    put("vm.add-net", {"id": "_net_0", "mac": "52:54:00:6c:76:01", "num_queues": 2},
        fds=[tap_fd])
    took = time.time() - t0
    check(took < 0.5, "vm.add-net took %.3f s (libvirt waits 500 ms)" % took)
    step("vm.add-net with the tap's descriptor: answered in %.0f ms" % (took * 1000))
    # The received copy is closed; the configuration keeps one duplicate.
    check(vmm_fds(proc.pid, before + 1) == before + 1,
          "descriptors: %d before vm.add-net, %d after" % (before, vmm_fds(proc.pid)))
    status, text = http("PUT", "vm.add-net", {"id": "x"}, fds=[tap_fd, tap_fd])
    check(status == 400 and vmm_fds(proc.pid, before + 1) == before + 1,
          "two descriptors of one queue: HTTP %d %s, %d fds" % (status, text, vmm_fds(proc.pid)))
    status, text = http("PUT", "vm.pause", fds=[tap_fd])
    check(status in (404, 405) and vmm_fds(proc.pid, before + 1) == before + 1,
          "vm.pause with a descriptor: HTTP %d, %d fds" % (status, vmm_fds(proc.pid)))

    put("vm.boot")
    ev = wait_event("vm:booted", ev)
    step("vm.boot: booting, booted")
    comms = []
    for tid in os.listdir("/proc/%d/task" % proc.pid):
        with open("/proc/%d/task/%s/comm" % (proc.pid, tid)) as f:
            comms.append(f.read().strip())
    check("vcpu0" in comms, "no vcpu0 thread: %s" % comms)
    step("threads: " + " ".join(sorted(comms)))

    pty = boot_shell(1)
    out = shell_command(pty, "ip addr add %s/24 dev eth0; ip link set eth0 up; echo net-$((40+2))"
                        % GUEST_IP, rb"net-42")
    ok = False
    for _ in range(20):
        if subprocess.run(["busybox", "ping", "-c", "1", "-W", "2", GUEST_IP],
                          stdout=subprocess.DEVNULL).returncode == 0:
            ok = True
            break
        time.sleep(1)
    check(ok, "no ping answer from %s over the passed tap" % GUEST_IP)
    step("ping over the passed tap: answered")

    put("vm.pause")
    ev = wait_event("vm:paused", ev)
    check(info()["state"] == "Paused", "state after vm.pause")
    put("vm.resume")
    ev = wait_event("vm:resumed", ev)
    shell_command(pty, "echo resumed-$((1+1))", rb"resumed-2")
    step("vm.pause, vm.resume: the shell answers again")
    os.close(pty)

    put("vm.shutdown")
    ev = wait_event("vm:shutdown", ev)
    time.sleep(0.5)
    check(proc.poll() is None, "the VMM exited on vm.shutdown")
    check(info()["state"] == "Created", "state after vm.shutdown")
    step("vm.shutdown: the VMM stays, the VM is Created")
    put("vm.boot")
    ev = wait_event("vm:booted", ev)
    pty = boot_shell(2)
    os.close(pty)

    put("vmm.shutdown")
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        raise Fail("the VMM did not exit after vmm.shutdown")
    check(rc == 0, "exit status %d after vmm.shutdown" % rc)
    ev = wait_event("vmm:shutdown", ev, timeout=5)
    with events_lock:
        step("vmm.shutdown: exit 0; events: " + " ".join(events))
    global saved_config
    check(saved_config is not None, "no vm.info config kept")


saved_config = None


def boot_shell(n):
    """The serial pty from vm.info; the guest's shell on it answers."""
    global saved_config
    vi = info()
    check(vi["state"] == "Running", "state %s after vm.boot" % vi["state"])
    path = vi["config"]["serial"]["file"]
    check(path and path.startswith("/dev/pts/"), "serial.file is %r" % path)
    console = vi["config"]["console"]
    check(console["mode"] == "Pty" and (console["file"] or "").startswith("/dev/pts/"),
          "console: %r" % console)
    saved_config = vi["config"]
    fd = pty_open(path)
    # What the guest printed before anyone read the pty waited for us.
    pty_expect(fd, rb"PHYLLOME-GUEST: init started", BOOT_TIMEOUT)
    pty_expect(fd, rb"PHYLLOME-GUEST: shell", BOOT_TIMEOUT)
    shell_command(fd, "echo lv-$((6*7))-%d" % n, ("lv-42-%d" % n).encode())
    step("boot %d: %s from vm.info, the guest's shell answered" % (n, path))
    return fd


def config_file_boot():
    """The same VM from a --config file: vm.info's config, with the serial
    in a file, no NIC (its tap was ours) and a guest that powers off."""
    cfg = dict(saved_config)
    cfg["net"] = None
    log = os.path.join(WORK, "config-serial.log")
    cfg["serial"] = {"mode": "File", "file": log}
    cfg["console"] = {"mode": "Off"}
    cfg["payload"] = dict(cfg["payload"], cmdline="console=ttyS0 quiet")
    path = os.path.join(WORK, "vm.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([VMM, "--config", path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=BOOT_TIMEOUT + 60)
    text = open(log, "rb").read() if os.path.exists(log) else b""
    check(r.returncode == 0 and b"PHYLLOME-GUEST: powering off" in text,
          "--config: exit %d, %s / %r" % (r.returncode, r.stderr[-300:], text[-300:]))
    step("--config vm.json: booted, powered off, exit 0")


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("libvirt-sequence: FAIL: %s" % e, flush=True)
        sys.exit(1)
    print("libvirt-sequence: ok", flush=True)
