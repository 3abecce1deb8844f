#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Disk benchmark: fio inside the guest on a virtio-blk disk, phyllome-vmm
beside QEMU on the same image, kernel, initramfs and command line, in the
same run, VMM order rotating each round. Normally started by
tools/bench/run-blk-bench, which builds everything and runs this in the rig.

Usage (as root, where /dev/kvm boots Linux, i.e. inside the rig here):
  blk-bench.py --vmm build/phyllome-vmm --kernel GUEST/vmlinuz
      --initrd GUEST/initrd.img --tools TOOLS.img [--rounds 3]
      [--runtime 8] [--ramp 2] [--vmms phyllome-vmm,qemu-q35]
      [--no-native] [--workdir DIR] [--log-dir DIR]
GUEST is tools/guest/build-guest.sh --extra-dir tools/bench/blk-guest (the
hook etc/phyllome.d/fio.sh runs fio and reports on "PHYLLOME-FIO: " lines);
TOOLS.img is the ext4 image with fio and its libraries that run-blk-bench
builds.

The disk under test: a raw image (default 1 GiB, written in full first, so
no VMM pays for block allocation) on an ext4 file system. Where WORKDIR
refuses O_DIRECT (tmpfs, overlayfs, 9p: the rig's /tmp) that file system is
made on a loop device whose backing file is in WORKDIR. It holds nothing
else. Both VMMs open it with O_DIRECT: phyllome-vmm --disk direct=on, QEMU
cache=none,aio=io_uring. The tools image is a second, read-only disk.
Guest: 1 vCPU, 512 MiB by default. In the guest fio runs on /dev/vda raw,
ioengine io_uring, direct=1, one job at a time:
  randread 4k QD1, randread 4k QD32, randwrite 4k QD1, randwrite 4k QD32,
  read 1m QD8, write 1m QD8
each for --ramp unmeasured then --runtime measured seconds. "no VM" is
the same fio job run directly on the image file where the VMMs run (L1 in
the rig), without a VM: the limit of the storage stack under the guests.

VMM CPU: the VMM process's CPU time (all threads, guest execution in its
vCPU threads included; /proc/PID/stat, so threads that ended count too)
between fio's exec_prerun and exec_postrun in the guest, i.e. over ramp +
runtime, divided by the I/Os of that period (IOPS x (ramp + runtime)).
"outside vCPUs" subtracts the vCPU threads (named vcpuN / "CPU N/KVM";
/proc/PID/task/TID/schedstat): the device emulation and I/O threads,
io_uring workers included. Resolution: one clock tick (10 ms) per window.
The vCPU share also holds KVM's halt polling, which keeps an idle vCPU
thread busy for a while: compare the outside-vCPU numbers first.

--exits: what the guest and KVM pay per I/O over the same window, counted
by the KVM this runs on (L1 in the rig): exits by reason (a kvm_exit hist
trigger), interrupts injected into the guest (kvm_inj_virq), MSIs
(kvm_msi_set_irq) and exits to the VMM (kvm_userspace_exit), through
perf stat -a. Needs perf and tracefs; one VM at a time is assumed.

Everything here runs under TCG in the rig, on a machine shared with other
work: rounds can differ severalfold when the host is busy. Take numbers on
a quiet machine and look at the spread in LOG_DIR/runs.json.

Prints a Markdown report (medians over rounds) on stdout, progress on
stderr. Exit status 1 when any run or job failed (the report says which)."""
import mmap
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (VMM_B, arg_parser, cpu_sample, finish_report,  # noqa: E402
                      make_log_dir, marked, md_head, md_row, median,
                      need_files, need_tools, note_failures, phyllome_command,
                      print_failed, qemu_command, ratio, rotating, sh,
                      start_vmm, vmm_list, watch_console, write_runs)

MARK = "PHYLLOME-FIO: "
JOBS = [("randread", "4k", 1), ("randread", "4k", 32),
        ("randwrite", "4k", 1), ("randwrite", "4k", 32),
        ("read", "1m", 8), ("write", "1m", 8)]
ALL_VMMS = ["phyllome-vmm", "qemu-q35", "qemu-q35-iothread", "qemu-microvm"]
NATIVE = "no VM"


def job_name(rw, bs, qd):
    return f"{rw}-{bs}-qd{qd}"


def is_read(rw):
    return "read" in rw


# ---------------------------------------------------------------- fio terse
def parse_terse(line, rw):
    """fio --terse-version=3 fields (1-based): read 6 KiB, 7 bw KiB/s, 8 IOPS,
    16 clat mean us, 18-37 clat percentiles; write 47, 48, 49, 57, 59-78."""
    f = line.strip().split(";")
    if len(f) < 80 or f[0] != "3":
        raise ValueError(f"not a terse v3 line ({len(f)} fields)")
    o = 0 if is_read(rw) else 41

    def pct(first, want):
        for p in f[first - 1:first + 19]:
            k, _, v = p.partition("%=")
            if k and abs(float(k) - want) < 1e-6:
                return float(v)
        return None
    return {
        "error": int(f[4]),
        "bw_kib": float(f[6 + o]),
        "iops": float(f[7 + o]),
        "clat_mean_us": float(f[15 + o]),
        "clat_p50_us": pct(18 + o, 50.0),
        "clat_p99_us": pct(18 + o, 99.0),
    }


def fio_args(rw, bs, qd, args):
    return [f"--name={job_name(rw, bs, qd)}", f"--rw={rw}", f"--bs={bs}",
            f"--iodepth={qd}", f"--ioengine={args.engine}", "--direct=1",
            "--thread", "--time_based", f"--runtime={args.runtime}",
            f"--ramp_time={args.ramp}", "--norandommap", "--randrepeat=0",
            "--output-format=terse", "--terse-version=3"]


# ---------------------------------------------------------------- KVM counts
TRACEFS = "/sys/kernel/tracing"
KVM_EVENTS = ["kvm:kvm_exit", "kvm:kvm_inj_virq", "kvm:kvm_msi_set_irq",
              "kvm:kvm_userspace_exit"]
EXIT_HIST = "hist:keys=exit_reason:sort=hitcount"
# SVM exit codes (the rig's L1 is AMD): those a disk workload makes.
SVM_EXITS = {0x60: "intr", 0x61: "nmi", 0x64: "vintr", 0x72: "cpuid",
             0x78: "hlt", 0x7b: "io", 0x7c: "msr", 0x81: "vmmcall",
             0x400: "npf"}


class KvmCounts:
    """L1's KVM events between start() and stop(), system-wide."""

    def __init__(self, path):
        if not os.path.isdir(f"{TRACEFS}/events"):
            subprocess.run(["mount", "-t", "tracefs", "none", TRACEFS],
                           check=False)
        self.path = path
        self.trigger = f"{TRACEFS}/events/kvm/kvm_exit/trigger"
        with open(self.trigger, "w") as f:
            f.write(EXIT_HIST)
        self.perf = subprocess.Popen(
            ["perf", "stat", "-a", "-x,", "-e", ",".join(KVM_EVENTS),
             "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.perf.send_signal(signal.SIGINT)
        try:
            self.perf.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.perf.kill()
        with open(f"{TRACEFS}/events/kvm/kvm_exit/hist") as f:
            hist = f.read()
        with open(self.trigger, "w") as f:
            f.write("!" + EXIT_HIST)
        counts, reasons = {}, {}
        try:
            for line in open(self.path):
                f = line.strip().split(",")
                if len(f) > 2 and f[0].replace(".", "").isdigit():
                    counts[f[2].split(":")[-1]] = float(f[0])
        except OSError:
            pass
        for m in re.finditer(r"exit_reason:\s*(\d+)\s*\}\s*hitcount:\s*(\d+)", hist):
            code = int(m.group(1))
            reasons[SVM_EXITS.get(code, hex(code))] = int(m.group(2))
        return {"kvm": counts, "exit_reasons": reasons}


# ---------------------------------------------------------------- storage
def o_direct_works(d):
    path = os.path.join(d, ".odirect-probe")
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o600)
    except OSError:
        return False
    try:
        buf = mmap.mmap(-1, 4096)
        os.write(fd, buf)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        os.unlink(path)


class Storage:
    """An O_DIRECT-capable directory holding only the test image."""

    def __init__(self, args):
        self.mounted = None
        os.makedirs(args.workdir, exist_ok=True)
        if o_direct_works(args.workdir):
            self.dir = args.workdir
            self.how = f"{args.workdir} (O_DIRECT works there)"
        else:
            if os.geteuid() != 0:
                raise RuntimeError(f"{args.workdir} refuses O_DIRECT and a "
                                   "loop device needs root")
            for m in ("loop", "ext4"):
                subprocess.run(["modprobe", "-q", m], check=False)
            backing = os.path.join(args.workdir, "fs.img")
            mnt = os.path.join(args.workdir, "mnt")
            os.makedirs(mnt, exist_ok=True)
            with open(backing, "wb") as f:
                f.truncate(args.image_size + (256 << 20))
            sh(["mkfs.ext4", "-q", "-F", backing])
            sh(["mount", "-t", "ext4", "-o", "loop", backing, mnt])
            self.mounted = mnt
            self.dir = mnt
            fstype = subprocess.run(["stat", "-f", "-c", "%T", args.workdir],
                                    stdout=subprocess.PIPE, text=True).stdout.strip()
            self.how = (f"ext4 on a loop device whose backing file is in "
                        f"{args.workdir} ({fstype or '?'}, which refuses "
                        f"O_DIRECT)")
        self.image = os.path.join(self.dir, "test.img")
        # Written in full with O_DIRECT, so every block is allocated and
        # initialised before any VMM touches it.
        size_mib = args.image_size >> 20
        t0 = time.monotonic()
        sh(["fio", "--name=fill", f"--filename={self.image}",
            f"--size={size_mib}M", "--rw=write", "--bs=1M", "--direct=1",
            f"--ioengine={args.engine}", "--iodepth=8", "--fallocate=none",
            "--output-format=terse"])
        st = os.stat(self.image)
        if st.st_size != args.image_size or st.st_blocks * 512 < args.image_size:
            raise RuntimeError(f"{self.image}: {st.st_size} bytes, "
                               f"{st.st_blocks * 512} allocated after the fill")
        self.fill_s = time.monotonic() - t0

    def close(self):
        if self.mounted:
            subprocess.run(["umount", self.mounted], check=False)


# ---------------------------------------------------------------- VMMs
def vmm_command(name, args, image, cmdline):
    if name.startswith("phyllome-vmm"):
        return phyllome_command(name, args, cmdline, [
            "--disk", f"path={image},direct=on,id=phy-fio-test",
            "--disk", f"path={args.tools},readonly=on,id=phy-fio-tools"])
    machine = "microvm" if name == "qemu-microvm" else "q35"
    dev = "virtio-blk-device" if machine == "microvm" else "virtio-blk-pci"
    devices = ["-drive", f"if=none,id=test,file={image},format=raw,"
                         "cache=none,aio=io_uring"]
    test_dev = f"{dev},drive=test,serial=phy-fio-test"
    if name == "qemu-q35-iothread":
        devices += ["-object", "iothread,id=io0"]
        test_dev += ",iothread=io0"
    devices += ["-device", test_dev,
                "-drive", f"if=none,id=tools,file={args.tools},format=raw,"
                          "readonly=on,file.locking=off",
                "-device", f"{dev},drive=tools,serial=phy-fio-tools"]
    return qemu_command(name, args, machine, cmdline, devices)


def run_vmm(name, args, image, timeout, log_prefix):
    """Boots NAME with the fio hook. Returns {"jobs": {job: {...}},
    "error": None or one line, "job_errors": {job: why}, "ready": str}."""
    spec = ",".join(f"{rw}:{bs}:{qd}" for rw, bs, qd in args.job_list)
    cmdline = (f"console=ttyS0 quiet phyllome.action=poweroff "
               f"phyllome.fio={spec} phyllome.fio_runtime={args.runtime} "
               f"phyllome.fio_ramp={args.ramp} phyllome.fio_engine={args.engine}")
    res = {"jobs": {}, "job_errors": {}, "error": None, "ready": ""}
    err_path = log_prefix + ".err"
    p, res["error"] = start_vmm(vmm_command(name, args, image, cmdline),
                                err_path)
    if p is None:
        return res
    starts = {}
    kvm = None
    rw_of = {job_name(*j): j[0] for j in args.job_list}

    def on_line(line, now):
        nonlocal kvm
        msg = marked(line, MARK)
        if msg is None:
            return False
        word, _, rest = msg.partition(" ")
        jname, _, detail = rest.partition(" ")
        if word == "ready":
            res["ready"] = rest
        elif word == "start":
            starts[jname] = (now, cpu_sample(p.pid))
            if args.exits:
                kvm = KvmCounts(log_prefix + f".{jname}.perf")
        elif word == "stop" and jname in starts:
            t1, c1 = starts.pop(jname)
            c2 = cpu_sample(p.pid)
            j = res["jobs"].setdefault(jname, {})
            j["window_s"] = now - t1
            if kvm:
                j.update(kvm.stop())
                kvm = None
            if c1 and c2:
                j["cpu_ns"] = c2[0] - c1[0]
                j["vcpu_ns"] = (c2[1] - c1[1] if c1[1] is not None
                                and c2[1] is not None else None)
        elif word == "result":
            try:
                res["jobs"].setdefault(jname, {}).update(
                    parse_terse(detail, rw_of.get(jname, "read")))
            except ValueError as e:
                res["job_errors"][jname] = f"bad result line: {e}"
        elif word == "error":
            if jname == "setup":
                res["error"] = f"guest: {detail}"
            else:
                res["job_errors"][jname] = detail
        return word == "done"
    watch_console(p, log_prefix + ".log", timeout, res, err_path, on_line)
    for rw, bs, qd in args.job_list:
        n = job_name(rw, bs, qd)
        if n not in res["job_errors"] and "iops" not in res["jobs"].get(n, {}):
            if not res["error"]:
                res["job_errors"][n] = "no result"
            res["jobs"].pop(n, None)
    return res


def run_native(args, image):
    res = {"jobs": {}, "job_errors": {}, "error": None, "ready": ""}
    size = f"--size={args.image_size >> 20}M"
    for rw, bs, qd in args.job_list:
        n = job_name(rw, bs, qd)
        r = subprocess.run(["fio", f"--filename={image}", size]
                           + fio_args(rw, bs, qd, args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        line = next((l for l in r.stdout.splitlines() if l.startswith("3;")), "")
        try:
            res["jobs"][n] = parse_terse(line, rw)
        except ValueError:
            tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
            res["job_errors"][n] = f"fio exit {r.returncode}: {tail}"
    return res


# ---------------------------------------------------------------- report
def fmt_rate(job, iops, bw_kib):
    if iops is None:
        return "failed"
    rw, bs, qd = job
    if bs.endswith("k"):
        return f"{iops / 1000:.2f}k IOPS"
    return f"{bw_kib / 1024:.0f} MiB/s"


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--tools", required=True, help="ext4 image with fio")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runtime", type=int, default=8, help="measured s per job")
    ap.add_argument("--ramp", type=int, default=2, help="unmeasured s per job")
    ap.add_argument("--engine", default="io_uring")
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--image-size", default="1G")
    ap.add_argument("--vmms", default="phyllome-vmm,qemu-q35",
                    help="comma list from: " + ",".join(ALL_VMMS))
    ap.add_argument("--jobs", default="",
                    help="comma list of RW:BS:QD (default: the six above)")
    ap.add_argument("--no-native", action="store_true",
                    help="skip fio directly on the image (no VM)")
    ap.add_argument("--workdir", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "phy-blk-bench"))
    ap.add_argument("--log-dir", default="",
                    help="keep each run's serial output and stderr here")
    ap.add_argument("--exits", action="store_true",
                    help="count KVM exits and interrupts per I/O (perf, tracefs)")
    ap.add_argument("--timeout", type=float, default=0,
                    help="per VM run (default: from the job count and times)")
    args = ap.parse_args()

    m = re.fullmatch(r"(\d+)([MG])", args.image_size)
    if not m:
        ap.error("--image-size: N M or N G")
    args.image_size = int(m.group(1)) << (20 if m.group(2) == "M" else 30)
    vmms = vmm_list(ap, args, ALL_VMMS)
    if args.jobs:
        try:
            args.job_list = [(rw, bs, int(qd)) for rw, bs, qd in
                             (j.split(":") for j in args.jobs.split(","))]
        except ValueError:
            ap.error("--jobs: RW:BS:QD[,...]")
    else:
        args.job_list = JOBS
    need_files(ap, args.kernel, args.initrd, args.tools)
    need_tools(ap, "fio")
    per_job = args.runtime + args.ramp
    timeout = args.timeout or 180 + len(args.job_list) * (3 * per_job + 30)
    log_dir = make_log_dir(args, "blk-bench")

    t_start = time.monotonic()
    try:
        storage = Storage(args)
    except (RuntimeError, OSError) as e:
        print(f"blk-bench: cannot prepare the test image: {e}", file=sys.stderr)
        return 2
    print(f"blk-bench: test image {storage.image} ({storage.how}), "
          f"filled in {storage.fill_s:.1f} s", file=sys.stderr)

    entries = vmms + ([] if args.no_native else [NATIVE])
    runs = {e: [] for e in entries}
    failures = {}  # "ENTRY: what" -> [round numbers]
    try:
        for rnd, e in rotating(entries, args.rounds):
            t0 = time.monotonic()
            if e == NATIVE:
                r = run_native(args, storage.image)
            else:
                r = run_vmm(e, args, storage.image, timeout,
                            os.path.join(log_dir, f"{e}-round{rnd}"))
            runs[e].append(r)
            note_failures(failures, e, r, rnd)
            print(f"blk-bench: round {rnd + 1}/{args.rounds} {e}: "
                  f"{time.monotonic() - t0:.0f} s, "
                  + (f"failed: {r['error']}" if r["error"] else
                     " ".join(f"{jn}={j['iops']:.0f}"
                              for jn, j in r["jobs"].items())),
                  file=sys.stderr)
    finally:
        storage.close()
    total_s = time.monotonic() - t_start
    write_runs(log_dir, args, runs)

    def med(e, jn, key):
        return median([r["jobs"].get(jn, {}).get(key) for r in runs[e]])

    qemus = [v for v in vmms if v.startswith("qemu")]
    ours = "phyllome-vmm" if "phyllome-vmm" in vmms else None
    print(f"Rounds: {args.rounds} (VMM order rotating), medians. Per job: "
          f"{args.ramp} s ramp + {args.runtime} s measured; fio "
          f"ioengine={args.engine}, direct=1, one job, on the guest's "
          f"/dev/vda (raw). Guest: 1 vCPU, {args.memory}. Disk: "
          f"{args.image_size >> 20} MiB raw image, O_DIRECT "
          f"(phyllome-vmm direct=on; QEMU cache=none,aio=io_uring), on "
          f"{storage.how}. no VM: the same jobs with fio on the image "
          f"file where the VMMs run. Total run time {total_s / 60:.1f} min.\n")
    ready = next((r["ready"] for e in vmms for r in runs[e] if r["ready"]), "")
    if ready:
        print(f"Guest: {ready}\n")

    def ok(e):
        return any(r["jobs"] for r in runs[e])
    for e in entries:
        if not ok(e):
            print_failed(e, runs[e])
    cols = entries
    print("### Throughput\n")
    # Ratios of IOPS: phyllome-vmm against each QEMU, and the B build
    # against phyllome-vmm.
    pairs = [(ours, q) for q in qemus] if ours else []
    if ours and VMM_B in vmms:
        pairs.append((VMM_B, ours))
    hdr = ["job"] + cols + [f"{a.replace('-vmm', '', 1) if a == ours else a}/{b}"
                            for a, b in pairs]
    md_head(hdr)
    for job in args.job_list:
        jn = job_name(*job)
        cells = [jn]
        for e in cols:
            iops, bw = med(e, jn, "iops"), med(e, jn, "bw_kib")
            cells.append(fmt_rate(job, iops, bw) if ok(e) or e == NATIVE
                         else "failed")
        for a, b in pairs:
            cells.append(ratio(med(a, jn, "iops"), med(b, jn, "iops")))
        md_row(cells)

    # The other tables only for those with results.
    cols = [e for e in entries if ok(e)]
    vmms_ok = [e for e in vmms if ok(e)]

    def table(title, names, cell):
        if not names:
            return
        print(f"\n### {title}\n")
        md_head(["job", *names])
        for job in args.job_list:
            jn = job_name(*job)
            md_row([jn, *(cell(e, jn) for e in names)])

    def latency(e, jn):
        a, b = med(e, jn, "clat_mean_us"), med(e, jn, "clat_p99_us")
        return "failed" if a is None else f"{a:.0f} / {b:.0f}"

    def windows(e, jn, key):
        """(job result, I/Os over its window) for each round of e that
        measured key."""
        for r in runs[e]:
            j = r["jobs"].get(jn, {})
            if j.get("iops") and key in j:
                yield j, j["iops"] * per_job

    def cpu(e, jn):
        per = []
        for j, ios in windows(e, jn, "cpu_ns"):
            per.append((j["cpu_ns"] / ios / 1e3,
                        None if j["vcpu_ns"] is None else
                        (j["cpu_ns"] - j["vcpu_ns"]) / ios / 1e3,
                        j["cpu_ns"] / j["window_s"] / 1e9))
        if not per:
            return "n/a"
        outside = median([p[1] for p in per])
        return (f"{median([p[0] for p in per]):.1f} "
                f"({'n/a' if outside is None else f'{outside:.1f}'}); "
                f"{median([p[2] for p in per]) * 100:.0f}% CPU")

    def exits(e, jn):
        per = []
        for j, ios in windows(e, jn, "kvm"):
            k, why = j["kvm"], j["exit_reasons"]
            top = sorted(why.items(), key=lambda kv: -kv[1])[:3]
            per.append((k.get("kvm_exit", 0) / ios,
                        k.get("kvm_msi_set_irq", 0) / ios,
                        k.get("kvm_inj_virq", 0) / ios,
                        k.get("kvm_userspace_exit", 0) / ios,
                        ", ".join(f"{n} {c / ios:.2f}" for n, c in top)))
        if not per:
            return "n/a"
        mid = sorted(per)[len(per) // 2]  # the run with the median exits
        return (f"{mid[0]:.2f} ({mid[4]}); MSIs {mid[1]:.2f}, injected "
                f"{mid[2]:.2f}, to the VMM {mid[3]:.2f}")

    table("Completion latency, mean / p99 (µs)", cols, latency)
    table("VMM CPU per I/O: all threads (outside vCPU threads), µs",
          vmms_ok, cpu)
    if vmms_ok:
        print("\nCPU per I/O: the VMM process's CPU time over the job's ramp "
              "+ runtime / the I/Os done then. The vCPU threads' share holds "
              "the guest's own work and KVM's halt polling; what is outside "
              "them is device emulation and I/O (io_uring workers included). "
              "\"% CPU\": the same CPU time / wall time (100% = one core).")

    if args.exits:
        table("KVM per I/O: exits (top reasons); interrupts; exits to the VMM",
              vmms_ok, exits)
        print("\nCounted by the KVM the VMMs run on (L1 in the rig), "
              "system-wide, over the same window as CPU per I/O.")
    return finish_report(failures, log_dir)


if __name__ == "__main__":
    sys.exit(main())
