# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# Guest half of tests/e2e/gpu-suite.sh and tools/bench/run-gpu-bench, in the
# guest that tools/guest/build-gpu-guest.sh builds (Mesa's GL userland,
# phy-gpu-pattern and kmscube in the initramfs). Does nothing unless the
# kernel command line has phyllome.gpu=STEP:
#   gl       phy-gpu-pattern: render the test pattern with GLES through
#            virgl, check it with glReadPixels, show it on the scanout
#   2d       phy-gpu-pattern --2d: the same pattern drawn by the CPU into a
#            dumb buffer (a device without 3D)
#   kmscube  kmscube -c N (phyllome.gpu_frames=N, default 500)
# phyllome.gpu_finish=N: after the step, time N tiny clears + glFinish()
# (phy-gpu-pattern --finish N; a line "finish N avg ..." in microseconds).
# phyllome.gpu_hold=S: after the pattern is shown, wait S seconds before
# /init goes on (and powers off): time for a host that takes the screenshot
# while the guest runs (QEMU's screendump); phyllome-vmm takes it at exit.
# Lines, "PHYLLOME-GPU: " each: "features ..." (the virtio_gpu driver's
# feature list, +virgl or -virgl), phy-gpu-pattern's own lines (see
# tests/gpu-guest-prog/phy-gpu-pattern.c), for kmscube "kmscube start",
# kmscube's own output as it is, "kmscube stop", "kmscube exit N"; a failure
# before that gives "error WHY". "done" ends the step.
step="" frames=500 hold=0 finish=0
for arg in $(cat /proc/cmdline); do
  case $arg in
    phyllome.gpu=*) step=${arg#*=} ;;
    phyllome.gpu_finish=*) finish=${arg#*=} ;;
    phyllome.gpu_frames=*) frames=${arg#*=} ;;
    phyllome.gpu_hold=*) hold=${arg#*=} ;;
  esac
done
[ -n "$step" ] || return 0
say() { echo "PHYLLOME-GPU: $*"; }
# /init loaded virtio_gpu; its probe creates the node, normally at once.
for _ in $(seq 50); do [ -e /dev/dri/card0 ] && break; sleep 0.1; done
if [ ! -e /dev/dri/card0 ]; then
  say "error no /dev/dri/card0 (virtio devices: $(ls /sys/bus/virtio/devices | tr '\n' ' '))"
  say "done"
  return 0
fi
# "[drm] features: +virgl +edid ..." from the driver's probe: whether the
# device offered 3D.
say "features $(dmesg | sed -n 's/.*\[drm\] features: //p' | head -1)"
# After "shown", a second before the hook ends: for a GL buffer the
# kernel (6.1) queues the scanout's flush without waiting for the device
# (only dumb buffers get a fence), and the host's screenshot should see the
# settled screen.
case $step in
  gl) if phy-gpu-pattern; then sleep 1; else say "exit $?"; fi ;;
  2d) if phy-gpu-pattern --2d; then sleep 1; else say "exit $?"; fi ;;
  kmscube)
    # Straight to the console, unprefixed: on a terminal its stdout is line
    # buffered, so each "Rendered N frames in T sec (F fps)" report (every
    # 2 s) reaches the host as it is printed (through a pipe it would come
    # at exit), and the host can sample the VMM's CPU time at each. Its
    # stdin stays the console: kmscube stops ("user interrupted!") as soon
    # as stdin is readable, which /dev/null always is.
    say "kmscube start"
    kmscube -c "$frames" 2>&1
    rc=$?
    say "kmscube stop"
    say "kmscube exit $rc" ;;
  *) say "error unknown phyllome.gpu=$step" ;;
esac
if [ "$finish" -gt 0 ] 2>/dev/null; then
  phy-gpu-pattern --finish "$finish" || say "finish exit $?"
fi
if [ "$hold" -gt 0 ] 2>/dev/null; then
  say "holding ${hold}s"
  sleep "$hold"
fi
say "done"
