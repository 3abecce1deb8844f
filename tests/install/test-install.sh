#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs into a scratch prefix, then builds a consumer with pkg-config
# against the shared and the static library and runs both.
# Usage: test-install.sh BUILD_DIR SOURCE_DIR VERSION WORK_DIR [CONSUMER_FLAGS]
# CONSUMER_FLAGS: what the consumers are compiled and linked with besides
# pkg-config's flags (a sanitizer tree's -fsanitize=..., whose library
# needs the sanitizers' runtimes as every program built with them does).
set -euo pipefail
build=$1 src=$2 version=$3 work=$4 extra=${5:-}
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name phyllome-vmm.pc)
[ -n "$pc" ] || { echo "no phyllome-vmm.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
[ "$(pkg-config --modversion phyllome-vmm)" = "$version" ]
sed "s/@V@/$version/" "$src/tests/install/consumer.c" >"$work/consumer.c"
# Installed with the build's prefix baked in, so point the flags at ours.
cflags="-I$work/prefix/include $extra"
libdir=$(dirname "$(dirname "$pc")")
cc -std=c11 -Wall -Werror $cflags "$work/consumer.c" -L"$libdir" -lphyllome-vmm \
   -Wl,-rpath,"$libdir" -o "$work/consumer-shared"
# The static library's own dependencies (liburing, virglrenderer, epoxy,
# libpng, SDL2, pthread) come from the .pc file's private fields, as they would
# for any consumer.
private=$(pkg-config --static --libs-only-l phyllome-vmm | sed 's/-lphyllome-vmm//')
cc -std=c11 -Wall -Werror $cflags "$work/consumer.c" "$libdir/libphyllome-vmm.a" $private \
   -o "$work/consumer-static"
"$work/consumer-shared"
"$work/consumer-static"
# The SONAME carries the major version; only the public API is exported.
readelf -d "$libdir/libphyllome-vmm.so" | grep -q "SONAME.*libphyllome-vmm.so.${version%%.*}"
bad=$(nm -D --defined-only "$libdir/libphyllome-vmm.so" | awk '$2 == "T" && $3 !~ /^phy_/' | head -5)
[ -z "$bad" ] || { echo "non-API symbols exported: $bad" >&2; exit 1; }
# Called as cloud-hypervisor (the installed link), the CLI gives the Cloud
# Hypervisor version we follow first, as libvirt's ch driver parses it
# ("cloud-hypervisor v" then MAJ.MIN.MIC); under its own name, its own.
bindir=$work/prefix/bin
[ "$(readlink "$bindir/cloud-hypervisor")" = phyllome-vmm ]
out=$(LD_LIBRARY_PATH=$libdir "$bindir/cloud-hypervisor" --version)
grep -qE "^cloud-hypervisor v[0-9]+\.[0-9]+\.[0-9]+ \(phyllome-vmm $version\)\$" <<<"$out" ||
  { echo "cloud-hypervisor --version: '$out'" >&2; exit 1; }
out=$(LD_LIBRARY_PATH=$libdir "$bindir/phyllome-vmm" --version)
[ "$out" = "phyllome-vmm $version" ] || { echo "phyllome-vmm --version: '$out'" >&2; exit 1; }
echo "install: pkg-config, shared and static consumers, SONAME and exports, cloud-hypervisor --version ok"
