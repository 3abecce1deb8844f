#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the default guest from Debian packages only: Debian's generic amd64
# kernel and a busybox initramfs whose /init (tools/guest/init) loads the
# virtio modules and reports what the guest sees. Cached: rebuilt only when
# the kernel package, busybox, these scripts or the extra directory change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
  cat <<EOF
usage: build-guest.sh [--out DIR] [--extra-dir DIR] [--print-dir]
  --out DIR        output directory (default \${PHYLLOME_CACHE:-\$HOME/.cache/phyllome-vmm}/guest,
                   or guest-<hash> next to it with --extra-dir)
  --extra-dir DIR  copy DIR's contents into the initramfs root, e.g. hooks in
                   DIR/etc/phyllome.d/*.sh that /init runs before its action
  --print-dir      print only the output directory
Output: DIR/vmlinuz (bzImage), DIR/initrd.img (gzip'd newc cpio),
DIR/vmlinux (the same kernel as an ELF with a PVH entry; a link),
DIR/kernel-dir -> the fetch-kernel.sh cache (config, root/lib/modules/).
EOF
}
die() { echo "build-guest.sh: $*" >&2; exit 1; }
out="" extra="" quiet=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --extra-dir|--extra)
      [ -d "${2:-}" ] || die "$1: '${2:-}' is not a directory"
      extra=$(cd "$2" && pwd); shift 2 ;;
    --print-dir) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

cache=${PHYLLOME_CACHE:-$HOME/.cache/phyllome-vmm}
kdir=$("$here/fetch-kernel.sh") || die "cannot fetch the kernel"
# Debian builds all of these as modules (ext4 too); crc32c_generic is only a
# soft dependency of ext4, so modules.dep does not bring it. button and
# evdev: the ACPI power button as an input device that /init's acpid reads.
MODULES="virtio_pci virtio_mmio virtio_blk virtio_net virtio_console virtio_input
         virtio_gpu virtio_balloon virtio_rng vmw_vsock_virtio_transport virtiofs
         ext4 crc32c_generic button evdev"
inputs=$( (cat "$kdir/.stamp" "$here/init" "$here/mkinitramfs.sh" "$here/modules-closure.sh" "$0"
           sha256sum "$(command -v busybox)" /sbin/mke2fs
           echo "$MODULES"
           if [ -n "$extra" ]; then (cd "$extra" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -r0 sha256sum); fi) |
         sha256sum | cut -c1-16)
if [ -z "$out" ]; then
  out=$cache/guest
  if [ -n "$extra" ]; then out=$cache/guest-$inputs; fi
fi
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$inputs" ]; then
  [ $quiet = 1 ] || echo "build-guest.sh: building the default guest in $out" >&2
  # mkfs.ext4 for the disk tests (busybox has only mkfs.ext2); /init links
  # the name, as mke2fs picks the file system by the name it runs under.
  args=(--bin /sbin/mke2fs)
  if [ -n "$extra" ]; then args+=(--extra "$extra"); fi
  # shellcheck disable=SC2086
  "$here/mkinitramfs.sh" "$out/initrd.img.tmp" "$kdir" "$here/init" "${args[@]}" $MODULES 2>"$out/build.log" ||
    die "mkinitramfs.sh failed: $(tail -1 "$out/build.log")"
  cp -L "$kdir/vmlinuz" "$out/vmlinuz.tmp"
  # Renames, so a VMM that has the old files open keeps reading them intact.
  mv "$out/initrd.img.tmp" "$out/initrd.img"
  mv "$out/vmlinuz.tmp" "$out/vmlinuz"
  ln -sfn "$kdir" "$out/kernel-dir"
  if [ -f "$kdir/vmlinux" ]; then ln -sfn kernel-dir/vmlinux "$out/vmlinux"; fi
  echo "$inputs" >"$out/.stamp"
fi
echo "$out"
