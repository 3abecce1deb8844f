#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Network benchmark: iperf3 TCP throughput both ways and ping round trips
between L1 and a guest on a tap, phyllome-vmm beside QEMU q35 virtio-net-pci
(vhost=off: QEMU's userspace device; vhost=on: the kernel's vhost-net) on
the same tap, kernel, initramfs and command line, in the same run, VMM order
rotating each round. Normally started by tools/bench/run-net-bench, which
builds everything and runs this in the rig.

Usage (as root, where /dev/kvm boots Linux, i.e. inside the rig here):
  net-bench.py --vmm build/phyllome-vmm --kernel GUEST/vmlinux
      --initrd GUEST/initrd.img [--rounds 3] [--time 10] [--pings 50]
      [--vmms phyllome-vmm,qemu-q35,qemu-q35-vhost] [--log-dir DIR]
GUEST is tools/guest/build-guest.sh --extra-dir with tools/bench/net-guest
and iperf3 with its libraries (run-net-bench assembles it): the hook
etc/phyllome.d/iperf.sh configures eth0 and starts "iperf3 -s".

Set-up: one persistent tap (phy-bench0, L1 10.78.0.1/24, guest
10.78.0.2/24) that every VMM opens in turn (phyllome-vmm --net tap=...;
QEMU -netdev tap,ifname=...,vhost=off|on). Guest: 1 vCPU, 512 MiB, one
queue pair. Per VMM run, after the guest's iperf3 server is up:
  - latency: ping from L1 (busybox ping -c PINGS -i 0.2, 56-byte ICMP
    echo), the average round trip;
  - L1->guest: iperf3 -c GUEST -t TIME (one TCP stream, 128 KiB writes);
  - guest->L1: the same with -R (the guest sends).
Throughput is what the receiver got (iperf3's sum_received). Losses per
iperf3 run: the sender's TCP retransmits, the tap's tx_dropped/rx_dropped,
and for phyllome-vmm its own rx_drops/tx_drops (vm.counters through
--api-socket).

VMM CPU: the VMM process's CPU time (all threads, /proc/PID/stat, so
threads that ended count too), plus for vhost=on the vhost-PID kernel
thread that does QEMU's device work, over each iperf3 run, per GB
received. "outside vCPUs" subtracts the vCPU threads (named vcpuN /
"CPU N/KVM"; /proc/PID/task/TID/schedstat): what remains is device
emulation and I/O. The vCPU share holds the guest's own work (its TCP
stack, iperf3) and KVM's halt polling.

Everything here runs under TCG in the rig: compare the VMMs only with each
other, in the same run.

Prints a Markdown report (medians over rounds) on stdout, progress on
stderr. Exit status 1 when any run failed (the report says which)."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (VMM_B, Lines, arg_parser, cpu_sample,  # noqa: E402
                      finish_report, last_line, make_log_dir, marked, md_head,
                      md_row, median, need_files, need_tools, note_failures,
                      phyllome_command, print_failed, qemu_command, ratio,
                      rotating, sh, start_vmm, vm_counters, vmm_list,
                      write_runs)

MARK = "PHYLLOME-IPERF: "
ALL_VMMS = ["phyllome-vmm", "qemu-q35", "qemu-q35-vhost"]
TAP = "phy-bench0"
HOST_IP, GUEST_IP, PREFIX = "10.78.0.1", "10.78.0.2", 24
MAC = "52:54:00:be:ec:02"
API_SOCK = "/tmp/phy-net-bench.sock"  # not on 9p: bind() fails there
DIRS = [("l1-to-guest", "L1→guest", []), ("guest-to-l1", "guest→L1", ["-R"])]


# ---------------------------------------------------------------- CPU
def vhost_tids(pid):
    """The vhost-net kernel threads serving process pid ("vhost-PID")."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read().strip() == f"vhost-{pid}":
                    out.append(int(d))
        except OSError:
            pass
    return out


# ---------------------------------------------------------------- drops
def tap_drops():
    """The tap's own drop counters: tx_dropped are frames L1 sent that the
    VMM did not take in time (the tap's queue was full), rx_dropped frames
    from the VMM the tap refused."""
    out = {}
    for k in ("tx_dropped", "rx_dropped"):
        try:
            with open(f"/sys/class/net/{TAP}/statistics/{k}") as f:
                out[k] = int(f.read())
        except (OSError, ValueError):
            out[k] = None
    return out


def vmm_drops(name):
    """phyllome-vmm's own counters for the device (vm.counters)."""
    if not name.startswith("phyllome-vmm"):
        return {}
    try:
        c = vm_counters(API_SOCK, timeout=5)["bench0"]
        return {k: c[k] for k in ("rx_drops", "tx_drops", "rx_frames",
                                  "tx_frames")}
    except (KeyError, TypeError):
        return {}


NETSTAT = ("TCPOFOQueue", "TCPSACKReorder", "TCPTSReorder", "TCPRenoReorder",
           "TCPDSACKRecv", "TCPLostRetransmit", "TCPFastRetrans",
           "TCPTimeouts", "TCPLossProbes", "TCPSpuriousRTOs")


def l1_netstat():
    """L1's TcpExt counters that tell reordering from loss and loss from
    timeouts."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            kv = dict(zip(names.split()[1:], values.split()[1:]))
            return {k: int(kv[k]) for k in NETSTAT if k in kv}
    return {}


def delta(a, b):
    return {k: b[k] - a[k] for k in b
            if k in a and a[k] is not None and b[k] is not None}


# ---------------------------------------------------------------- VMMs
def vmm_command(name, args, cmdline):
    if name.startswith("phyllome-vmm"):
        return phyllome_command(name, args, cmdline,
                                ["--net", f"tap={TAP},mac={MAC},id=bench0"],
                                API_SOCK)
    vhost = "on" if name == "qemu-q35-vhost" else "off"
    return qemu_command(name, args, "q35", cmdline, [
        "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,"
                   f"vhost={vhost}",
        "-device", f"virtio-net-pci,netdev=n0,mac={MAC}"])


class Serial:
    """The VM's serial output (its stdout), read by a thread of its own so
    that the guest never waits on a full pipe, logged and scanned for MARK."""

    def __init__(self, p, log_path):
        self.p = p
        self.log = open(log_path, "wb")
        self.lines = Lines()
        self.marks = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def last(self):
        return self.lines.last

    def _run(self):
        while True:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                break
            self.log.write(chunk)
            for line in self.lines.feed(chunk):
                msg = marked(line, MARK)
                if msg is not None:
                    self.marks.append(msg)

    def close(self):
        self.thread.join(10)
        self.log.close()


def ping_stats(out):
    m = re.search(r"round-trip min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+) ms", out)
    loss = re.search(r"(\d+)% packet loss", out)
    if not m:
        return None
    return {"min_us": float(m.group(1)) * 1e3, "avg_us": float(m.group(2)) * 1e3,
            "max_us": float(m.group(3)) * 1e3,
            "loss_pct": int(loss.group(1)) if loss else None}


def run_vmm(name, args, log_prefix):
    """Boots NAME, measures. Returns {"error": None or one line,
    "ready": str, "ping": {...}, "l1-to-guest": {...}, "guest-to-l1": {...}}."""
    cmdline = (f"console=ttyS0 quiet cryptomgr.notests pci=noearly "
               f"phyllome.action=halt-wait phyllome.iperf=1 "
               f"phyllome.ip={GUEST_IP}/{PREFIX}")
    res = {"error": None, "ready": "", "job_errors": {}}
    err_path = log_prefix + ".err"
    try:
        os.unlink(API_SOCK)
    except OSError:
        pass
    p, res["error"] = start_vmm(vmm_command(name, args, cmdline), err_path)
    if p is None:
        return res
    ser = Serial(p, log_prefix + ".log")
    try:
        measure(name, args, p, ser, res, err_path)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        ser.close()
    return res


def measure(name, args, p, ser, res, err_path):
    deadline = time.monotonic() + args.boot_timeout
    while True:
        ready = [m for m in ser.marks if m.startswith(("ready", "error"))]
        if ready:
            break
        if time.monotonic() > deadline:
            res["error"] = (f"no iperf3 server in the guest after "
                            f"{args.boot_timeout:.0f} s (last guest line: "
                            f"{ser.last!r})")
            return
        time.sleep(0.2)
        if p.poll() is not None:
            res["error"] = (f"exit {p.poll()} before the guest was ready: "
                            f"{last_line(err_path) or ser.last!r}")
            return
    if ready[0].startswith("error"):
        res["error"] = f"guest: {ready[0]}"
        return
    res["ready"] = ready[0][len("ready "):]

    # The first packets resolve ARP; until then nothing is measured.
    for _ in range(40):
        if subprocess.run(["busybox", "ping", "-c", "1", "-W", "1", GUEST_IP],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.5)
    else:
        res["error"] = "the guest does not answer ping"
        return
    vhost = vhost_tids(p.pid) if name == "qemu-q35-vhost" else []
    if name == "qemu-q35-vhost" and not vhost:
        res["error"] = "vhost=on but no vhost kernel thread"
        return

    out = subprocess.run(["busybox", "ping", "-q", "-c", str(args.pings),
                          "-i", "0.2", GUEST_IP], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    st = ping_stats(out)
    if st:
        res["ping"] = st
    else:
        res["job_errors"]["ping"] = (out.strip().splitlines() or ["no output"])[-1]
    for key, _, flags in DIRS:
        d1, v1, n1 = tap_drops(), vmm_drops(name), l1_netstat()
        c1 = cpu_sample(p.pid, vhost)
        t1 = time.monotonic()
        try:
            r = subprocess.run(["iperf3", "-c", GUEST_IP, "-t", str(args.time),
                                "-J"] + flags, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               timeout=args.time + 60)
        except subprocess.TimeoutExpired:
            res["job_errors"][key] = f"iperf3 did not end in {args.time + 60} s"
            continue
        t2 = time.monotonic()
        c2 = cpu_sample(p.pid, vhost)
        d2, v2, n2 = tap_drops(), vmm_drops(name), l1_netstat()
        try:
            j = json.loads(r.stdout)
            if "error" in j:
                raise ValueError(j["error"])
            recv = j["end"]["sum_received"]
            sent = j["end"]["sum_sent"]
            m = {"gbps": recv["bits_per_second"] / 1e9,
                 "bytes": recv["bytes"], "window_s": t2 - t1,
                 "retransmits": sent.get("retransmits"),
                 "tap": delta(d1, d2), "vmm": delta(v1, v2),
                 "l1_tcp": delta(n1, n2)}
        except (ValueError, KeyError) as e:
            res["job_errors"][key] = (f"iperf3 exit {r.returncode}: {e}; "
                                      f"{(r.stderr.strip().splitlines() or [''])[-1]}")
            continue
        if c1 and c2:
            m["cpu_ns"] = c2[0] - c1[0]
            m["vcpu_ns"] = (c2[1] - c1[1] if c1[1] is not None
                            and c2[1] is not None else None)
            m["vhost_ns"] = c2[2] - c1[2]
        res[key] = m
    if p.poll() is not None:
        res["error"] = f"the VMM exited ({p.poll()}) during the measurements"


# ---------------------------------------------------------------- report
def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time", type=int, default=10, help="s per iperf3 run")
    ap.add_argument("--pings", type=int, default=50)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--vmms", default=",".join(ALL_VMMS),
                    help="comma list from: " + ",".join(ALL_VMMS))
    ap.add_argument("--log-dir", default="",
                    help="keep each run's serial output and stderr here")
    ap.add_argument("--boot-timeout", type=float, default=180)
    args = ap.parse_args()

    vmms = vmm_list(ap, args, ALL_VMMS)
    need_files(ap, args.kernel, args.initrd)
    need_tools(ap, "iperf3", "busybox", "ip")
    log_dir = make_log_dir(args, "net-bench")

    subprocess.run(["modprobe", "-q", "tun"], check=False)
    if "qemu-q35-vhost" in vmms:
        subprocess.run(["modprobe", "-q", "vhost_net"], check=False)
    try:
        subprocess.run(["ip", "link", "del", TAP], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        sh(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"])
        sh(["ip", "addr", "add", f"{HOST_IP}/{PREFIX}", "dev", TAP])
        sh(["ip", "link", "set", TAP, "up"])
    except RuntimeError as e:
        print(f"net-bench: cannot set up the tap: {e}", file=sys.stderr)
        return 2

    t_start = time.monotonic()
    runs = {v: [] for v in vmms}
    failures = {}
    try:
        for rnd, v in rotating(vmms, args.rounds):
            t0 = time.monotonic()
            r = run_vmm(v, args, os.path.join(log_dir, f"{v}-round{rnd}"))
            runs[v].append(r)
            note_failures(failures, v, r, rnd)
            summary = " ".join(
                f"{key}={r[key]['gbps']:.2f}Gbit/s" for key, _, _ in DIRS if key in r)
            if "ping" in r:
                summary += f" ping={r['ping']['avg_us']:.0f}us"
            print(f"net-bench: round {rnd + 1}/{args.rounds} {v}: "
                  f"{time.monotonic() - t0:.0f} s, "
                  + (f"failed: {r['error']}" if r["error"] else summary),
                  file=sys.stderr)
    finally:
        subprocess.run(["ip", "link", "del", TAP], check=False)
    total_s = time.monotonic() - t_start
    write_runs(log_dir, args, runs)

    def med(v, key, field):
        return median([r.get(key, {}).get(field) for r in runs[v]])

    def ok(v):
        return any(k in r for r in runs[v] for k, _, _ in DIRS)
    print(f"Rounds: {args.rounds} (VMM order rotating), medians. iperf3 "
          f"{args.time} s, one TCP stream, each way; latency: busybox ping "
          f"-c {args.pings} -i 0.2 from L1 (ICMP echo, 56 bytes), average "
          f"round trip. Guest: 1 vCPU, {args.memory}, one queue pair, on a "
          f"tap in L1 shared by all VMMs. QEMU: q35, virtio-net-pci, "
          f"vhost=off (qemu-q35) or vhost=on (qemu-q35-vhost). Total run "
          f"time {total_s / 60:.1f} min.\n")
    ready = next((r["ready"] for v in vmms for r in runs[v] if r["ready"]), "")
    if ready:
        print(f"Guest: {ready}\n")
    for v in vmms:
        if not ok(v):
            print_failed(v, runs[v])

    ours = "phyllome-vmm" if "phyllome-vmm" in vmms else None
    qemus = [v for v in vmms if v.startswith("qemu")]
    print("### Throughput and latency\n")
    md_head(["VMM"] + [f"{label} Gbit/s" for _, label, _ in DIRS]
            + ["ping RTT avg (µs)"])

    def fmt(x, f):
        return "failed" if x is None else f.format(x)
    for v in vmms:
        cells = [v] + [fmt(med(v, key, "gbps"), "{:.2f}") for key, _, _ in DIRS]
        cells.append(fmt(med(v, "ping", "avg_us"), "{:.0f}"))
        md_row(cells)
    def ratio_row(label, x, y):
        cells = [label]
        for key, field in [(k, "gbps") for k, _, _ in DIRS] + [("ping", "avg_us")]:
            cells.append(ratio(med(x, key, field), med(y, key, field)))
        md_row(cells)
    if ours:
        for q in qemus:
            ratio_row(f"phyllome/{q}", ours, q)
        if VMM_B in vmms:
            ratio_row(f"{VMM_B}/phyllome-vmm", VMM_B, ours)
    if ours and qemus:
        print("\nRatios: phyllome-vmm's value / QEMU's. Throughput: higher is "
              "better (target ≥ 1.2× qemu-q35); round trip: lower is better.")

    def loss_cell(v, key):
        rs = [r[key] for r in runs[v] if key in r]
        if not rs:
            return "n/a"
        retr = median([m.get("retransmits") for m in rs])
        tapd = median([sum(m.get("tap", {}).values()) if m.get("tap") else None
                       for m in rs])
        cell = (f"{'n/a' if retr is None else f'{retr:.0f}'} / "
                f"{'n/a' if tapd is None else f'{tapd:.0f}'}")
        vd = [m["vmm"] for m in rs if m.get("vmm")]
        if vd:
            cell += (f" / rx {median([x['rx_drops'] for x in vd]):.0f}, "
                     f"tx {median([x['tx_drops'] for x in vd]):.0f}")
        return cell
    print("\n### Losses: TCP retransmits / tap drops (/ the VMM's own drop counters)\n")
    md_head(["VMM", *(label for _, label, _ in DIRS)])
    for v in vmms:
        md_row([v, *(loss_cell(v, key) for key, _, _ in DIRS)])
    def l1_tcp(v, key):
        got = []
        for k in NETSTAT:
            x = median([r[key]["l1_tcp"].get(k) for r in runs[v]
                        if key in r and r[key].get("l1_tcp")])
            if x:
                got.append(f"{k} {x:.0f}")
        return ", ".join(got) or "none"
    print("\nL1's TCP over each run (TcpExt counters of /proc/net/netstat, "
          "medians; reordering shows as TCPOFOQueue at the receiver and "
          "*Reorder / TCPDSACKRecv at the sender; TCPTimeouts and "
          "TCPLossProbes are retransmits after silence, TCPFastRetrans after "
          "duplicate ACKs):\n")
    for v in vmms:
        for key, label, _ in DIRS:
            if any(key in r for r in runs[v]):
                print(f"- {v}, {label}: {l1_tcp(v, key)}")
    print("\nRetransmits: iperf3's count for the sending side. Tap drops: the "
          "tap's tx_dropped + rx_dropped over the run (frames for the guest "
          "the VMM did not read before the tap's queue filled, or frames "
          "from the VMM the tap refused). phyllome-vmm's own: rx_drops and "
          "tx_drops of vm.counters.")

    def cpu_cell(v, key):
        per = []
        for r in runs[v]:
            m = r.get(key)
            if not m or "cpu_ns" not in m or not m["bytes"]:
                continue
            gb = m["bytes"] / 1e9
            per.append((m["cpu_ns"] / 1e9 / gb,
                        None if m["vcpu_ns"] is None else
                        (m["cpu_ns"] - m["vcpu_ns"]) / 1e9 / gb,
                        m["cpu_ns"] / 1e9 / m["window_s"],
                        m["vhost_ns"] / 1e9 / gb))
        if not per:
            return "n/a"
        outside = median([x[1] for x in per])
        vh = median([x[3] for x in per])
        return (f"{median([x[0] for x in per]):.2f} "
                f"({'n/a' if outside is None else f'{outside:.2f}'}"
                f"{f', vhost {vh:.2f}' if vh else ''}); "
                f"{median([x[2] for x in per]) * 100:.0f}% CPU")
    vmms_ok = [v for v in vmms if ok(v)]
    if vmms_ok:
        print("\n### VMM CPU seconds per GB received: all threads (outside vCPU threads)\n")
        md_head(["VMM", *(label for _, label, _ in DIRS)])
        for v in vmms_ok:
            md_row([v, *(cpu_cell(v, key) for key, _, _ in DIRS)])
        print("\nCPU per GB: the VMM process's CPU time over the iperf3 run "
              "(all threads; for vhost=on also the vhost-PID kernel thread, "
              "shown separately) / the bytes the receiver got. The vCPU "
              "threads' share holds the guest's own work (TCP, iperf3) and "
              "KVM's halt polling; outside them is the device emulation and "
              "I/O. \"% CPU\": the same CPU time / wall time (100% = one "
              "core; L1 has 2).")
    return finish_report(failures, log_dir)


if __name__ == "__main__":
    sys.exit(main())
