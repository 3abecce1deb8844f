#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end boot tests: the default guest (Debian kernel + busybox
# initramfs) under phyllome-vmm. Runs where /dev/kvm can boot Linux: directly
# on hardware virtualization, inside the test rig otherwise (see
# tests/e2e/CMakeLists.txt). Each case asserts from the guest side (serial
# markers) and the host side (exit status, stderr).
#
# Usage: boot-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="boot-1cpu-256m boot-4cpu boot-4g boot-pvh reboot interactive consoles bad-images machine"
MARK=PHYLLOME-GUEST
suite_args "$@"
VMM=$1

# boot NAME TIMEOUT ARGS...: runs the VMM with serial to LOGS/NAME.log.
boot() {
  local name=$1 t=$2
  shift 2
  timeout -k 5 "$t" "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" \
    --serial "file=$LOGS/$name.log" "$@" 2>"$LOGS/$name.err"
}

# Nested KVM under TCG (the rig) sometimes loses an L2 vCPU wake-up during
# SMP boot: QEMU hangs there the same way (docs/testing.md). A boot that
# times out is retried; any other failure counts at once.
# With AFFINITY (--cpus affinity=), a watcher notes each vCPU thread's
# Cpus_allowed_list while the guest runs, for the caller to check.
boot_case() { # NAME CPUS MEM[,KEY=VALUE...] MIN_KIB MAX_KIB [RNG] [AFFINITY]
  local name=$1 cpus=$2 mem=$3 min=$4 max=$5 rng=${6:-} aff=${7:-} rc try watcher=
  local rng_opt=() want_rng=virtio_rng.0 cpus_opt=boot=$2
  [ "$rng" = off ] && rng_opt=(--rng off) want_rng=none
  [ -n "$aff" ] && cpus_opt+=",affinity=$aff"
  for try in 1 2 3; do
    if [ -n "$aff" ]; then
      watch_vcpus "$name" "$cpus" & watcher=$!
    fi
    boot "$name" 100 --cpus "$cpus_opt" --memory "size=$mem" "${rng_opt[@]}" \
      --cmdline "console=ttyS0 quiet phyllome.action=poweroff"
    rc=$?
    [ -n "$watcher" ] && { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; }
    [ $rc -eq 124 ] || break
    echo "# $name: attempt $try timed out, retrying"
  done
  [ $rc -eq 0 ] || { bad "$name" "exit status $rc (want 0 after guest poweroff): $(tail -1 "$LOGS/$name.err")"; return; }
  saw "$name" "init started" || { bad "$name" "no init marker"; return; }
  local c m
  c=$(says "$name" "cpus=")
  m=$(says "$name" "mem_kib=")
  [ "$c" = "$cpus" ] || { bad "$name" "guest reports cpus=$c, want $cpus"; return; }
  [ -n "$m" ] && [ "$m" -ge "$min" ] && [ "$m" -le "$max" ] ||
    { bad "$name" "guest reports mem_kib=$m, want $min..$max"; return; }
  saw "$name" "powering off" || { bad "$name" "no poweroff marker"; return; }
  # The entropy device is on by default; --rng off leaves it out.
  local r
  r=$(says "$name" "rng=")
  [ "$r" = "$want_rng" ] || { bad "$name" "guest reports rng=$r, want $want_rng"; return; }
  ok "$name (cpus=$c mem_kib=$m rng=$r, exit 0)"
}

# Writes LOGS/NAME.vcpus: "vcpuN LIST" for each of the N vCPU threads of
# the VMM whose serial file is LOGS/NAME.log, once all have started.
watch_vcpus() { # NAME N
  local t p n
  : >"$LOGS/$1.vcpus"
  for _ in $(seq 600); do
    # timeout(1) has the same command line; only the VMM has vCPUs.
    for p in $(pgrep -f -- "file=$LOGS/$1.log"); do
      n=$(for t in /proc/"$p"/task/*; do
            case $(cat "$t/comm" 2>/dev/null) in vcpu*)
              echo "$(cat "$t/comm") $(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")" ;;
            esac
          done | sort | tee "$LOGS/$1.vcpus.tmp" | wc -l)
      [ "$n" -eq "$2" ] && { mv "$LOGS/$1.vcpus.tmp" "$LOGS/$1.vcpus"; return; }
    done
    sleep 0.1
  done
}

# The same guest through the PVH entry: the ELF vmlinux that fetch-kernel.sh
# extracts from Debian's bzImage (it carries Xen's PHYS32_ENTRY note).
case_boot_pvh() {
  local saved=$KERNEL
  if [ ! -f "$GUEST/vmlinux" ]; then bad boot-pvh "no $GUEST/vmlinux (fetch-kernel.sh could not extract it)"; return; fi
  KERNEL=$GUEST/vmlinux
  boot_case boot-pvh 2 512M 400000 524288
  KERNEL=$saved
}

case_reboot() {
  local name=reboot log=$LOGS/reboot.log
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --serial "file=$log" --memory size=256M \
    --cmdline "console=ttyS0 quiet phyllome.action=reboot" 2>"$LOGS/$name.err" &
  local pid=$! n=0
  for _ in $(seq 1 360); do
    n=$(grep -ac "^PHYLLOME-GUEST: init started" "$log" 2>/dev/null)
    [ "${n:-0}" -ge 2 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  kill -TERM $pid 2>/dev/null
  wait $pid
  local rc=$?
  [ "${n:-0}" -ge 2 ] || { bad $name "guest booted $n times, want 2 (exit $rc: $(tail -1 "$LOGS/$name.err"))"; return; }
  [ $rc -eq 143 ] || { bad $name "exit status $rc after SIGTERM, want 143"; return; }
  ok "$name (booted $n times, SIGTERM exit 143)"
}

# expect_usage_error NAME PATTERN ARGS...: exit 2 and one line naming it.
expect_usage_error() {
  local name=$1 pat=$2
  shift 2
  "$VMM" "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
  local rc=$?
  [ $rc -eq 2 ] || { bad "$name" "exit status $rc, want 2"; return; }
  [ "$(wc -l <"$LOGS/$name.err")" -eq 1 ] || { bad "$name" "stderr is not one line: $(cat "$LOGS/$name.err")"; return; }
  grep -q -- "$pat" "$LOGS/$name.err" || { bad "$name" "stderr lacks '$pat': $(cat "$LOGS/$name.err")"; return; }
  ok "$name ($(cat "$LOGS/$name.err"))"
}

case_bad_images() {
  local trunc=$LOGS/truncated-vmlinuz
  head -c 200000 "$KERNEL" >"$trunc"
  expect_usage_error not-a-kernel "not a Linux kernel" --kernel /etc/hostname --initramfs "$INITRD"
  expect_usage_error truncated-kernel "truncated" --kernel "$trunc" --initramfs "$INITRD"
  expect_usage_error missing-initrd "initramfs: cannot open" --kernel "$KERNEL" --initramfs "$LOGS/no-such-initrd"
  expect_usage_error missing-kernel "kernel: cannot open" --kernel "$LOGS/no-such-kernel"
  expect_usage_error bad-memory-key "--memory: thp=maybe is not on or off" --kernel "$KERNEL" --memory size=256M,thp=maybe
  expect_usage_error initrd-too-large "too large" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=24M
  expect_usage_error bad-option "unknown option '--bogus'" --bogus 1
  expect_usage_error bad-cpus "--cpus" --kernel "$KERNEL" --cpus boot=zero
  expect_usage_error bad-cpus-affinity "--cpus: affinity names vCPU 2, but the VM has 2" \
    --kernel "$KERNEL" --initramfs "$INITRD" --cpus "boot=2,affinity=[0@[0],2@[0]]"
  expect_usage_error bad-cpus-affinity-syntax "--cpus: affinity=\[0@0\]: expected" \
    --kernel "$KERNEL" --initramfs "$INITRD" --cpus "boot=2,affinity=[0@0]"
  expect_usage_error bad-rng-missing "--rng: cannot open src=$LOGS/no-such-pool" \
    --kernel "$KERNEL" --initramfs "$INITRD" --rng "src=$LOGS/no-such-pool"
  expect_usage_error bad-rng-dir "--rng: src=$LOGS is a directory" \
    --kernel "$KERNEL" --initramfs "$INITRD" --rng "src=$LOGS"
  expect_usage_error bad-rng-key "--rng: unknown key 'rate'" \
    --kernel "$KERNEL" --initramfs "$INITRD" --rng src=/dev/urandom,rate=1
}

# The machine the main job shows (tools/main-job): a scratch disk, the
# entropy device and a 2D GPU, used by the guest (phyllome.show=1): an ext4
# file written and read back from the device, 1 MiB read from /dev/hwrng
# (virtio_rng, /sys/class/misc/hw_random/rng_current names it), colour
# bars drawn on /dev/fb0. Checked from the host too: the image holds the
# file (debugfs), and --screenshot-on-exit's PNG, taken after the guest
# powered off (its device reset, the scanout kept its last frame), shows
# the eight bars.
case_machine() {
  local name=machine img=$LOGS/machine-scratch.img png=$LOGS/machine.png
  rm -f "$img" "$png"
  truncate -s 64M "$img"
  boot $name 400 --memory size=512M --disk "path=$img" --gpu mode=2d --screenshot-on-exit "$png" \
    --cmdline "console=ttyS0 quiet phyllome.show=1 phyllome.action=poweroff"
  local rc=$?
  [ $rc -eq 0 ] || { bad $name "$(why $rc $name)"; return; }
  local d e f
  d=$(says $name "disk:")
  e=$(says $name "entropy:")
  f=$(says $name "framebuffer:")
  [[ $d == "vda ext4, 1 MiB file written and read back: same "* ]] || { bad $name "disk: $d"; return; }
  [[ $e == "virtio_rng.0, read 1048576 bytes from /dev/hwrng in "* ]] || { bad $name "entropy: $e"; return; }
  local values=${e%% byte values*}
  values=${values##* }
  [ "$values" -ge 250 ] 2>/dev/null || { bad $name "entropy: only $values byte values in 4 KiB"; return; }
  [ "$(says $name "rng=")" = virtio_rng.0 ] || { bad $name "rng_current: $(says $name "rng=")"; return; }
  [ "$f" = "1024x768, colour bars drawn" ] || { bad $name "framebuffer: $f"; return; }
  local size
  size=$(debugfs -R "stat /hello" "$img" 2>/dev/null | sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -1)
  [ "$size" = 1048576 ] || { bad $name "the image has no 1 MiB /hello (debugfs: size '$size')"; return; }
  local bars
  bars=$(python3 "$here/../gpu-guest-prog/check-screenshot.py" "$png" --size 1024x768 --pattern bars --tolerance 0)
  [ "$bars" = "ok 1024x768" ] || { bad $name "screenshot: ${bars:-no answer from the PNG check}"; return; }
  ok "$name (disk: $d; entropy: $e; framebuffer: $f; host: /hello 1 MiB in the image, PNG 1024x768 shows the bars)"
}

# The serial console on a terminal: raw mode, keys reach the guest's shell
# (UART receive interrupts), the terminal is restored after power-off.
case_interactive() {
  local name=interactive sock=/tmp/phy-e2e-tmux.$$ pane=$LOGS/interactive.pane
  command -v tmux >/dev/null || { bad $name "tmux is not installed"; return; }
  tmux -S "$sock" new-session -d -x 160 -y 50 \
    "stty -g >'$LOGS/stty.before'; '$VMM' --kernel '$KERNEL' --initramfs '$INITRD' --memory size=256M \
       --cmdline 'console=ttyS0 quiet phyllome.action=shell'; echo \$? >'$LOGS/interactive.rc';
     stty -g >'$LOGS/stty.after'; sleep 600"
  wait_pane() { # PATTERN SECONDS
    for _ in $(seq $(($2 * 2))); do
      tmux -S "$sock" capture-pane -p -S -200 >"$pane" 2>/dev/null
      grep -q -- "$1" "$pane" && return 0
      sleep 0.5
    done
    return 1
  }
  local why=""
  if ! wait_pane "PHYLLOME-GUEST: shell" 150; then
    why="no shell marker"
  else
    sleep 2
    tmux -S "$sock" send-keys 'echo hello-$((6*7))' Enter
    wait_pane "^hello-42" 60 || why="typed command did not run"
    tmux -S "$sock" send-keys 'poweroff -f' Enter
    for _ in $(seq 120); do [ -s "$LOGS/interactive.rc" ] && break; sleep 0.5; done
  fi
  tmux -S "$sock" kill-server 2>/dev/null
  [ -z "$why" ] || { bad $name "$why (screen: $(tail -3 "$pane" | tr '\n' '|'))"; return; }
  [ "$(cat "$LOGS/interactive.rc" 2>/dev/null)" = 0 ] || { bad $name "exit status $(cat "$LOGS/interactive.rc" 2>/dev/null) after poweroff, want 0"; return; }
  cmp -s "$LOGS/stty.before" "$LOGS/stty.after" || { bad $name "terminal settings not restored"; return; }
  ok "$name (typed a command into the guest shell, exit 0, terminal restored)"
}

# --serial pty and --console socket= (virtio-console, hvc0): a host-side
# client on each, typing into the guest's shells, across a guest reboot
# (tests/e2e/console-check.py).
case_consoles() {
  local out
  out=$(python3 "$(dirname "$0")/console-check.py" "$VMM" "$KERNEL" "$INITRD" "$LOGS/consoles")
  if [ $? = 0 ]; then ok "consoles ($out)"; else bad consoles "$out"; fi
}

# Guest RAM of each kind: 4 KiB pages, a shared memfd, and (4 GiB, both
# sides of the hole) the default private memory on huge pages.
case_boot_1cpu_256m() { boot_case boot-1cpu-256m 1 256M,thp=off 180000 262144 off; }
# Its vCPUs bound by --cpus affinity=: two to one host CPU each, one to
# both (a range), the last left free; checked from L1's /proc.
case_boot_4cpu() {
  local last=$(($(nproc) - 1)) all want
  all=0-$last
  [ "$last" -eq 0 ] && all=0
  boot_case boot-4cpu 4 512M,shared=on 400000 524288 "" "[0@[0],1@[$last],2@[$all]]"
  want=$(printf 'vcpu0 0\nvcpu1 %s\nvcpu2 %s\nvcpu3 %s' "$last" "$all" "$all")
  if [ "$(cat "$LOGS/boot-4cpu.vcpus")" = "$want" ]; then
    ok "boot-4cpu-affinity ($(tr '\n' ' ' <"$LOGS/boot-4cpu.vcpus"))"
  else
    bad boot-4cpu-affinity "vCPU threads' CPUs: $(tr '\n' ' ' <"$LOGS/boot-4cpu.vcpus"), want $(echo "$want" | tr '\n' ' ')"
  fi
}
case_boot_4g()        { boot_case boot-4g 2 4G 3800000 4194304; }

suite_run
