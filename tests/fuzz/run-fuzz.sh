#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time, from its seeds and the corpus it grew before.
# Usage: run-fuzz.sh SOURCE_DIR WORK_DIR [SECONDS [TARGET...]]
# Targets: boot, virtio_blk (default: all, SECONDS each).
set -euo pipefail
src=$1 work=$2 secs=${3:-30}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(boot virtio_blk)
command -v clang >/dev/null || { echo "run-fuzz: clang is not installed (tools/install-deps)" >&2; exit 1; }
flags=(-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$src/include" -I"$src" -I"$src/tests/unit" -DPHY_VERSION_STRING='"fuzz"')

# Each target: its sources (beyond common/) and its seed generator.
build() {
	case $1 in
	boot)
		clang "${flags[@]}" -o "$work/fuzz_boot" "$src/tests/fuzz/fuzz_boot.c" \
			"$src"/boot/*.c "$src/arch/x86_64/e820.c" "$src"/common/*.c
		cc -o "$work/make-seeds" "$src/tests/fuzz/make-seeds.c"
		"$work/make-seeds" "$work/seeds-boot" ;;
	virtio_blk)
		clang "${flags[@]}" -o "$work/fuzz_virtio_blk" "$src/tests/fuzz/fuzz_virtio_blk.c" \
			"$src/tests/unit/virtio_sim.c" "$src/devices/block/disk_image.c" \
			"$src"/devices/virtio/{virtqueue,virtio_dev,virtio_blk,virtio_blk_req}.c \
			"$src/vmm/io_loop.c" "$src"/common/*.c -luring -lpthread
		cc -I"$src/tests/fuzz" -o "$work/make-seeds-virtio-blk" \
			"$src/tests/fuzz/make-seeds-virtio-blk.c"
		"$work/make-seeds-virtio-blk" "$work/seeds-virtio_blk" ;;
	*)
		echo "run-fuzz: unknown target '$1'" >&2; exit 1 ;;
	esac
}

for t in "${targets[@]}"; do
	mkdir -p "$work/corpus-$t" "$work/seeds-$t"
	build "$t"
	"$work/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$work/corpus-$t" "$work/seeds-$t" 2>&1 | tail -15
	echo "fuzz_$t: ${secs}s without a crash or sanitizer report"
done
