#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Boot benchmark: phyllome-vmm beside QEMU (-M microvm and -M q35) on the
same kernel and initramfs, in the same run, alternating VMMs each round.

Two measurements per VMM and round:
  start-up  the tiny PVH kernel first-insn.elf writes "X" as its first act:
            wall time from spawn to that byte, CPU time of the VMM process
            (all threads, from /proc/PID/task/*/schedstat, ns) and its RSS
            without guest RAM (RssAnon + RssFile; guest RAM is a memfd, i.e.
            RssShmem, for every VMM here) at that moment.
  linux     the default guest (Debian kernel + initramfs) with
            phyllome.action=poweroff: time to the init marker, time to exit,
            total CPU time, and peak RSS without guest RAM.
Prints a Markdown report with medians and ratios to phyllome-vmm.
Must run where /dev/kvm can boot Linux (in the rig on PVM hosts)."""
import argparse
import os
import select
import signal
import statistics
import subprocess
import sys
import time

MARKER = b"PHYLLOME-GUEST: init started"


def vmm_commands(args, kernel, initrd, cmdline, mem):
    memfd = ["-object", f"memory-backend-memfd,id=ram,size={mem}",
             "-machine", "memory-backend=ram"]
    qemu_common = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host",
                   "-m", mem, "-smp", "1", "-nodefaults", "-no-user-config",
                   "-nographic", "-serial", "stdio", "-no-reboot"] + memfd
    def qemu(machine):
        cmd = qemu_common + ["-M", machine, "-kernel", kernel]
        if initrd:
            cmd += ["-initrd", initrd]
        if cmdline:
            cmd += ["-append", cmdline]
        return cmd
    # Guest RAM a memfd for every VMM here (shared=on), so that the RSS
    # figures can leave it out (it is RssShmem).
    def ours(vmm, extra=()):
        cmd = [vmm, "--kernel", kernel, "--memory", f"size={mem},shared=on",
               "--cpus", "boot=1", "--serial", "tty"]
        if initrd:
            cmd += ["--initramfs", initrd]
        if cmdline:
            cmd += ["--cmdline", cmdline]
        return cmd + list(extra)
    cmds = {"phyllome-vmm": ours(args.vmm)}
    # Variants in the same rounds: another build (an A/B of a change) and
    # this build with other options.
    if args.vmm_b:
        cmds["phyllome-vmm-b"] = ours(args.vmm_b)
    for v in args.variant:
        name, _, extra = v.partition("=")
        cmds[f"phyllome-vmm {name}"] = ours(args.vmm, extra.split())
    cmds["qemu-microvm"] = qemu("microvm")
    cmds["qemu-q35"] = qemu("q35")
    return cmds


def cpu_ns(pid):
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
    except OSError:
        return None
    return total


def rss_kib(pid):
    """RssAnon + RssFile: the VMM's own memory, guest RAM (shmem) excluded."""
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("RssAnon", "RssFile", "RssShmem"):
                    vals[k] = int(v.split()[0])
    except OSError:
        return None
    return vals.get("RssAnon", 0) + vals.get("RssFile", 0)


def run_until(cmd, needle, timeout, kill_at_needle, sample_rss):
    """Spawns cmd, reads its stdout until needle (and, unless killed then,
    until exit). Returns a dict of measurements."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = b""
    res = {"found": False}
    peak = 0
    deadline = t0 + timeout
    while True:
        now = time.monotonic()
        if now > deadline:
            p.kill()
            res["timeout"] = True
            break
        r, _, _ = select.select([p.stdout], [], [], 0.005)
        if sample_rss:
            v = rss_kib(p.pid)
            if v:
                peak = max(peak, v)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            if not res["found"] and needle in out:
                res["found"] = True
                res["t_marker"] = time.monotonic() - t0
                res["cpu_at_marker_ns"] = cpu_ns(p.pid)
                res["rss_at_marker_kib"] = rss_kib(p.pid)
                if kill_at_needle:
                    p.send_signal(signal.SIGKILL)
                    break
    _, status, ru = os.wait4(p.pid, 0)
    res["t_exit"] = time.monotonic() - t0
    res["cpu_total_s"] = ru.ru_utime + ru.ru_stime
    res["peak_rss_kib"] = peak
    res["exit_status"] = os.waitstatus_to_exitcode(status)
    res["output"] = out
    return res


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, unit, scale=1.0, digits=1):
    if v is None:
        return "n/a"
    return f"{v * scale:.{digits}f} {unit}"


def ratio(v, base):
    if v is None or not base:
        return "n/a"
    return f"{v / base:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmm", required=True, help="path of phyllome-vmm")
    ap.add_argument("--vmm-b", default="",
                    help="another phyllome-vmm build, run as phyllome-vmm-b")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                    help="--vmm again with ARGS added, run as 'phyllome-vmm NAME' "
                         "(repeatable), e.g. rng-off='--rng off'")
    ap.add_argument("--first-insn", required=True, help="first-insn.elf")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--initrd", default="")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--only", default="", help="comma list of VMMs to run")
    ap.add_argument("--startup-only", action="store_true",
                    help="only the start-up measurement (no Linux: works on "
                         "any /dev/kvm that runs the tiny PVH kernel)")
    args = ap.parse_args()
    if not args.startup_only and not (args.kernel and args.initrd):
        ap.error("--kernel and --initrd are needed unless --startup-only")

    start = vmm_commands(args, args.first_insn, None, None, args.memory)
    linux = vmm_commands(args, args.kernel, args.initrd,
                         "console=ttyS0 quiet phyllome.action=poweroff",
                         args.memory)
    names = list(start)
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    results = {n: {"start": [], "linux": []} for n in names}
    failures = []
    for rnd in range(args.rounds):
        for n in names:
            s = run_until(start[n], b"X", args.timeout, True, False)
            results[n]["start"].append(s)
            if not s["found"]:
                failures.append(f"{n} start-up round {rnd}: no X")
            if args.startup_only:
                lr = {"found": True, "t_exit": None, "cpu_total_s": None,
                      "peak_rss_kib": None, "exit_status": 0}
            else:
                lr = run_until(linux[n], MARKER, args.timeout, False, True)
            results[n]["linux"].append(lr)
            if not lr["found"]:
                failures.append(f"{n} linux round {rnd}: no init marker "
                                f"(exit {lr['exit_status']})")
            print(f"round {rnd} {n}: start {s.get('t_marker')} "
                  f"init {lr.get('t_marker')} exit {lr['t_exit']}",
                  file=sys.stderr)

    rows = {}
    for n in names:
        st = results[n]["start"]
        li = results[n]["linux"]
        rows[n] = {
            "start_wall": median([r.get("t_marker") for r in st]),
            "start_cpu": median([(r.get("cpu_at_marker_ns") or 0) / 1e9
                                 if r.get("found") else None for r in st]),
            "start_rss": median([r.get("rss_at_marker_kib") for r in st]),
            "init_wall": median([r.get("t_marker") for r in li]),
            "exit_wall": median([r["t_exit"] for r in li if r.get("found")]),
            "linux_cpu": median([r["cpu_total_s"] for r in li if r.get("found")]),
            "peak_rss": median([r["peak_rss_kib"] or None for r in li]),
        }
    base = rows.get("phyllome-vmm", {})
    print(f"Rounds: {args.rounds}, guest memory {args.memory}, 1 vCPU. "
          "Medians; ratio = value / phyllome-vmm's.\n")
    print("| VMM | start-up wall | start-up CPU | RSS at first insn "
          "(guest RAM excluded) | time to init | time to exit | boot CPU "
          "| peak RSS (guest RAM excluded) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in names:
        r = rows[n]
        cells = []
        for key, unit, scale in (("start_wall", "ms", 1e3), ("start_cpu", "ms", 1e3),
                                 ("start_rss", "MiB", 1 / 1024),
                                 ("init_wall", "s", 1), ("exit_wall", "s", 1),
                                 ("linux_cpu", "s", 1), ("peak_rss", "MiB", 1 / 1024)):
            v = r[key]
            c = fmt(v, unit, scale, 2)
            if n != "phyllome-vmm" and base.get(key):
                c += f" ({ratio(v, base[key])})"
            cells.append(c)
        print(f"| {n} | " + " | ".join(cells) + " |")
    if failures:
        print("\nFailures:\n" + "\n".join(f"- {f}" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
