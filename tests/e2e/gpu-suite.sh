#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end virtio-gpu tests: the GPU guest (tools/guest/build-gpu-guest.sh
# with the hook in tests/e2e/gpu-guest; run-e2e.sh --guest-builder) renders
# a known asymmetric pattern (tests/gpu-guest-prog/phy-gpu-pattern.c), with
# OpenGL ES through virgl or with the CPU into a dumb buffer, checks it where
# it can (glReadPixels) and shows it on the scanout. The host side then
# checks the VMM's PNG of scanout 0 pixel by pixel, orientation included
# (tests/gpu-guest-prog/check-screenshot.py).
#
# Cases:
#   virgl    --gpu mode=virgl: the guest's GL renderer is virgl, its
#            readback matches, it scans out the GL-rendered buffer, the
#            driver saw +virgl; the --screenshot-on-exit PNG, written when
#            the VMM stops (SIGTERM once the guest is done: see
#            run_phyllome), shows the pattern the right way up; so does
#            the PNG taken through the control API while the guest runs
#            (PUT vm.screenshot on --api-socket)
#   2d       --gpu mode=2d: the driver saw -virgl, the dumb-buffer pattern
#            is in both PNGs
#   bad-gpu  bad --gpu values: exit 2 and one line on stderr naming --gpu;
#            --screenshot-on-exit without --gpu: the same, naming that
#   checker  the screenshot checker's self-test (no VM): it accepts the
#            pattern in each encoding and rejects flips, mirrors, swapped
#            channels, one wrong pixel and a wrong size
#   sdl      --display sdl on an Xvfb started here, mode=virgl: the window
#            takes the scanout's size (xdotool's geometry), an xwd
#            screenshot of the X screen shows the guest's GL pattern in the
#            window pixel for pixel (tests/e2e/xwd-crop.py, then the same
#            checker with --tolerance 0: the window is not scaled), keys
#            typed with xdotool into the window reach the guest's evdev as
#            their KEY_* codes (the hook's phyllome.gpu_keys), and closing
#            the window as a window manager does (tests/e2e/x11-close.py)
#            presses the power button: the guest powers off, exit 0
#
# PHYLLOME_GPU_E2E_QEMU=1 runs the guest cases (virgl, 2d) under QEMU
# instead (VMM is then ignored), once the guest says the pattern is shown:
# virgl: virtio-gpu-gl-pci with -display egl-headless on a vgem render node
# (L1 has no GPU: Mesa renders with llvmpipe) and the screenshot through
# VNC (tests/e2e/vnc-shot.py, a PPM): QEMU 7.2's screendump answers "no
# surface" for a GL scanout. 2d: virtio-gpu-pci with -display none and QMP
# screendump (a PNG). This validates the guest image, the guest program and
# the checker against a known-good device.
#
# Usage: gpu-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
root=$(cd "$here/../.." && pwd)
checker=$root/tests/gpu-guest-prog/check-screenshot.py

qemu=${PHYLLOME_GPU_E2E_QEMU:-0}
ALL="virgl 2d bad-gpu checker sdl"
# Under QEMU the phyllome-vmm-only cases run only when named.
if [ "$qemu" = 1 ]; then DEFAULT_CASES="virgl 2d checker"; fi
# The guest's lines; its last three are "error ...", "done" and init's
# "waiting" (phyllome.action=halt-wait) when a step fails.
MARK=PHYLLOME-GPU WHY_LINES=3
suite_args "$@"
VMM=$1
# The scanout size asked of the device; the PNG must have it.
W=640 H=480
# The GPU guest's initramfs unpacks ~210 MiB of GL libraries into RAM.
MEM=1G
BOOT_TIMEOUT=${PHYLLOME_GPU_E2E_BOOT_TIMEOUT:-300}

# ------------------------------------------------------------ running a guest
# wait_guest NAME PID REGEX: until a "PHYLLOME-GPU: " line matching REGEX is
# in LOGS/NAME.log, the process ends or BOOT_TIMEOUT passes (status 124).
wait_guest() {
  local deadline=$((SECONDS + BOOT_TIMEOUT))
  while kill -0 "$2" 2>/dev/null; do
    grep -aqE "^PHYLLOME-GPU: ($3)" "$LOGS/$1.log" 2>/dev/null && return 0
    [ $SECONDS -lt $deadline ] || return 124
    sleep 0.5
  done
}

# run_phyllome NAME MODE STEP: boots with --gpu mode=MODE and the hook's step
# STEP, and stops the VMM with SIGTERM once the guest is done (exit 143 is
# the expected end, returned as 0); the VMM writes LOGS/NAME.png as it
# stops. Debian's 6.1 kernel resets the virtio-gpu device on its way down
# (QEMU's virtio_set_status trace shows status 0 written three times after
# the last flush); the scanout then keeps its last frame, but stopping the
# guest while it shows the pattern checks the live scanout, not the kept
# copy.
# Before that, while the guest still shows the pattern, the same screenshot
# through the control API: LOGS/NAME-api.png, the answer's status in
# LOGS/NAME-api.status.
run_phyllome() {
  local name=$1 mode=$2 step=$3 pid rc
  # Unix sockets cannot be made on the rig's 9p shares: /tmp is a tmpfs.
  local sock=/tmp/gpu-suite.$$.$name.sock
  # ---- the phyllome-vmm command line (keep in step with docs/cli.md) ----
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory "size=$MEM" \
    --serial "file=$LOGS/$name.log" --cmdline "console=ttyS0 quiet phyllome.gpu=$step phyllome.action=halt-wait" \
    --gpu "mode=$mode,width=$W,height=$H" --screenshot-on-exit "$LOGS/$name.png" \
    --api-socket "path=$sock" 2>"$LOGS/$name.err" &
  pid=$!
  wait_guest "$name" $pid 'done|error'
  rc=$?
  if [ $rc -eq 0 ]; then
    curl -s -m 30 --unix-socket "$sock" -X PUT -o "$LOGS/$name-api.body" -w '%{http_code}' \
      -d "{\"path\": \"$LOGS/$name-api.png\", \"scanout\": 0}" \
      http://localhost/api/v1/vm.screenshot >"$LOGS/$name-api.status" 2>&1
  fi
  kill -TERM $pid 2>/dev/null
  wait $pid
  local vrc=$?
  [ $rc -eq 0 ] || return $rc
  [ $vrc -eq 143 ] && return 0
  return $vrc
}

# A render node for QEMU's egl-headless display: L1 has no GPU, and vgem
# gives it one that Mesa drives with its software rasterizer
# (GBM_ALWAYS_SOFTWARE=1 skips the search for a "vgem" DRI driver).
qemu_render_node() {
  local n
  n=$(ls /dev/dri/renderD* 2>/dev/null | head -1)
  if [ -z "$n" ]; then
    modprobe -q vgem 2>/dev/null
    for _ in $(seq 20); do
      n=$(ls /dev/dri/renderD* 2>/dev/null | head -1)
      [ -n "$n" ] && break
      sleep 0.1
    done
  fi
  echo "$n"
}

# run_qemu NAME MODE STEP: the same under QEMU; the guest holds the pattern
# on the screen (phyllome.gpu_hold) while VNC (virgl: LOGS/NAME.ppm) or QMP's
# screendump (2d: LOGS/NAME.png) takes it, then QEMU quits. Returns QEMU's
# exit status.
run_qemu() {
  local name=$1 mode=$2 step=$3 dev display node sock vnc pid rc=0
  # Unix sockets cannot live on 9p: under /tmp (a tmpfs in the rig).
  sock=$(mktemp -u "${TMPDIR:-/tmp}/phy-gpu-qmp.XXXXXX")
  vnc=$(mktemp -u "${TMPDIR:-/tmp}/phy-gpu-vnc.XXXXXX")
  local envs=()
  if [ "$mode" = virgl ]; then
    node=$(qemu_render_node)
    [ -n "$node" ] || { echo "no render node (modprobe vgem failed)" >"$LOGS/$name.err"; return 125; }
    dev=virtio-gpu-gl-pci display="egl-headless,rendernode=$node" envs=(GBM_ALWAYS_SOFTWARE=1)
  else
    dev=virtio-gpu-pci display=none
  fi
  env "${envs[@]}" qemu-system-x86_64 -M q35 -enable-kvm -cpu host -m "$MEM" -smp 1 \
    -nodefaults -no-user-config -no-reboot -display "$display" -vnc "unix:$vnc" \
    -device "$dev,xres=$W,yres=$H" -serial "file:$LOGS/$name.log" \
    -qmp "unix:$sock,server=on,wait=off" -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 quiet phyllome.gpu=$step phyllome.gpu_hold=300" \
    2>"$LOGS/$name.err" &
  pid=$!
  wait_guest "$name" $pid 'holding|error|done|exit'
  [ $? -eq 124 ] && rc=124
  if saw "$name" "holding"; then
    if [ "$mode" = virgl ]; then
      python3 "$here/vnc-shot.py" "$vnc" "$LOGS/$name.ppm" >/dev/null 2>>"$LOGS/$name.err" || rc=1
    else
      python3 "$here/qmp.py" "$sock" screendump "{\"filename\": \"$LOGS/$name.png\", \"format\": \"png\"}" \
        >/dev/null 2>>"$LOGS/$name.err" || rc=1
    fi
  fi
  python3 "$here/qmp.py" "$sock" quit >/dev/null 2>&1 || kill $pid 2>/dev/null
  wait $pid
  local qrc=$?
  rm -f "$sock" "$vnc"
  [ $rc -ne 0 ] && return $rc
  return $qrc
}

run_guest() {
  if [ "$qemu" = 1 ]; then run_qemu "$@"; else run_phyllome "$@"; fi
}
who() { if [ "$qemu" = 1 ]; then echo "QEMU"; else echo "phyllome-vmm"; fi; }

# check_png NAME: the screenshot (LOGS/NAME.png, or .ppm from VNC) shows
# the pattern at the asked size.
check_png() {
  local f=$LOGS/$1.png
  [ -s "$f" ] || [ ! -s "$LOGS/$1.ppm" ] || f=$LOGS/$1.ppm
  [ -s "$f" ] || { echo "no screenshot $f"; return 1; }
  python3 "$checker" "$f" --size "${W}x$H"
}

# check_api_png NAME: under phyllome-vmm, vm.screenshot answered 204 and its
# PNG shows the pattern too; prints what is wrong. Nothing to check under
# QEMU.
check_api_png() {
  [ "$qemu" = 1 ] && return 0
  local status
  status=$(cat "$LOGS/$1-api.status" 2>/dev/null)
  [ "$status" = 204 ] || { echo "vm.screenshot answered '$status' $(cat "$LOGS/$1-api.body" 2>/dev/null)"; return 1; }
  check_png "$1-api"
}

# ------------------------------------------------------------ cases
case_virgl() {
  local rc png api t0=$SECONDS
  run_guest virgl virgl gl
  rc=$?
  [ $rc -eq 0 ] || { bad virgl "$(who): $(why $rc virgl)"; return; }
  saw virgl "features .*+virgl" || { bad virgl "the driver saw no virgl: features $(says virgl features)"; return; }
  saw virgl "renderer virgl" || { bad virgl "GL renderer is '$(says virgl renderer)', want virgl: $(why $rc virgl)"; return; }
  saw virgl "readback ok ${W}x$H" || { bad virgl "glReadPixels: $(says virgl readback)$(says virgl error)"; return; }
  # "via dumb" would mean the GL buffer could not be scanned out: then the
  # screenshot would not test GL scanout (and its orientation) at all.
  saw virgl "shown ${W}x$H via gbm-bo" || { bad virgl "not shown from the GL buffer: shown $(says virgl shown)$(says virgl error)"; return; }
  png=$(check_png virgl) || { bad virgl "screenshot: $png"; return; }
  api=$(check_api_png virgl) || { bad virgl "API screenshot: $api"; return; }
  ok "virgl ($(who), $((SECONDS - t0)) s; renderer $(says virgl renderer | cut -c1-60); readback ok; screenshot $png${api:+; API screenshot $api})"
}

case_2d() {
  local rc png api t0=$SECONDS
  run_guest 2d 2d 2d
  rc=$?
  [ $rc -eq 0 ] || { bad 2d "$(who): $(why $rc 2d)"; return; }
  saw 2d "features .*-virgl" || { bad 2d "the driver should see no virgl in mode=2d: features $(says 2d features)"; return; }
  saw 2d "shown ${W}x$H via dumb" || { bad 2d "not shown: $(says 2d shown)$(says 2d error)"; return; }
  png=$(check_png 2d) || { bad 2d "screenshot: $png"; return; }
  api=$(check_api_png 2d) || { bad 2d "API screenshot: $api"; return; }
  ok "2d ($(who), $((SECONDS - t0)) s; dumb buffer; screenshot $png${api:+; API screenshot $api})"
}

case_bad_gpu() {
  local v rc i=0 lines
  for v in "mode=3d" "mode=virgl,width=0" "mode=2d,height=-1" "mode=2d,width=abc" \
           "mode=virgl,bogus=1" "width=640,height=480,mode=" ""; do
    i=$((i + 1))
    "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --gpu "$v" >/dev/null 2>"$LOGS/bad-gpu$i.err"
    rc=$?
    lines=$(wc -l <"$LOGS/bad-gpu$i.err")
    [ $rc -eq 2 ] && [ "$lines" = 1 ] && grep -q -- "--gpu" "$LOGS/bad-gpu$i.err" ||
      { bad bad-gpu "--gpu '$v': exit $rc, $lines lines: $(head -3 "$LOGS/bad-gpu$i.err" | tr '\n' ' ')"; return; }
  done
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --screenshot-on-exit "$LOGS/never.png" \
    >/dev/null 2>"$LOGS/bad-gpu-shot.err"
  rc=$?
  lines=$(wc -l <"$LOGS/bad-gpu-shot.err")
  [ $rc -eq 2 ] && [ "$lines" = 1 ] && grep -q -- "--screenshot-on-exit" "$LOGS/bad-gpu-shot.err" ||
    { bad bad-gpu "--screenshot-on-exit without --gpu: exit $rc, $lines lines: $(head -3 "$LOGS/bad-gpu-shot.err" | tr '\n' ' ')"; return; }
  ok "bad-gpu ($i values and --screenshot-on-exit alone; e.g. $(cat "$LOGS/bad-gpu1.err"))"
}

case_checker() {
  local out
  out=$(python3 "$checker" --self-test) || { bad checker "$(echo "$out" | tr '\n' ' ')"; return; }
  ok "checker ($(echo "$out" | tail -1 | sed 's/^check-screenshot self-test: //'))"
}

# ------------------------------------------------------------ the SDL window
# The sdl case's scanout: not the window's size before the guest shows
# anything (640x480, INITIAL_W/H in vmm/display_sdl.c), so that the
# window's geometry tells whether it followed the scanout.
SDL_W=800 SDL_H=600

# sdl_xvfb DIR: starts Xvfb on a display it picks itself (-displayfd: it
# writes the number once it accepts clients) and exports DISPLAY.
sdl_xvfb() {
  Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$1/display" \
    2>"$LOGS/sdl-xvfb.err" &
  xvfb_pid=$!
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ] && kill -0 $xvfb_pid 2>/dev/null; do
    if grep -qx '[0-9][0-9]*' "$1/display"; then
      DISPLAY=":$(head -1 "$1/display")"
      export DISPLAY
      unset WAYLAND_DISPLAY SDL_VIDEODRIVER # SDL must take this X server
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# sdl_find_window PID SECS: the id of the window named phyllome-vmm, once
# there, while PID runs; nothing after SECS.
sdl_find_window() {
  local deadline=$((SECONDS + $2)) win
  while [ $SECONDS -lt $deadline ] && kill -0 "$1" 2>/dev/null; do
    win=$(xdotool search --name '^phyllome-vmm$' 2>>"$LOGS/sdl-xdotool.err" | head -1)
    [ -n "$win" ] && { echo "$win"; return 0; }
    sleep 0.5
  done
  return 1
}

# sdl_wait_exit PID SECS: waits for the VMM to end; its exit status, or
# 124 (and SIGTERM) when it still runs after SECS.
sdl_wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  if kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1"
    wait "$1"
    return 124
  fi
  wait "$1"
}

# sdl_geometry PID: "WIN X Y WIDTH HEIGHT" of PID's window once it is
# SDL_W x SDL_H (10 s at most: the display thread resizes it on the first
# frame it reads); the last seen and status 1 otherwise. The window is
# looked up again each time: one found early may have gone away since, as
# windows do while SDL and EGL start.
sdl_geometry() {
  local g="" win deadline=$((SECONDS + 10))
  while :; do
    win=$(sdl_find_window "$1" 1)
    g=$([ -n "$win" ] && eval "$(xdotool getwindowgeometry --shell "$win")" &&
        echo "$win $X $Y $WIDTH $HEIGHT")
    case $g in *" $SDL_W $SDL_H") echo "$g"; return 0 ;; esac
    [ $SECONDS -lt $deadline ] || break
    sleep 0.5
  done
  echo "$g"
  return 1
}

# sdl_shot TMP X Y: the window's SDL_W x SDL_H pixels at (X, Y) in an xwd
# screenshot of the whole X screen (so nothing covers them), checked
# exactly; a few tries, as the display thread draws at its own pace. The
# last PPM stays as LOGS/sdl.ppm. Prints the checker's line.
sdl_shot() {
  local out="" try
  for try in 1 2 3 4 5 6 7 8 9 10; do
    [ "$try" = 1 ] || sleep 1
    xwd -root -silent -out "$1/root.xwd" 2>"$LOGS/sdl-xwd.err" || { out="xwd: $(tail -1 "$LOGS/sdl-xwd.err")"; continue; }
    out=$(python3 "$here/xwd-crop.py" "$1/root.xwd" "$LOGS/sdl.ppm" "$2" "$3" "$SDL_W" "$SDL_H" 2>&1) || continue
    out=$(python3 "$checker" "$LOGS/sdl.ppm" --size "${SDL_W}x$SDL_H" --tolerance 0) &&
      { echo "$out (try $try)"; return 0; }
  done
  echo "$out"
  return 1
}

# sdl_session: the sdl case in a subshell (its EXIT trap ends Xvfb and the
# VMM whatever happens). One line on stdout: what passed, or why not.
sdl_session() (
  local tmp win g shot keys rc vrc t0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/phy-gpu-sdl.XXXXXX")
  xvfb_pid="" vmm_pid=""
  # shellcheck disable=SC2154 # p is the trap's own loop variable
  trap 'for p in $vmm_pid $xvfb_pid; do kill -TERM $p 2>/dev/null; done; wait; rm -rf "$tmp"' EXIT
  sdl_xvfb "$tmp" || { echo "Xvfb did not start: $(tail -2 "$LOGS/sdl-xvfb.err" | tr '\n' ' ')"; return 1; }
  # ---- the phyllome-vmm command line (keep in step with docs/cli.md) ----
  t0=$SECONDS
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory "size=$MEM" \
    --serial "file=$LOGS/sdl.log" \
    --cmdline "console=ttyS0 quiet phyllome.gpu=gl phyllome.gpu_keys=2 phyllome.action=halt-wait" \
    --gpu "mode=virgl,width=$SDL_W,height=$SDL_H" --display sdl 2>"$LOGS/sdl.err" &
  vmm_pid=$!
  # The window opens before the guest boots (the window front-end opens
  # as phy_vm_create() ends). One search at a time, not --sync: a search
  # fails outright when a window it walks goes away meanwhile (BadWindow),
  # as windows do while SDL and EGL start.
  win=$(sdl_find_window $vmm_pid 60)
  [ -n "$win" ] || { echo "no window named phyllome-vmm on $DISPLAY in 60 s (LOGS/sdl-xdotool.err): $(why "$(kill -0 $vmm_pid 2>/dev/null && echo "running, $(ps -o time=,stat= -p $vmm_pid) (CPU time, state)" || echo ended)" sdl)"; return 1; }
  t0=$((SECONDS - t0))
  wait_guest sdl $vmm_pid 'keys ready|error|done'
  rc=$?
  saw sdl "keys ready" || { echo "the guest is not reading keys: $(why $rc sdl)"; return 1; }
  saw sdl "shown ${SDL_W}x$SDL_H via gbm-bo" || { echo "not shown from the GL buffer: shown $(says sdl shown)$(says sdl error)"; return 1; }

  g=$(sdl_geometry $vmm_pid) || { echo "window is '$g' (win x y w h), want ${SDL_W}x$SDL_H"; return 1; }
  # shellcheck disable=SC2086 # WIN X Y W H
  set -- $g
  win=$1
  shot=$(sdl_shot "$tmp" "$2" "$3") || { echo "window at $2,$3: $shot (LOGS/sdl.ppm)"; return 1; }

  # xdotool --window sends the events to the window itself (XSendEvent):
  # without a window manager nothing gives it the focus.
  xdotool key --window "$win" a z || { echo "xdotool key failed"; return 1; }
  wait_guest sdl $vmm_pid 'done|error'
  saw sdl "keys done" || { echo "keys: $(grep -a '^PHYLLOME-GPU: key' "$LOGS/sdl.log" | tr -d '\r' | tail -4 | tr '\n' ' ')$(says sdl error)"; return 1; }
  # Presses and releases, in order: KEY_A 30, KEY_Z 44. A press the
  # guest's kernel repeats (value 2: the release came late in guest time,
  # as under TCG it may) is no error.
  keys=$(tr -d '\r' <"$LOGS/sdl.log" | sed -n 's/^PHYLLOME-GPU: key code=\([0-9]*\) value=\([01]\)$/\1\/\2/p' | tr '\n' ' ')
  [ "$keys" = "30/1 30/0 44/1 44/0 " ] || { echo "keys a z arrived as '$keys' (code/value), want '30/1 30/0 44/1 44/0'"; return 1; }

  python3 "$here/x11-close.py" "$win" || { echo "x11-close.py failed"; return 1; }
  sdl_wait_exit $vmm_pid 120
  vrc=$?
  vmm_pid=""
  grep -aq '^PHYLLOME-GUEST: power button' "$LOGS/sdl.log" ||
    { echo "closing the window did not reach the guest's power button: $(why $vrc sdl)"; return 1; }
  [ $vrc -eq 0 ] || { echo "after the window closed and the guest powered off: $(why $vrc sdl)"; return 1; }
  echo "window after $t0 s, ${SDL_W}x$SDL_H at $2,$3 on $DISPLAY; screenshot $shot; keys a z as 30 44; closed: power button, exit 0"
)

case_sdl() {
  local t out
  for t in Xvfb xdotool xwd; do
    command -v $t >/dev/null || { bad sdl "$t is not installed (tools/install-deps)"; return; }
  done
  t=$SECONDS
  if out=$(sdl_session); then
    ok "sdl ($((SECONDS - t)) s; $out)"
  else
    bad sdl "$out"
  fi
}

suite_run
