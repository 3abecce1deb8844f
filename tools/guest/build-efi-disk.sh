#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds disk images for firmware boot from Debian packages only (cached):
#   esp.img   a GPT disk with one EFI system partition (FAT32) holding GRUB
#             as the removable-media boot loader (EFI/BOOT/BOOTX64.EFI, made
#             with grub-mkstandalone from grub-efi-amd64-bin, its grub.cfg
#             inside) and the default guest's kernel and initramfs
#             (build-guest.sh): what any UEFI firmware boots with no boot
#             entry at all. GRUB prints a marker on the serial console, then
#             boots the kernel with `console=ttyS0` and the command line given.
# Rebuilt only when its inputs change (the guest, GRUB, this script, the
# command line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
  cat <<EOF
usage: build-efi-disk.sh [--extra DIR] [--cmdline STRING] [--print-dir]
  --extra DIR       the guest's extra files (build-guest.sh --extra)
  --cmdline STRING  the kernel's command line after console=ttyS0
                    (default "quiet phyllome.show=1 phyllome.action=poweroff":
                    the guest uses its devices and says so, then powers off)
  --print-dir       print only the output directory
Output: DIR/esp.img (a GPT disk, 128 MiB), in
\${PHYLLOME_CACHE:-\$HOME/.cache/phyllome-vmm}/efi-disk-<hash>.
GRUB's marker on the serial console: "PHYLLOME-GRUB: booting".
EOF
}
die() { echo "build-efi-disk.sh: $*" >&2; exit 1; }
extra=() cmdline="quiet phyllome.show=1 phyllome.action=poweroff" quiet=0
while [ $# -gt 0 ]; do
  case $1 in
    --extra) [ -d "${2:-}" ] || die "--extra: '${2:-}' is not a directory"; extra=(--extra "$2"); shift 2 ;;
    --cmdline) [ $# -ge 2 ] || die "--cmdline needs a string"; cmdline=$2; shift 2 ;;
    --print-dir) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for t in grub-mkstandalone sgdisk mkfs.vfat mcopy mmd; do
  command -v "$t" >/dev/null || die "'$t' not found (tools/install-deps: grub-efi-amd64-bin, gdisk, dosfstools, mtools)"
done
[ -d /usr/lib/grub/x86_64-efi ] || die "no /usr/lib/grub/x86_64-efi (Debian package grub-efi-amd64-bin)"

guest=$("$here/build-guest.sh" "${extra[@]}" --print-dir) || die "cannot build the guest"
cache=${PHYLLOME_CACHE:-$HOME/.cache/phyllome-vmm}
inputs=$( (sha256sum "$guest/vmlinuz" "$guest/initrd.img" "$0" "$(command -v grub-mkstandalone)"
           dpkg-query -W grub-efi-amd64-bin 2>/dev/null; echo "$cmdline") | sha256sum | cut -c1-16)
out=$cache/efi-disk-$inputs
if [ -f "$out/.stamp" ]; then
  [ $quiet = 1 ] && echo "$out" || echo "build-efi-disk.sh: cached in $out"
  exit 0
fi

tmp=$(mktemp -d "$cache/efi-disk.tmp.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
echo "PHYLLOME-GRUB: booting"
linux /vmlinuz console=ttyS0 $cmdline
initrd /initrd.img
boot
EOF
# The modules the config needs, built in: the image reads its own ESP.
mods="part_gpt fat linux serial terminal echo normal configfile"
grub-mkstandalone -O x86_64-efi -o "$tmp/BOOTX64.EFI" --modules="$mods" \
  --install-modules="$mods" --locales= --fonts= --themes= \
  "boot/grub/grub.cfg=$tmp/grub.cfg" || die "grub-mkstandalone failed"

# 128 MiB disk, ESP from 1 MiB to the end (partition type EF00).
disk=$tmp/esp.img esp=$tmp/esp.fat
truncate -s 128M "$disk"
sgdisk -o -n 1:2048:0 -t 1:EF00 -c 1:ESP "$disk" >/dev/null || die "sgdisk failed"
start=$(sgdisk -i 1 "$disk" | awk '/First sector/ {print $3}')
end=$(sgdisk -i 1 "$disk" | awk '/Last sector/ {print $3}')
truncate -s $(((end - start + 1) * 512)) "$esp"
mkfs.vfat -F 32 -s 1 -n PHYESP "$esp" >/dev/null || die "mkfs.vfat failed"
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$guest/vmlinuz" ::/vmlinuz
mcopy -i "$esp" "$guest/initrd.img" ::/initrd.img
dd if="$esp" of="$disk" bs=512 seek="$start" conv=notrunc status=none
rm -f "$esp"
echo "$inputs" >"$tmp/.stamp"
mkdir -p "$cache"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
[ $quiet = 1 ] && echo "$out" || echo "build-efi-disk.sh: built $out"
