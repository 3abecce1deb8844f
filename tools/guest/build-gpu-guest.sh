#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the guest for GPU runs (tests/e2e/gpu-suite.sh, tools/bench/
# run-gpu-bench): the default guest of build-guest.sh (with the hooks of
# --extra-dir) plus a second initramfs archive appended to its initrd,
# holding this machine's Mesa GL userland for the guest (the virgl driver
# virtio_gpu_dri.so, EGL, GLES 2, GBM, and every library ldd lists for them:
# ~210 MiB, LLVM being most of it), kmscube, and phy-gpu-pattern compiled
# here from tests/gpu-guest-prog/. The kernel unpacks concatenated archives
# in turn, so the default guest that every other suite boots stays small and
# unchanged; only GPU runs carry the GL userland.
#
# The appended archive is zstd-compressed: zstd decompresses faster than
# gzip, and in the rig the guest's kernel unpacks these ~210 MiB under TCG.
# Give the guest at least 1 GiB of memory (the unpacked files live in RAM).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
usage() {
  cat <<EOF
usage: build-gpu-guest.sh [--extra-dir DIR] [--out DIR] [--print-dir]
  --extra-dir DIR  hooks etc. for the base guest (build-guest.sh --extra-dir)
  --out DIR        output directory (default \$PHYLLOME_CACHE/gpu/guest-<hash>)
  --print-dir      print only the output directory
Output: DIR/vmlinuz, DIR/vmlinux (link), DIR/initrd.img (the base guest's
archive + the GL archive), DIR/kernel-dir (link). In the guest:
/usr/bin/phy-gpu-pattern, /usr/bin/kmscube, Mesa's EGL/GLES/GBM.
Needs: gcc, pkg-config, libegl-dev libgles-dev libgbm-dev libdrm-dev,
libgl1-mesa-dri libegl-mesa0 (the driver), kmscube, zstd, cpio.
EOF
}
die() { echo "build-gpu-guest.sh: $*" >&2; exit 1; }
extra=() out="" quiet=0
while [ $# -gt 0 ]; do
  case $1 in
    --extra-dir|--extra) [ -d "${2:-}" ] || die "$1: '${2:-}' is not a directory"
                         extra=(--extra-dir "$2"); shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --print-dir) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
for t in gcc pkg-config zstd cpio kmscube; do
  command -v $t >/dev/null || die "$t not found (tools/install-deps)"
done
pkg-config --exists egl glesv2 gbm libdrm ||
  die "pkg-config cannot find egl glesv2 gbm libdrm (apt-get install libegl-dev libgles-dev libgbm-dev libdrm-dev)"
cache=${PHYLLOME_CACHE:-$HOME/.cache/phyllome-vmm}/gpu
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8
# Old archives and guests go after 2 days unused (checkouts share the cache).
find "$cache" -maxdepth 1 \( -name 'gl-*.cpio.zst' -o -name 'phy-gpu-pattern-*' -o -name 'guest-*' \) \
  -mtime +2 -exec rm -rf {} + 2>/dev/null || true

base=$("$here/build-guest.sh" "${extra[@]}" --print-dir) || die "build-guest.sh failed"

# The guest program, compiled against this machine's libraries: the same
# ones the archive carries, so it runs in the guest unchanged.
src=$root/tests/gpu-guest-prog/phy-gpu-pattern.c
flags=$(pkg-config --cflags --libs egl glesv2 gbm libdrm)
prog_key=$( (cat "$src"; gcc --version; echo "$flags") | sha256sum | cut -c1-16)
prog=$cache/phy-gpu-pattern-$prog_key
if [ ! -x "$prog" ]; then
  # shellcheck disable=SC2086
  gcc -std=gnu11 -O2 -Wall -Wextra -Werror "$src" -o "$prog.$$" $flags ||
    die "cannot compile $src"
  mv "$prog.$$" "$prog"
fi
touch "$prog"

# What goes into the GL archive. Dynamically loaded (ldd does not list
# them): the DRI driver, found in Mesa's compiled-in driver directory, and
# libEGL_mesa.so.0, which glvnd's libEGL.so.1 opens as the vendor named in
# 50_mesa.json. Everything else comes from ldd of these and of the programs.
multiarch=$(gcc -print-multiarch)
libdir=/usr/lib/$multiarch
dri=$libdir/dri/virtio_gpu_dri.so
loaded=("$dri" "$libdir/libEGL_mesa.so.0" "$libdir/libgbm.so.1" "$libdir/libglapi.so.0"
        "$libdir/libEGL.so.1" "$libdir/libGLESv2.so.2" "$libdir/libGLdispatch.so.0")
vendor=/usr/share/glvnd/egl_vendor.d/50_mesa.json
programs=("$(command -v kmscube)")
for f in "${loaded[@]}" "$vendor"; do
  [ -e "$f" ] || die "$f missing (apt-get install libgl1-mesa-dri libegl-mesa0 libegl1 libgles2 libgbm1)"
done
# Files at the paths ldd names (the loader searches its default directories:
# no ld.so.cache in the guest), the dlopened ones where Mesa and glvnd look.
mapfile -t files < <(for f in "${loaded[@]}" "${programs[@]}" "$prog"; do
                       ldd "$f" | grep -o '/[^ ]*'
                     done | LC_ALL=C sort -u)
# Cheap key: names, sizes and times of what goes in (a package upgrade
# changes them), not a hash of 210 MiB on every call.
gl_key=$( (echo "$prog_key"; sed -n '/^# What goes into/,/^# end of the GL archive/p' "$0"
           stat -L -c '%n %s %Y' "${loaded[@]}" "$vendor" "${programs[@]}" "${files[@]}") |
         sha256sum | cut -c1-16)
gl=$cache/gl-$gl_key.cpio.zst
if [ ! -f "$gl" ]; then
  [ $quiet = 1 ] || echo "build-gpu-guest.sh: building the GL archive $gl" >&2
  tree=$(mktemp -d)
  trap 'rm -rf "$tree"' EXIT
  put() { # SOURCE DEST: a copy, following links (the guest needs no links)
    mkdir -p "$tree$(dirname "$2")"
    cp -L "$1" "$tree$2"
  }
  for f in "${files[@]}"; do put "$f" "$f"; done
  put "$dri" "$dri"
  for f in "${loaded[@]:1}"; do put "$f" "/lib/$multiarch/${f##*/}"; done
  put "$vendor" "$vendor"
  for p in "${programs[@]}"; do put "$p" "/usr/bin/${p##*/}"; done
  put "$prog" /usr/bin/phy-gpu-pattern
  (cd "$tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
    zstd -q -T0 -3 >"$gl.$$" || die "cannot write $gl"
  mv "$gl.$$" "$gl"
  rm -rf "$tree"
  trap - EXIT
fi
# end of the GL archive
touch "$gl"

key=$( (cat "$base/.stamp"; echo "$gl_key") | sha256sum | cut -c1-16)
[ -n "$out" ] || out=$cache/guest-$key
mkdir -p "$out"
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$key" ]; then
  [ $quiet = 1 ] || echo "build-gpu-guest.sh: building the GPU guest in $out" >&2
  cat "$base/initrd.img" "$gl" >"$out/initrd.img.tmp"
  cp -L "$base/vmlinuz" "$out/vmlinuz.tmp"
  mv "$out/initrd.img.tmp" "$out/initrd.img"
  mv "$out/vmlinuz.tmp" "$out/vmlinuz"
  ln -sfn "$(readlink -f "$base/kernel-dir")" "$out/kernel-dir"
  if [ -e "$base/vmlinux" ]; then ln -sfn kernel-dir/vmlinux "$out/vmlinux"; fi
  echo "$key" >"$out/.stamp"
fi
touch "$out"
echo "$out"
