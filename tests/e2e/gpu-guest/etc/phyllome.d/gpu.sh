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
# phyllome.gpu_keys=N: after the pattern is shown, the key events of the
# virtio keyboard of phyllome-vmm's window (--display sdl), until N keys
# were released: "keys ready eventM" once its event device is open (the
# host types after that line), then "key code=C value=V" for each EV_KEY
# event (evdev codes; value 1 press, 0 release, 2 the kernel's autorepeat),
# "keys done" after the N-th release, or "error ..." after 120 s without an
# event or without such a keyboard.
# Lines, "PHYLLOME-GPU: " each: "features ..." (the virtio_gpu driver's
# feature list, +virgl or -virgl), phy-gpu-pattern's own lines (see
# tests/gpu-guest-prog/phy-gpu-pattern.c), for kmscube "kmscube start",
# kmscube's own output as it is, "kmscube stop", "kmscube exit N"; a failure
# before that gives "error WHY". "done" ends the step.
step="" frames=500 hold=0 finish=0 keys=0
for arg in $(cat /proc/cmdline); do
  case $arg in
    phyllome.gpu=*) step=${arg#*=} ;;
    phyllome.gpu_finish=*) finish=${arg#*=} ;;
    phyllome.gpu_frames=*) frames=${arg#*=} ;;
    phyllome.gpu_hold=*) hold=${arg#*=} ;;
    phyllome.gpu_keys=*) keys=${arg#*=} ;;
  esac
done
[ -n "$step" ] || return 0
say() { echo "PHYLLOME-GPU: $*"; }

# read_keys N: see phyllome.gpu_keys. The event device is opened (fd 3)
# before "keys ready": evdev gives a reader only the events that come
# after its open. A struct input_event is 24 bytes on x86-64 (a 16-byte
# timeval, then u16 type, u16 code, s32 value), and evdev returns whole
# events: dd reads one at a time.
read_keys() {
  n=$1 ev="" released=0
  for d in /sys/class/input/event*; do
    [ "$(cat "$d/device/name" 2>/dev/null)" = "phyllome keyboard" ] && ev=${d##*/}
  done
  if [ -z "$ev" ]; then
    say "error no virtio keyboard (input devices: $(cat /sys/class/input/*/name 2>/dev/null | tr '\n' ','))"
    return
  fi
  exec 3<"/dev/input/$ev"
  say "keys ready $ev"
  while [ "$released" -lt "$n" ]; do
    rm -f /tmp/key-event
    if ! timeout 120 dd bs=24 count=1 of=/tmp/key-event <&3 2>/dev/null ||
       [ "$(wc -c </tmp/key-event)" -ne 24 ]; then
      say "error no key event in 120 s ($released released)"
      break
    fi
    # shellcheck disable=SC2046 # "TYPE CODE": two words
    set -- $(od -An -tu2 -j16 -N4 /tmp/key-event)
    value=$(od -An -td4 -j20 -N4 /tmp/key-event | tr -d ' ')
    [ "$1" = 1 ] || continue # EV_KEY only: not the EV_SYN after each
    say "key code=$2 value=$value"
    [ "$value" = 0 ] && released=$((released + 1))
  done
  exec 3<&-
  [ "$released" -lt "$n" ] || say "keys done"
}

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
if [ "$keys" -gt 0 ] 2>/dev/null; then
  read_keys "$keys"
fi
if [ "$hold" -gt 0 ] 2>/dev/null; then
  say "holding ${hold}s"
  sleep "$hold"
fi
say "done"
