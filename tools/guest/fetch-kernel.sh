#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian's generic amd64 kernel (the package linux-image-amd64 depends
# on) into the cache and prints the directory that holds it. Shared by the
# default guest (tools/guest/build-guest.sh) and the test rig's L1
# (tools/rig/rig-run), which must boot the very same kernel.
#
# Layout of the printed directory:
#   vmlinuz   the bzImage             release   `uname -r` of that kernel
#   vmlinux   the ELF inside it (PVH entry), when it could be extracted
#   config    its .config             root/     the dpkg -x tree, with
#                                               root/lib/modules/<release>/
#                                               (depmod already run)
set -euo pipefail

usage() {
  cat <<EOF
usage: fetch-kernel.sh [--print-dir]
Downloads (apt-get download) and unpacks Debian's generic amd64 kernel into
\${PHYLLOME_CACHE:-\$HOME/.cache/phyllome-vmm}/kernel, once per package
version, and prints that directory.
EOF
}
die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --print-dir|"") ;;
  *) die "unknown option '$1' (see --help)" ;;
esac

CACHE="${PHYLLOME_CACHE:-$HOME/.cache/phyllome-vmm}"
KDIR="$CACHE/kernel"
mkdir -p "$CACHE"
for t in apt-cache apt-get dpkg depmod flock; do
  command -v "$t" >/dev/null || die "'$t' not found (Debian packages apt, dpkg, kmod, util-linux)"
done

LAYOUT=layout-2  # bump when the cache layout changes
# apt-cache costs ~0.7 s: ask it only when the apt lists changed since the
# last check (apt-get update renames files into that directory).
if [ -f "$KDIR/.stamp" ] && [ "$KDIR/.stamp" -nt /var/lib/apt/lists ] &&
   [ "$(cut -d' ' -f3 "$KDIR/.stamp")" = $LAYOUT ]; then
  echo "$KDIR"
  exit 0
fi

# The metapackage pins the current ABI package and version, e.g.
# "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
want=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
  sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -1)
if [ -z "$want" ]; then
  # No apt lists (offline, cleaned image): a cached kernel is still good.
  [ -f "$KDIR/.stamp" ] || die "cannot resolve linux-image-amd64 with apt-cache (run apt-get update?)"
  want=$(cut -d' ' -f1,2 "$KDIR/.stamp")
fi
read -r pkg ver <<<"$want"
want="$want $LAYOUT"

exec 9>"$CACHE/kernel.lock"
flock 9
if [ "$(cat "$KDIR/.stamp" 2>/dev/null)" != "$want" ]; then
  echo "fetch-kernel.sh: fetching $pkg $ver" >&2
  tmp=$(mktemp -d "$CACHE/kernel.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$tmp/apt.err") ||
    die "apt-get download $pkg=$ver failed: $(tail -1 "$tmp/apt.err")"
  dpkg -x "$tmp"/*.deb "$tmp/root"
  rm -f "$tmp"/*.deb "$tmp/apt.err"
  chmod 755 "$tmp"
  release=$(ls "$tmp/root/lib/modules")
  [ -f "$tmp/root/boot/vmlinuz-$release" ] || die "$pkg has no boot/vmlinuz-$release"
  depmod -b "$tmp/root" "$release"   # dpkg -x runs no maintainer scripts
  echo "$release" >"$tmp/release"
  # The ELF vmlinux inside the bzImage, for PVH boots: the rig's L1 saves ~3 s
  # per run by not decompressing (xz, under TCG) on every boot. The setup
  # header gives the payload's place: setup_sects at 0x1f1, offset and length
  # at 0x248.
  bz=$tmp/root/boot/vmlinuz-$release
  sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz")
  read -r poff plen < <(od -An -tu4 -j $((0x248)) -N8 "$bz")
  dd if="$bz" of="$tmp/payload" bs=64K iflag=skip_bytes,count_bytes status=none \
     skip=$(( (sects + 1) * 512 + poff )) count="$plen"
  case $(od -An -tx1 -N4 "$tmp/payload" | tr -d ' ') in
    fd377a58) xz -dc --single-stream "$tmp/payload" ;;
    02214c18) lz4 -dc "$tmp/payload" ;;
    28b52ffd) zstd -qdc "$tmp/payload" ;;
    1f8b*) gzip -dc "$tmp/payload" ;;
  esac >"$tmp/vmlinux" 2>/dev/null || true  # ignore the size the kernel build appends
  rm -f "$tmp/payload"
  [ "$(od -An -tx1 -N4 "$tmp/vmlinux" | tr -d ' ')" = 7f454c46 ] || rm -f "$tmp/vmlinux"
  ln -s "root/boot/vmlinuz-$release" "$tmp/vmlinuz"
  ln -s "root/boot/config-$release" "$tmp/config"
  echo "$want" >"$tmp/.stamp"
  rm -rf "$KDIR"
  mv "$tmp" "$KDIR"
  trap - EXIT
fi
touch "$KDIR/.stamp"
echo "$KDIR"
