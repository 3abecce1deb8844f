#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Firmware boot on this machine's /dev/kvm: platform-fw.S (a 64 KiB image)
# as --firmware with a variables file, checked from its COM1 report (the
# platform it finds, a guest reset, power off through PM1 control: exit 0)
# and from the variables file (what it programmed into the flash is there,
# and a second VMM run finds it). Also what the CLI refuses.
# The same image with its store inside (OVMF.fd's layout): a variables
# file made from that store and laid over it.
# Usage: test-firmware.sh VMM FIRMWARE_BIN OVERLAY_FIRMWARE_BIN WORKDIR
set -uo pipefail
vmm=$1 fw=$2 fw_overlay=$3 work=$4
mkdir -p "$work"
. "$(dirname "$0")/tap.sh"

# An 8 KiB UEFI variable store: erased flash under a firmware volume header
# with the NV-data GUID and its length.
tmpl=$work/vars-template.fd vars=$work/vars.fd
python3 - "$tmpl" <<'PY'
import struct, sys
b = bytearray(b"\xff" * 0x2000)
b[0:0x48] = bytes(0x48)
b[0x10:0x20] = bytes.fromhex("8d2bf1ff96768b4ca9852747075b4f50")
b[0x20:0x28] = struct.pack("<Q", len(b))
b[0x28:0x2c] = b"_FVH"
open(sys.argv[1], "wb").write(b)
PY
rm -f "$vars"
byte_at() { od -An -tx1 -j "$2" -N1 "$1" | tr -d ' '; }

run() { # NAME: one VMM run, serial in WORK/NAME.log
  timeout -k 5 120 "$vmm" --firmware "path=$fw,vars=$vars,vars_template=$tmpl" \
    --memory size=64M --rng off --serial "file=$work/$1.log" 2>"$work/$1.err"
}
line() { grep -a "^FW: $2" "$work/$1.log" | sed -n "${3:-1}p" | sed "s/^FW: $2 *//"; }

run first
rc=$?
[ $rc = 0 ]; check "powers off through PM1 control: exit 0" $? "exit $rc: $(tail -1 "$work/first.err")"
[ "$(line first ids)" = "12378086 70008086 71138086" ]; check "i440FX host bridge, PIIX3 ISA bridge, PIIX4 PM" $? "ids: '$(line first ids)'"
grep -aq "^FW: pm timer runs" "$work/first.log"; check "the PM timer runs at PMBA 0xB000" $? "$(grep -a 'pm timer' "$work/first.log")"
[ "$(line first 'fw_cfg signature')" = QEMU ] && [ "$(line first 'fw_cfg id')" = 00000003 ]
check "fw_cfg: signature and ID (DMA) on the data port" $? "'$(line first 'fw_cfg signature')' '$(line first 'fw_cfg id')'"
[ "$(line first 'fw_cfg cpus')" = "00000000 00000001" ]; check "fw_cfg DMA: the CPU count" $? "'$(line first 'fw_cfg cpus')'"
[ "$(line first e820)" = "00000014 04000000 00000001" ]; check "fw_cfg: etc/e820 found in the directory, 64 MiB of RAM" $? "'$(line first e820)'"
[ "$(line first cmos)" = "00000300 00000080" ]; check "CMOS: RAM above 16 MiB in 64 KiB units, valid time" $? "'$(line first cmos)'"
grep -aq "^FW: rom read-only" "$work/first.log"; check "the firmware ROM ignores writes" $? "$(grep -a 'FW: rom' "$work/first.log")"
[ "$(line first flash)" = "000000ff 0000008d 00000000 00000080 0000005a 000000ff 000000a5" ]
check "flash: OVMF's probe, program, erase, program" $? "'$(line first flash)'"
[ "$(line first flash 2)" = "000000a5 0000008d 00000000 00000080 0000005a 000000ff 000000a5" ] &&
  grep -aq "^FW: resetting" "$work/first.log" && grep -aq "^FW: powering off" "$work/first.log"
check "a guest reset keeps the flash and the CMOS NVRAM" $? "second boot: '$(line first flash 2)'"
[ "$(stat -c %s "$vars" 2>/dev/null)" = 8192 ] && [ "$(byte_at "$vars" 4100)" = a5 ] &&
  [ "$(byte_at "$vars" 4096)" = ff ] && [ "$(byte_at "$vars" 16)" = 8d ] && cmp -s <(head -c 16 "$tmpl") <(head -c 16 "$vars")
check "the variables file was created from the template and holds what was programmed" $? "$(od -An -tx1 -j 4096 -N8 "$vars" 2>&1)"
[ "$(byte_at "$tmpl" 4100)" = ff ]; check "the template is untouched" $? "template byte 0x1004: $(byte_at "$tmpl" 4100)"

run second
rc=$?
[ $rc = 0 ] && [ "$(line second flash | cut -d' ' -f1)" = 000000a5 ]
check "a new VMM on the same variables file finds them" $? "exit $rc, flash '$(line second flash)'"

# The store inside the image: the file is made from it and laid over it.
rm -f "$work/overlay.fd"
timeout -k 5 120 "$vmm" --firmware "path=$fw_overlay,vars=$work/overlay.fd" \
  --memory size=64M --rng off --serial "file=$work/overlay.log" 2>"$work/overlay.err"
rc=$?
[ $rc = 0 ] && [ "$(line overlay flash)" = "000000ff 0000008d 00000000 00000080 0000005a 000000ff 000000a5" ] &&
  [ "$(stat -c %s "$work/overlay.fd")" = 8192 ] && [ "$(byte_at "$work/overlay.fd" 4100)" = a5 ] &&
  cmp -s <(head -c 4096 "$fw_overlay") <(head -c 4096 "$work/overlay.fd")
check "variables over the image's own store (OVMF.fd's layout)" $? "exit $rc, flash '$(line overlay flash)'"

# A variables file another VMM holds (its lock: flock(2), as flock(1)
# takes it) is refused.
exec {lockfd}<>"$vars"
flock -n "$lockfd"
"$vmm" --firmware "path=$fw,vars=$vars" --serial off 2>"$work/locked.err"
rc=$?
exec {lockfd}>&-
[ $rc = 2 ] && grep -q -- "--firmware: vars file '.*' is in use by another VM" "$work/locked.err"
check "a variables file in use is refused (exit 2)" $? "exit $rc: $(cat "$work/locked.err")"

# Debian's OVMF images are taken as they are (their variables created
# from the OVMF_VARS file beside the code); what is no firmware is refused
# with one line naming --firmware, exit 2, and nothing written.
code4m=/usr/share/OVMF/OVMF_CODE_4M.fd vars4m=/usr/share/OVMF/OVMF_VARS_4M.fd
if [ -f "$code4m" ] && [ -f "$vars4m" ]; then
  rm -f "$work/ovmf-vars.fd"
  timeout -k 2 3 "$vmm" --firmware "path=$code4m,vars=$work/ovmf-vars.fd" --serial null --rng off 2>"$work/ovmf.err"
  rc=$?
  [ $rc != 2 ] && cmp -s "$work/ovmf-vars.fd" "$vars4m"
  check "OVMF_CODE_4M.fd starts, its variables created from OVMF_VARS_4M.fd" $? "exit $rc: $(tail -1 "$work/ovmf.err")"
else
  check "Debian's ovmf package is installed (tools/install-deps)" 1 "no $code4m or $vars4m"
fi
printf 'not firmware' >"$work/junk.fd"
head -c 65536 /dev/zero >"$work/zeros.fd"
# 17 MiB (sparse) with a reset vector: more than fits below 4 GiB.
rm -f "$work/big.fd"
truncate -s 17M "$work/big.fd"
printf '\x90\x90\xe9\x00\x00' | dd of="$work/big.fd" bs=1 seek=$((17 * 1024 * 1024 - 16)) conv=notrunc status=none
bad_firmware() { # NAME VALUE EXPECTED
  "$vmm" --firmware "$2" --serial off >"$work/bad.out" 2>"$work/bad.err"
  local rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$work/bad.err")" = 1 ] && grep -qF -- "$3" "$work/bad.err"
  check "bad --firmware: $1" $? "exit $rc: $(cat "$work/bad.err")"
}
bad_firmware missing "$work/missing.fd" "--firmware: cannot open"
bad_firmware "not pages" "$work/junk.fd" "--firmware: 12 bytes is not a firmware image"
bad_firmware "no reset vector" "$work/zeros.fd" "--firmware: not a firmware image (no reset vector"
bad_firmware "too large" "path=$work/big.fd" "--firmware: 17825792 bytes do not fit below 4 GiB"
bad_firmware "vars not a store" "path=$fw,vars=$work/junk.fd" "--firmware: vars: not a UEFI variable store"
bad_firmware "template not a store" "path=$fw,vars=$work/new.fd,vars_template=$work/junk.fd" \
  "--firmware: vars_template: not a UEFI variable store"
bad_firmware "vars of the wrong size" "path=/usr/share/ovmf/OVMF.fd,vars=$work/new.fd,vars_template=$tmpl" \
  "--firmware: the variables file has 8192 bytes but the image's own variable store has 131072"
bad_firmware "unknown key" "path=$fw,bios=x" "--firmware: unknown key 'bios'"
[ ! -e "$work/new.fd" ]; check "bad --firmware values write no variables file" $? "$work/new.fd exists"
"$vmm" --firmware "$fw" --kernel "$fw" --serial off 2>"$work/bad.err"
rc=$?
[ $rc = 2 ] && grep -q -- "--firmware: cannot be combined with --kernel" "$work/bad.err"
check "--firmware with --kernel is refused" $? "exit $rc: $(cat "$work/bad.err")"

tap_done test-firmware
