#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a busybox initramfs (gzip'd newc cpio): busybox-static, /dev/console,
# INIT as /init, the named kernel modules with their dependencies, and the
# contents of extra directories. Shared by build-guest.sh and tools/rig/rig-run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
  cat <<EOF
usage: mkinitramfs.sh OUT.cpio.gz KERNEL_DIR INIT [--extra DIR | --bin PATH]... [MODULE...]
  KERNEL_DIR  what fetch-kernel.sh prints
  INIT        script installed as /init
  --extra DIR copy DIR's contents into the initramfs root (repeatable)
  --bin PATH  copy this machine's dynamically linked program PATH to the same
              path, with the shared libraries ldd lists (repeatable)
  MODULE      module names; their dependencies come along. Built-in or absent
              ones are skipped (listed on stderr). The load order is written
              to /etc/modules.order (one path a line) and a modules.dep is
              generated so busybox modprobe works too.
EOF
}
die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -ge 3 ] || die "need OUT KERNEL_DIR INIT (see --help)"
out=$1 kdir=$2 init=$3
shift 3
extras=() bins=()
while :; do
  case ${1:-} in
    --extra) [ -d "${2:-}" ] || die "--extra: '${2:-}' is not a directory"
             extras+=("$2"); shift 2 ;;
    --bin) [ -x "${2:-}" ] || die "--bin: '${2:-}' is not an executable"
           bins+=("$2"); shift 2 ;;
    *) break ;;
  esac
done

busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# (grep without -q: busybox writes applet by applet and would die of SIGPIPE)
"$busybox" --list | grep -x insmod >/dev/null || die "$busybox lacks insmod: install busybox-static"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is dynamically linked: install busybox-static"
release=$(cat "$kdir/release")
moddir=$kdir/root/lib/modules/$release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,mnt,root,lib/modules/"$release"}
cp "$busybox" "$root/bin/busybox"
# Applet links in the image, so /init's #! and PATH work before it runs anything.
"$busybox" --list-full | grep -vx bin/busybox | while read -r a; do ln -s /bin/busybox "$root/$a"; done
install -m 755 "$init" "$root/init"

mods=$root/lib/modules/$release
: >"$root/etc/modules.order"
for rel in $("$here/modules-closure.sh" "$moddir" "$@"); do
  dst=$mods/${rel%.ko*}.ko
  mkdir -p "$(dirname "$dst")"
  # busybox insmod cannot decompress; Debian 12 ships plain .ko, later releases .ko.xz/.zst.
  case $rel in
    *.ko) cp "$moddir/$rel" "$dst" ;;
    *.ko.xz) xz -dc "$moddir/$rel" >"$dst" ;;
    *.ko.zst) zstd -qdc "$moddir/$rel" >"$dst" ;;
    *.ko.gz) gzip -dc "$moddir/$rel" >"$dst" ;;
    *) die "unknown module format: $rel" ;;
  esac
  echo "${dst#"$root"}" >>"$root/etc/modules.order"
done
for m in "$@"; do
  grep -q "/${m//[-_]/[-_]}\.ko\$" "$root/etc/modules.order" ||
    echo "mkinitramfs.sh: note: module $m is built in or absent in $release" >&2
done
sed "s|^/lib/modules/$release/||" "$root/etc/modules.order" >"$mods/modules.order"
cp "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo "$mods/" 2>/dev/null || true
depmod -b "$root" "$release"
for b in "${bins[@]}"; do
  # Programs from Debian packages, with their libraries at the same paths
  # (the loader's too), so they run in the guest unchanged.
  for f in "$b" $(ldd "$b" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$f")"
    # Never through an applet link (-> /bin/busybox): that would write
    # through it to this machine's busybox.
    rm -f "$root$f"
    cp -L "$f" "$root$f"
  done
done
for d in "${extras[@]}"; do
  cp -a "$d/." "$root/"
done

# /dev/console must exist before /init runs (the kernel opens it for init's
# stdio). Rather than mknod, which needs root, append a second cpio archive
# whose one entry is that character device: the kernel unpacks concatenated
# archives in turn.
newc() { # NAME MODE(octal) RDEV_MAJOR RDEV_MINOR
  local n=$(( ${#1} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
    0 $((8#$2)) 0 0 1 0 0 0 0 "$3" "$4" "$n" 0 "$1"
  printf '%*s' $(( (4 - (110 + n) % 4) % 4 )) '' | tr ' ' '\0'
}
{
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0)
  newc dev/console 020600 5 1
  newc TRAILER!!! 0 0 0
} | gzip -6 >"$work/out.cpio.gz"
mv "$work/out.cpio.gz" "$out"
