#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Firmware boot on this machine's /dev/kvm: platform-fw.S (a 64 KiB image)
# as --firmware with a variables file, checked from its COM1 report (the
# platform it finds, a guest reset, power off through PM1 control: exit 0)
# and from the variables file (what it programmed into the flash is there,
# and a second VMM run finds it). Also what the CLI refuses.
# Usage: test-firmware.sh VMM FIRMWARE_BIN WORKDIR
set -uo pipefail
vmm=$1 fw=$2 work=$3
mkdir -p "$work"
pass=0 fail=0
check() { # NAME STATUS MESSAGE
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}

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

# A variables file another VMM holds (its lock: flock(2), as flock(1)
# takes it) is refused.
exec {lockfd}<>"$vars"
flock -n "$lockfd"
"$vmm" --firmware "path=$fw,vars=$vars" --serial off 2>"$work/locked.err"
rc=$?
exec {lockfd}>&-
[ $rc = 2 ] && grep -q -- "--firmware: vars file '.*' is in use by another VM" "$work/locked.err"
check "a variables file in use is refused (exit 2)" $? "exit $rc: $(cat "$work/locked.err")"

echo "test-firmware: $pass passed, $fail failed"
[ $fail = 0 ]
