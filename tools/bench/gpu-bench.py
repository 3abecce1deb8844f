#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""GPU benchmark: kmscube's frame rate in the guest, phyllome-vmm
(--gpu mode=virgl) beside QEMU (virtio-gpu-gl-pci) on the same kernel,
initramfs, scanout size and command line, in the same run, VMM order
rotating each round. Normally started by tools/bench/run-gpu-bench, which
builds everything and runs this in the rig.

Usage (as root, where /dev/kvm boots Linux, i.e. inside the rig here):
  gpu-bench.py --vmm build/phyllome-vmm --kernel GUEST/vmlinuz
      --initrd GUEST/initrd.img [--rounds 3] [--frames 600]
      [--vmms phyllome-vmm,qemu] [--size 640x480] [--log-dir DIR]
GUEST is tools/guest/build-gpu-guest.sh --extra-dir tests/e2e/gpu-guest
(the hook etc/phyllome.d/gpu.sh runs "kmscube -c FRAMES" for
phyllome.gpu=kmscube and reports on "PHYLLOME-GPU: " lines).

What is measured, per VM run (kmscube prints "Rendered N frames in T sec
(F fps)" every 2 s, N and T counted from its second frame; the hook lets
these lines reach the console as they are printed):
  fps: kmscube's own figure from its last report (the guest's clock).
  fps, host clock: the frames between kmscube's first and last reports over
    the host's time between their arrival (a check on the guest's clock).
  VMM CPU per frame: the VMM process's CPU time (all threads ever;
    /proc/PID/stat) between the first and the last report, over the frames
    in between: the steady state, without kmscube's start-up. "outside
    vCPUs" leaves out the vCPU threads (named vcpuN / "CPU N/KVM";
    /proc/PID/task/TID/schedstat): virglrenderer, llvmpipe's threads and
    the display, i.e. the host side of the GPU.
  start-up: host seconds from the hook's "kmscube start" to kmscube's first
    report (EGL and GBM set-up, shader compilation through virgl, ~2 s of
    frames).
  glFinish round trip (both VMMs; --finish N, after kmscube in the same
    boot): phy-gpu-pattern --finish N in the guest times N 16x16 clears,
    each followed by glFinish(), which sends a fenced SUBMIT_3D and waits
    for its fence: the guest's view of the device's round trip, on the
    guest's clock (avg, p50, p99). For phyllome-vmm the device's own
    SUBMIT_3D-to-fence average over the same run is printed beside it
    (vm.counters at "kmscube exit" and at the "finish" line).
  SUBMIT_3D to fence (phyllome-vmm only; QEMU counts nothing like it): the
    device's own timing of each fenced SUBMIT_3D, from taking it off the
    control queue to answering it after virglrenderer retired its fence,
    read from the API socket's vm.counters ("_gpu0") at each kmscube report:
    average, p50, p99 and maximum over the whole run at the last report,
    and the average over the steady state (between the first and the last
    report, start-up left out).
Both VMMs render with Mesa's llvmpipe through virglrenderer (no GPU). QEMU
needs a GL display for virtio-gpu-gl-pci: -display egl-headless on a vgem
render node (GBM_ALWAYS_SOFTWARE=1), which also reads every flushed frame
back into its display surface; phyllome-vmm runs headless.

Everything here runs under TCG in the rig, on a machine shared with other
work: compare the VMMs only within one run, and look at the spread in
LOG_DIR/runs.json.

Prints a Markdown report (medians over rounds) on stdout, progress on
stderr. Exit status 1 when any run failed (the report says which)."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (arg_parser, cpu_sample, finish_report,  # noqa: E402
                      make_log_dir, marked, md_head, md_row, median,
                      need_files, phyllome_command, print_failed,
                      qemu_command, ratio, rotating, start_vmm, vm_counters,
                      vmm_list, watch_console, write_runs)

MARK = "PHYLLOME-GPU: "
ALL_VMMS = ["phyllome-vmm", "qemu"]
RENDERED = re.compile(r"Rendered (\d+) frames in ([\d.]+) sec \(([\d.]+) fps\)")
FINISH = re.compile(r"finish (\d+) avg ([\d.]+) p50 ([\d.]+) p99 ([\d.]+) max ([\d.]+)$")


def render_node():
    """A DRM render node for QEMU's egl-headless: vgem's, L1 has no GPU."""
    def find():
        try:
            return next((f"/dev/dri/{n}" for n in sorted(os.listdir("/dev/dri"))
                         if n.startswith("renderD")), None)
        except OSError:
            return None
    node = find()
    if node is None:
        subprocess.run(["modprobe", "-q", "vgem"], check=False)
        for _ in range(20):
            node = find()
            if node:
                break
            time.sleep(0.1)
    return node


def gpu_counters(sock):
    """vm.counters' "_gpu0" object from phyllome-vmm's API socket, or None."""
    return (vm_counters(sock) or {}).get("_gpu0")


def vmm_command(name, args, cmdline, api_sock):
    """The command line and extra environment for one VMM."""
    w, h = args.size
    if name == "phyllome-vmm":
        # ---- phyllome-vmm: adjust here when --gpu changes (docs/cli.md) ----
        return phyllome_command(name, args, cmdline, ["--gpu", f"mode=virgl,width={w},height={h}"], api_sock), {}  # noqa: E501
    node = render_node()
    if node is None:
        raise RuntimeError("no render node for QEMU's egl-headless (modprobe vgem failed)")
    # virtio-gpu-gl-pci needs a GL display: egl-headless, not -nographic.
    cmd = qemu_command(name, args, "q35", cmdline,
                       ["-device", f"virtio-gpu-gl-pci,xres={w},yres={h}"],
                       display=["-monitor", "none", "-display",
                                f"egl-headless,rendernode={node}"])
    return cmd, {"GBM_ALWAYS_SOFTWARE": "1"}


def run_vmm(name, args, log_prefix):
    """Boots NAME with kmscube. Returns a dict: fps, frames, host_fps,
    cpu_ms_per_frame, outside_ms_per_frame, renderer, error."""
    cmdline = (f"console=ttyS0 quiet phyllome.action=poweroff "
               f"phyllome.gpu=kmscube phyllome.gpu_frames={args.frames} "
               f"phyllome.gpu_finish={args.finish}")
    res = {"error": None, "renderer": ""}
    err_path = log_prefix + ".err"
    # Unix sockets cannot live on the rig's 9p shares: /tmp is a tmpfs.
    api_sock = f"/tmp/gpu-bench.{os.getpid()}.{os.path.basename(log_prefix)}.sock"
    gpu_first = gpu_last = None  # "_gpu0" at the first and last reports
    gpu_kms_end = None           # at "kmscube exit", before --finish
    try:
        cmd, env = vmm_command(name, args, cmdline, api_sock)
    except RuntimeError as e:
        res["error"] = str(e)
        return res
    with open(log_prefix + ".cmd", "w") as f:
        f.write(" ".join(cmd) + "\n")
    p, res["error"] = start_vmm(cmd, err_path, env)
    if p is None:
        return res
    t0 = time.monotonic()
    start = None      # host time of "kmscube start"
    reports = []      # (host time, frames, CPU sample) at each "Rendered"

    def on_line(line, now):
        nonlocal start, gpu_first, gpu_last, gpu_kms_end
        msg = marked(line, MARK)
        if msg is None:
            # kmscube's own lines, between the hook's start and stop.
            m = RENDERED.search(line)
            if m and start is not None:
                reports.append((now, int(m.group(1)), cpu_sample(p.pid)))
                res["frames"], res["fps"] = int(m.group(1)), float(m.group(3))
                if name == "phyllome-vmm":
                    g = gpu_counters(api_sock)
                    if g is not None:
                        gpu_first = gpu_first or g
                        gpu_last = g
            elif line.strip().startswith("renderer:"):
                res["renderer"] = line.split(":", 1)[1].strip().strip('"')
            elif "user interrupted" in line and not res["error"]:
                res["error"] = "kmscube stopped early: its stdin was readable"
            return False
        if msg == "kmscube start":
            start = now
        elif msg.startswith("kmscube exit ") and name == "phyllome-vmm":
            gpu_kms_end = gpu_counters(api_sock)
        elif msg.startswith("finish "):
            m = FINISH.match(msg)
            if m:
                res["finish_n"] = int(m.group(1))
                for k, i in (("avg", 2), ("p50", 3), ("p99", 4), ("max", 5)):
                    res[f"finish_{k}_us"] = float(m.group(i))
                g = gpu_counters(api_sock) if name == "phyllome-vmm" else None
                if g and gpu_kms_end and g["fences"] > gpu_kms_end["fences"]:
                    res["finish_device_avg_us"] = (
                        (g["fence_latency_avg_us"] * g["fences"]
                         - gpu_kms_end["fence_latency_avg_us"] * gpu_kms_end["fences"])
                        / (g["fences"] - gpu_kms_end["fences"]))
            elif not res["error"]:
                res["error"] = f"guest: {msg}"
        elif msg.startswith("kmscube exit ") and msg != "kmscube exit 0":
            if not res["error"]:
                res["error"] = f"{msg} (see {log_prefix}.log)"
        elif msg.startswith("error"):
            res["error"] = f"guest: {msg}"
        return msg == "done"
    watch_console(p, log_prefix + ".log", args.timeout, res, err_path, on_line)
    if not res["error"] and len(reports) < 2:
        res["error"] = (f"kmscube printed {len(reports)} \"Rendered ... fps\" "
                        f"reports, need 2 (more frames: --frames)")
    if len(reports) >= 2:
        (t1, f1, c1), (t2, f2, c2) = reports[0], reports[-1]
        res["startup_s"] = t1 - start
        frames = f2 - f1
        res["host_fps"] = frames / (t2 - t1) if t2 > t1 else None
        if c1 and c2 and frames > 0:
            res["cpu_ms_per_frame"] = (c2[0] - c1[0]) / frames / 1e6
            if c1[1] is not None and c2[1] is not None:
                res["outside_ms_per_frame"] = ((c2[0] - c1[0]) - (c2[1] - c1[1])) / frames / 1e6
    if gpu_last and gpu_last.get("fences"):
        res["gpu_fences"] = gpu_last["fences"]
        for k in ("avg", "p50", "p99", "max"):
            res[f"fence_{k}_us"] = gpu_last[f"fence_latency_{k}_us"]
        n = gpu_last["fences"] - gpu_first["fences"]
        if n > 0:
            total = (gpu_last["fence_latency_avg_us"] * gpu_last["fences"]
                     - gpu_first["fence_latency_avg_us"] * gpu_first["fences"])
            res["fence_steady_avg_us"] = total / n
            if len(reports) >= 2 and reports[-1][1] > reports[0][1]:
                res["fences_per_frame"] = n / (reports[-1][1] - reports[0][1])
    elif name == "phyllome-vmm" and not res["error"]:
        res["error"] = f"no GPU counters from the API socket {api_sock}"
    res["wall_s"] = time.monotonic() - t0
    return res


def main():
    ap = arg_parser(__doc__, vmm_b=False)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=600, help="kmscube -c N")
    ap.add_argument("--finish", type=int, default=200,
                    help="glFinish round trips timed after kmscube (0: none)")
    ap.add_argument("--size", default="640x480", help="scanout WxH")
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--vmms", default="phyllome-vmm,qemu",
                    help="comma list from: " + ",".join(ALL_VMMS))
    ap.add_argument("--log-dir", default="")
    ap.add_argument("--timeout", type=float, default=600, help="per VM run, s")
    args = ap.parse_args()
    try:
        args.size = tuple(int(v) for v in args.size.split("x"))
        assert len(args.size) == 2
    except (ValueError, AssertionError):
        ap.error("--size: WxH")
    vmms = vmm_list(ap, args, ALL_VMMS)
    need_files(ap, args.kernel, args.initrd)
    log_dir = make_log_dir(args, "gpu-bench")

    t_start = time.monotonic()
    runs = {v: [] for v in vmms}
    failures = {}
    for rnd, v in rotating(vmms, args.rounds):
        r = run_vmm(v, args, os.path.join(log_dir, f"{v}-round{rnd}"))
        runs[v].append(r)
        # Listed without note_failures' "failed: ", as the report always had.
        if r["error"]:
            failures.setdefault(f"{v}: {r['error']}", []).append(rnd + 1)
        print(f"gpu-bench: round {rnd + 1}/{args.rounds} {v}: {r['wall_s']:.0f} s, "
              + (f"failed: {r['error']}" if r["error"] else
                 f"{r['fps']:.1f} fps, {r.get('cpu_ms_per_frame', 0):.2f} ms CPU/frame"),
              file=sys.stderr)
    total_s = time.monotonic() - t_start
    write_runs(log_dir, args, runs)

    def med(v, key):
        return median([r.get(key) for r in runs[v] if not r["error"]])

    def spread(v, key):
        xs = [r[key] for r in runs[v] if not r["error"] and r.get(key) is not None]
        return f"{min(xs):.1f}–{max(xs):.1f}" if len(xs) > 1 else "-"

    w, h = args.size
    print(f"Rounds: {args.rounds} (VMM order rotating), medians. kmscube -c "
          f"{args.frames} (smooth-shaded cube, GLES 2, legacy KMS page flips) "
          f"on a {w}x{h} scanout; guest: 1 vCPU, {args.memory}, Mesa's virgl "
          f"driver; host side: virglrenderer on Mesa llvmpipe (no GPU). QEMU: "
          f"virtio-gpu-gl-pci, -display egl-headless on vgem. Total run time "
          f"{total_s / 60:.1f} min.\n")
    renderer = next((r["renderer"] for v in vmms for r in runs[v] if r["renderer"]), "")
    if renderer:
        print(f"Guest GL renderer: {renderer}\n")
    ok = [v for v in vmms if any(not r["error"] for r in runs[v])]
    for v in vmms:
        if v not in ok:
            print_failed(v, runs[v])
    hdr = ["", *ok]
    ours = "phyllome-vmm" if "phyllome-vmm" in ok else None
    qemu = "qemu" if "qemu" in ok else None
    if ours and qemu:
        hdr.append("phyllome/qemu")
    md_head(hdr)

    def row(title, key, fmt, higher_better=True):
        cells = [title]
        for v in ok:
            m = med(v, key)
            cells.append("n/a" if m is None else fmt.format(m))
        if ours and qemu:
            cells.append(ratio(med(ours, key), med(qemu, key)))
        md_row(cells)
    row("kmscube fps (guest clock)", "fps", "{:.1f}")
    print("| fps range over rounds | " + " | ".join(spread(v, "fps") for v in ok)
          + (" | |" if ours and qemu else " |"))
    row("fps, host clock", "host_fps", "{:.1f}")
    row("VMM CPU per frame, all threads (ms)", "cpu_ms_per_frame", "{:.2f}")
    row("VMM CPU per frame outside vCPU threads (ms)", "outside_ms_per_frame", "{:.2f}")
    row("kmscube start-up to its first report (s)", "startup_s", "{:.1f}")
    if args.finish > 0:
        row("glFinish round trip in the guest, avg (µs)", "finish_avg_us", "{:.1f}")
        row("glFinish round trip in the guest, p50 (µs)", "finish_p50_us", "{:.1f}")
        row("glFinish round trip in the guest, p99 (µs)", "finish_p99_us", "{:.1f}")
    if ours:
        if args.finish > 0:
            row("SUBMIT_3D to fence during the glFinish run, device avg (µs)",
                "finish_device_avg_us", "{:.1f}")
        row("SUBMIT_3D to fence, average, steady state (µs)", "fence_steady_avg_us", "{:.1f}")
        row("SUBMIT_3D to fence, average, whole run (µs)", "fence_avg_us", "{:.1f}")
        row("SUBMIT_3D to fence, p50 (µs)", "fence_p50_us", "{:.1f}")
        row("SUBMIT_3D to fence, p99 (µs)", "fence_p99_us", "{:.1f}")
        row("SUBMIT_3D to fence, max (µs)", "fence_max_us", "{:.1f}")
        row("fenced SUBMIT_3D per frame", "fences_per_frame", "{:.2f}")
    print("\nfps: higher is better (target: phyllome/qemu ≥ 1.00x). CPU per frame "
          "(between kmscube's first and last reports, start-up left out): lower is "
          "better; outside the vCPU threads is the host side of the GPU "
          "(virglrenderer, llvmpipe, the display). Start-up: EGL/GBM set-up and "
          "shader compilation through virgl, plus ~2 s of frames.")
    if ours:
        print("\nSUBMIT_3D to fence: phyllome-vmm's own count (vm.counters, "
              "\"_gpu0\"), from the device taking a fenced SUBMIT_3D off its "
              "queue to answering it after virglrenderer retired the fence; "
              "QEMU has no such counter. p50/p99 are estimates from a "
              "histogram of buckets at most 25% wide, over the whole run.")
    return finish_report(failures, log_dir)


if __name__ == "__main__":
    sys.exit(main())
