#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of firmware boot: Debian's OVMF under phyllome-vmm
# --firmware, in the rig (L1 on QEMU 10: QEMU 7.2's TCG aborts on OVMF
# guests, docs/testing.md). The guest side is the UEFI shell: its prompt,
# and startup.nsh scripts on FAT disks made here with mtools, which print
# markers on the serial console and end with `reset -s` (power off: the
# VMM exits 0) or `reset` (a reboot). The host side: exit status, the
# variables file, the PNG of the firmware's screen.
#
#   shell        OVMF.fd alone reaches the UEFI shell's prompt on COM1
#   startup-nsh  a FAT disk's startup.nsh runs, prints a marker and powers
#                off with `reset -s`: exit 0
#   reboot       `reset` reboots the VM under the firmware, which boots
#                again and runs the script's second branch (a file the
#                first boot wrote to the disk): exit 0
#   vars         OVMF_CODE_4M.fd with vars=FILE (created from
#                OVMF_VARS_4M.fd): `bcfg boot add` writes a boot entry,
#                the VMM exits; a second VMM on the same FILE lists it
#   screen       --gpu mode=2d: the firmware's GOP on virtio-gpu; the
#                --screenshot-on-exit PNG shows the shell (not blank)
#   ipxe         a non-Linux guest: iPXE's EFI binary (Debian's ipxe,
#                snponly.efi: through the firmware's virtio-net driver)
#                starts and sees the NIC
#   grub         the GPT disk of tools/guest/build-efi-disk.sh: the firmware
#                boots GRUB from its ESP (no boot entry), GRUB the default
#                guest's kernel, which finds its disks, the NIC and the GPU
#                and powers off: exit 0
#
# NOT IN CI: any OVMF guest that runs a while in the rig aborts the rig's
# L1 QEMU (7.2 and 10.0 alike: docs/testing.md, "Firmware guests in the
# rig"), so e2e.firmware exists only with -DPHYLLOME_E2E_FIRMWARE=ON.
# payload.firmware tests the firmware platform on this machine instead.
#
# GUEST_DIR is build-efi-disk.sh's output (esp.img).
# Usage: firmware-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="shell startup-nsh reboot vars screen ipxe grub"
MARK=PHYLLOME-FW
suite_args "$@"
VMM=$1
OVMF=/usr/share/ovmf/OVMF.fd
CODE4M=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS4M=/usr/share/OVMF/OVMF_VARS_4M.fd

# fw NAME TIMEOUT ARGS...: the VMM on OVMF.fd (unless ARGS give another
# --firmware), serial to LOGS/NAME.log.
fw() {
  local name=$1 t=$2
  shift 2
  local firmware=(--firmware "$OVMF")
  case " $* " in *" --firmware "*) firmware=() ;; esac
  timeout -k 5 "$t" "$VMM" "${firmware[@]}" --memory size=512M \
    --serial "file=$LOGS/$name.log" "$@" 2>"$LOGS/$name.err"
}

# fat NAME SCRIPT [FILE...]: LOGS/NAME.img, a FAT disk whose startup.nsh
# is SCRIPT (lines, CRLF as the shell likes them), with FILEs beside it.
fat() {
  local img=$LOGS/$1.img script=$2 f
  shift 2
  rm -f "$img"
  truncate -s 32M "$img"
  mkfs.vfat -n PHYFW "$img" >/dev/null || return 1
  printf '%s' "$script" | awk '{ printf "%s\r\n", $0 }' >"$LOGS/startup.nsh"
  mcopy -i "$img" "$LOGS/startup.nsh" ::/startup.nsh || return 1
  for f in "$@"; do mcopy -i "$img" "$f" ::/ || return 1; done
}

# The shell's output carries terminal escapes between words: markers are
# looked up with them taken out.
plain() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$LOGS/$1.log" 2>/dev/null | tr -d '\r'; }
shows() { plain "$1" | grep -aq -- "$2"; }
tail_of() { plain "$1" | grep -a . | tail -2 | tr '\n' ' ' | cut -c1-200; }

case_shell() {
  local t0=$SECONDS
  fw shell 200 --rng off &
  local pid=$!
  while kill -0 $pid 2>/dev/null && ! shows shell "Shell>"; do sleep 1; done
  local at=$((SECONDS - t0))
  kill $pid 2>/dev/null
  wait $pid 2>/dev/null
  shows shell "Shell>" || { bad shell "no Shell> prompt after $at s: $(tail_of shell) / $(tail -1 "$LOGS/shell.err")"; return; }
  ok "shell (Shell> on COM1 after $at s)"
}

case_startup_nsh() {
  local rc t0=$SECONDS
  fat startup-nsh "echo $MARK startup ran
reset -s" || { bad startup-nsh "cannot make the FAT disk"; return; }
  fw startup-nsh 300 --disk "path=$LOGS/startup-nsh.img"
  rc=$?
  shows startup-nsh "$MARK startup ran" || { bad startup-nsh "no marker (exit $rc): $(tail_of startup-nsh) / $(tail -1 "$LOGS/startup-nsh.err")"; return; }
  [ $rc -eq 0 ] || { bad startup-nsh "exit $rc after reset -s, want 0: $(tail -1 "$LOGS/startup-nsh.err")"; return; }
  ok "startup-nsh (marker, reset -s: exit 0 after $((SECONDS - t0)) s)"
}

case_reboot() {
  local rc t0=$SECONDS
  fat reboot "if exist fs0:\\rebooted then
  echo $MARK second boot
  reset -s
endif
echo $MARK first boot
echo x > fs0:\\rebooted
reset" || { bad reboot "cannot make the FAT disk"; return; }
  fw reboot 400 --disk "path=$LOGS/reboot.img"
  rc=$?
  shows reboot "$MARK first boot" || { bad reboot "no first-boot marker (exit $rc): $(tail_of reboot)"; return; }
  shows reboot "$MARK second boot" || { bad reboot "no second boot after reset (exit $rc): $(tail_of reboot)"; return; }
  [ $rc -eq 0 ] || { bad reboot "exit $rc, want 0: $(tail -1 "$LOGS/reboot.err")"; return; }
  ok "reboot (reset rebooted under the firmware, which booted again: exit 0 after $((SECONDS - t0)) s)"
}

case_vars() {
  local rc vars=$LOGS/vars.fd t0=$SECONDS
  rm -f "$vars"
  fat vars-add "bcfg boot add 0 fs0:\\memtest.efi \"PhyllomeTest\"
echo $MARK added
reset -s" /boot/memtest86+x64.efi || { bad vars "cannot make the FAT disk"; return; }
  fw vars-add 300 --firmware "path=$CODE4M,vars=$vars" --disk "path=$LOGS/vars-add.img"
  rc=$?
  [ $rc -eq 0 ] && shows vars-add "$MARK added" || { bad vars "first run: exit $rc: $(tail_of vars-add) / $(tail -1 "$LOGS/vars-add.err")"; return; }
  [ "$(stat -c %s "$vars" 2>/dev/null)" = 540672 ] || { bad vars "no 540672-byte $vars after the first run"; return; }
  cmp -s "$vars" "$VARS4M" && { bad vars "$vars is still the template: nothing reached the file"; return; }
  fat vars-list "echo $MARK listing
bcfg boot dump
reset -s" || { bad vars "cannot make the second FAT disk"; return; }
  fw vars-list 300 --firmware "path=$CODE4M,vars=$vars" --disk "path=$LOGS/vars-list.img"
  rc=$?
  shows vars-list "$MARK listing" || { bad vars "second run: exit $rc: $(tail_of vars-list)"; return; }
  shows vars-list "PhyllomeTest" || { bad vars "the boot entry is gone after a restart: $(plain vars-list | grep -a Boot | head -3 | tr '\n' ' ')"; return; }
  [ $rc -eq 0 ] || { bad vars "second run: exit $rc"; return; }
  ok "vars (bcfg boot entry kept in the variables file across VMM runs, $((SECONDS - t0)) s)"
}

case_screen() {
  local rc stats w h colours lit
  fat screen "echo $MARK on screen
reset -s" || { bad screen "cannot make the FAT disk"; return; }
  fw screen 300 --disk "path=$LOGS/screen.img" --gpu mode=2d \
    --screenshot-on-exit "$LOGS/screen.png"
  rc=$?
  [ $rc -eq 0 ] || { bad screen "exit $rc: $(tail -1 "$LOGS/screen.err")"; return; }
  stats=$(python3 "$here/png-stats.py" "$LOGS/screen.png") || { bad screen "screenshot: $stats"; return; }
  read -r w colours lit <<<"$stats"
  h=${w#*x} w=${w%x*}
  [ "$w" -ge 640 ] && [ "$h" -ge 480 ] || { bad screen "screenshot is ${w}x$h"; return; }
  [ "$colours" -ge 2 ] && [ "$lit" -ge 1 ] || { bad screen "the screenshot is blank ($colours colours, $lit% lit)"; return; }
  ok "screen (the firmware's screen ${w}x$h: $colours colours, $lit% lit)"
}

case_ipxe() {
  local efi=/usr/lib/ipxe/snponly.efi tap=phyfw0
  [ -f "$efi" ] || { bad ipxe "no $efi (tools/install-deps installs ipxe)"; return; }
  fat ipxe "echo $MARK starting ipxe
fs0:\\snponly.efi" "$efi" || { bad ipxe "cannot make the FAT disk"; return; }
  fw ipxe 300 --disk "path=$LOGS/ipxe.img" --net "tap=$tap" --rng off &
  local pid=$! t0=$SECONDS
  while kill -0 $pid 2>/dev/null && ! shows ipxe "iPXE>" && ! shows ipxe "No configuration methods succeeded" &&
    [ $((SECONDS - t0)) -lt 280 ]; do sleep 1; done
  kill $pid 2>/dev/null
  wait $pid 2>/dev/null
  ip link del "$tap" 2>/dev/null
  shows ipxe "iPXE initialising devices" || { bad ipxe "iPXE did not start: $(tail_of ipxe)"; return; }
  local nic
  nic=$(plain ipxe | grep -aoE "net0: [0-9a-f:]{17} using [^ ]+" | head -1)
  [ -n "$nic" ] || { bad ipxe "iPXE found no NIC: $(tail_of ipxe)"; return; }
  ok "ipxe (iPXE's EFI binary started through the firmware: $nic)"
}

case_grub() {
  local rc t0=$SECONDS
  rm -f "$LOGS/scratch.img"
  truncate -s 64M "$LOGS/scratch.img"
  fw grub 400 --cpus boot=2 --disk "path=$LOGS/scratch.img" \
    --disk "path=$GUEST/esp.img,readonly=on" --net tap=phyfw1 --gpu mode=2d
  rc=$?
  ip link del phyfw1 2>/dev/null
  shows grub "PHYLLOME-GRUB: booting" || { bad grub "GRUB did not start (exit $rc): $(tail_of grub)"; return; }
  shows grub "PHYLLOME-GUEST: init started" || { bad grub "the kernel did not reach init (exit $rc): $(tail_of grub)"; return; }
  local virtio disk fb
  virtio=$(plain grub | sed -n 's/^PHYLLOME-GUEST: virtio=//p' | head -1)
  disk=$(plain grub | grep -a "^PHYLLOME-GUEST: disk:" | head -1)
  fb=$(plain grub | grep -a "^PHYLLOME-GUEST: framebuffer:" | head -1)
  # virtio ids: 2 blk, 1 net, 16 gpu.
  [[ " $virtio " == *":2 "* && " $virtio " == *":1 "* && " $virtio " == *":16 "* ]] ||
    { bad grub "the guest's virtio devices: '$virtio'"; return; }
  [[ $disk == *"read back: same"* ]] || { bad grub "$disk"; return; }
  [[ $fb == *"colour bars drawn"* ]] || { bad grub "$fb"; return; }
  [ $rc -eq 0 ] || { bad grub "exit $rc after the guest's poweroff: $(tail -1 "$LOGS/grub.err")"; return; }
  ok "grub (firmware -> GRUB -> Linux init in $((SECONDS - t0)) s; virtio: $virtio; exit 0)"
}

suite_run
