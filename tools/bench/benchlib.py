# SPDX-License-Identifier: Apache-2.0
"""What the VM benchmarks blk-bench.py, gpu-bench.py and net-bench.py share:
the VMM command lines and their start, the guest's serial console, the
VMM's CPU time from /proc, its API socket's counters, their common options,
the rounds and the report's common parts. The scripts import it from their
own directory."""
import argparse
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# A second phyllome-vmm build (--vmm-b) in the same run: an A/B of a change.
VMM_B = "phyllome-vmm-b"
VCPU_THREAD = re.compile(r"^(vcpu\d+|CPU \d+/KVM)$")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(cmd, check=True):
    """Runs cmd; its output (stderr included). With check, a failure raises
    RuntimeError with the last line it wrote."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if check and r.returncode:
        tail = (r.stdout.strip().splitlines() or [""])[-1]
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {tail}")
    return r.stdout


def last_line(path):
    """The last non-empty line of a file (a VMM's stderr), or ""."""
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""


# ---------------------------------------------------------------- CPU
def stat_ns(path):
    """utime + stime of a /proc/PID/stat (all threads ever, for a process),
    in ns."""
    with open(path) as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) * 1e9 / CLK_TCK


def cpu_sample(pid, vhost=()):
    """(process CPU ns, all threads ever, plus the threads in vhost (other
    processes' ids: vhost-net's kernel threads); vCPU threads' CPU ns, None
    when no thread has a vCPU thread's name; vhost's CPU ns), or None."""
    try:
        total = stat_ns(f"/proc/{pid}/stat")
    except (OSError, ValueError, IndexError):
        return None
    vh = 0.0
    for t in vhost:
        try:
            vh += stat_ns(f"/proc/{t}/stat")
        except (OSError, ValueError, IndexError):
            pass
    vcpu = None
    for tid in vcpu_tids(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                vcpu = (vcpu or 0) + int(f.read().split()[0])
        except (OSError, ValueError):
            pass
    return total + vh, vcpu, vh


def vcpu_tids(pid, vcpus=True):
    """The thread ids of process pid's vCPU threads (by name, VCPU_THREAD),
    or with vcpus=False of all its other threads."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if bool(VCPU_THREAD.match(f.read().strip())) == vcpus:
                    out.append(int(tid))
        except (OSError, ValueError):
            pass
    return out


def pin_threads(pid, cpus, vcpus=True):
    """Pins the vCPU threads of process pid (with vcpus=False: all its
    other threads) to the host CPUs in cpus; returns how many it pinned."""
    n = 0
    for tid in vcpu_tids(pid, vcpus):
        try:
            os.sched_setaffinity(tid, cpus)
            n += 1
        except OSError:
            pass
    return n


# ---------------------------------------------------------------- VMMs
def phyllome_command(name, args, cmdline, devices, api_sock=None):
    """phyllome-vmm (--vmm, or --vmm-b for VMM_B) booting args.kernel and
    args.initrd with 1 vCPU and args.memory, DEVICES its device options,
    the serial console on stdout."""
    binary = args.vmm_b if name == VMM_B else args.vmm
    cmd = [binary, "--kernel", args.kernel, "--initramfs", args.initrd,
           "--cmdline", cmdline, "--memory", f"size={args.memory}",
           "--cpus", "boot=1", *devices, "--serial", "tty"]
    if api_sock:
        cmd += ["--api-socket", f"path={api_sock}"]
    return cmd


def qemu_command(name, args, machine, cmdline, devices,
                 display=("-nographic",)):
    """QEMU (--qemu) -M MACHINE booting the same as phyllome_command, with
    DEVICES; DISPLAY the options in place of -nographic for one that needs
    a display."""
    # Guest RAM as both VMMs have it by default: private memory, on
    # transparent huge pages where the host allows them (phyllome-vmm
    # advises them, thp=on; the rig's L1 has THP "always").
    # debug-threads=on names the vCPU threads "CPU N/KVM".
    return [args.qemu, "-M", machine, "-enable-kvm", "-cpu", "host",
            "-name", f"{name},debug-threads=on",
            "-m", args.memory, "-smp", "1", "-nodefaults", "-no-user-config",
            *display, "-serial", "stdio", "-no-reboot",
            "-kernel", args.kernel, "-initrd", args.initrd, "-append", cmdline,
            *devices]


def start_vmm(cmd, err_path, env=None):
    """Starts a VMM: stdin /dev/null, stdout (the guest's serial console) a
    pipe, stderr into err_path, ENV added to the environment. Returns
    (the process, None) or (None, "cannot start: why")."""
    with open(err_path, "wb") as err:
        try:
            return subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err, env={**os.environ, **env} if env else None), None
        except OSError as e:
            return None, f"cannot start: {e}"


class Lines:
    """The guest's serial output, split into lines as it arrives."""

    def __init__(self):
        self.buf = b""
        self.last = ""  # the last line that was not empty, cut at 160

    def feed(self, chunk):
        """The lines CHUNK completes, stripped."""
        self.buf += chunk
        *raw, self.buf = self.buf.split(b"\n")
        lines = [r.decode(errors="replace").strip("\r\n ") for r in raw]
        self.last = next((l[:160] for l in reversed(lines) if l), self.last)
        return lines


def marked(line, mark):
    """What follows MARK in a console line, or None."""
    i = line.find(mark)
    return None if i < 0 else line[i + len(mark):]


def watch_console(p, log_path, timeout, res, err_path, on_line):
    """Reads the guest's serial console (p's stdout) into log_path until it
    ends, calling on_line(line, host time) for each line; on_line returns
    True when the guest says it is done (it powers off then: 30 s more at
    the most). After TIMEOUT s p is killed and, unless the guest was done,
    res["error"] says so. Reaps p. Where the guest did not finish, sets
    res["error"] unless set: the VMM's exit with the last line of err_path
    (its stderr) or else the last guest line. Returns whether it finished."""
    con = Lines()
    deadline = time.monotonic() + timeout
    done = False
    with open(log_path, "wb") as log:
        while True:
            left = deadline - time.monotonic()
            if done:
                left = min(left, 30)  # the guest powers off; don't wait long
            if left <= 0:
                if not done:
                    res["error"] = (f"timeout after {timeout:.0f} s (last "
                                    f"guest line: {con.last!r})")
                p.kill()
                break
            r, _, _ = select.select([p.stdout], [], [], min(left, 1.0))
            if not r:
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            log.write(chunk)
            for line in con.feed(chunk):
                if on_line(line, time.monotonic()):
                    done = True
        try:
            _, status, _ = os.wait4(p.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = None
    if not done and not res["error"]:
        why = last_line(err_path) or f"last guest line: {con.last!r}"
        res["error"] = f"exit {code} before the guest finished: {why}"
    elif (res["error"] and res["error"].startswith("timeout")
          and last_line(err_path)):
        res["error"] += f"; stderr: {last_line(err_path)}"
    return done


def vm_counters(sock, timeout=2):
    """GET vm.counters from phyllome-vmm's API socket: the parsed object, or
    None. TIMEOUT s for each step."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(timeout)
            c.connect(sock)
            c.sendall(b"GET /api/v1/vm.counters HTTP/1.1\r\nHost: localhost\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return None
        return json.loads(body)
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- options
def arg_parser(doc, vmm_b=True):
    """The scripts' parser with the options they all take first: --vmm,
    --vmm-b (where vmm_b), --qemu, --kernel and --initrd."""
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", default="build/phyllome-vmm")
    if vmm_b:
        ap.add_argument("--vmm-b", default="",
                        help=f"a second phyllome-vmm build, run as {VMM_B}")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    return ap


def vmm_list(ap, args, known):
    """--vmms as a list, VMM_B added where --vmm-b is given; an unknown name
    is a usage error."""
    vmm_b = getattr(args, "vmm_b", "")
    vmms = [v for v in args.vmms.split(",") if v]
    if vmm_b and VMM_B not in vmms:
        vmms.append(VMM_B)
    for v in vmms:
        if v not in known + ([VMM_B] if vmm_b else []):
            ap.error(f"--vmms: unknown '{v}' (known: {', '.join(known)})")
    return vmms


def need_files(ap, *paths):
    for path in paths:
        if not os.path.isfile(path):
            ap.error(f"'{path}' is not a file")


def need_tools(ap, *tools):
    for tool in tools:
        if shutil.which(tool) is None:
            ap.error(f"{tool} not found")


def make_log_dir(args, prog):
    """--log-dir, made, or a new temporary directory."""
    d = args.log_dir or tempfile.mkdtemp(prefix=f"{prog}-logs.")
    os.makedirs(d, exist_ok=True)
    return d


# ---------------------------------------------------------------- rounds
def rotating(entries, n):
    """(round, entry) for N rounds, the order of entries rotating."""
    for rnd in range(n):
        k = rnd % len(entries)
        for e in entries[k:] + entries[:k]:
            yield rnd, e


def note_failures(failures, name, r, rnd):
    """A run's error and job errors into failures (what -> rounds)."""
    if r["error"]:
        failures.setdefault(f"{name}: failed: {r['error']}", []).append(rnd + 1)
    for jn, why in r["job_errors"].items():
        failures.setdefault(f"{name}: {jn} failed: {why}", []).append(rnd + 1)


def write_runs(log_dir, args, runs):
    with open(os.path.join(log_dir, "runs.json"), "w") as f:
        json.dump({"args": vars(args), "runs": runs}, f, indent=1, default=str)


# ---------------------------------------------------------------- report
def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def md_row(cells):
    print("| " + " | ".join(cells) + " |")


def md_head(cells):
    md_row(cells)
    print("|" + "---|" * len(cells))


def print_failed(name, runs):
    """The report's line for a VMM without results: its first error."""
    why = next((r["error"] for r in runs if r["error"]), "no results")
    print(f"**{name}: failed: {why}**\n")


def finish_report(failures, log_dir):
    """The report's list of failures; the exit status."""
    if failures:
        print("\nFailures:\n" + "\n".join(
            f"- {f} (round{'s' if len(r) > 1 else ''} {', '.join(map(str, r))})"
            for f, r in failures.items()))
    print(f"\nLogs of each run: {log_dir}", file=sys.stderr)
    return 1 if failures else 0
