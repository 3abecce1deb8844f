#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time, from its seeds and the corpus it grew before.
# Usage: run-fuzz.sh SOURCE_DIR WORK_DIR [SECONDS [TARGET...]]
# Targets: boot, virtio_blk, virtio_net, virtio_gpu, virtio_input, virtio_rng, http (default: all, SECONDS each).
set -euo pipefail
src=$1 work=$2 secs=${3:-30}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(boot virtio_blk virtio_net virtio_gpu virtio_input virtio_rng http)
command -v clang >/dev/null || { echo "run-fuzz: clang is not installed (tools/install-deps)" >&2; exit 1; }
flags=(-std=gnu11 -g -O1 -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$src/include" -I"$src" -I"$src/tests/unit" -DPHY_VERSION_STRING='"fuzz"')

# Each target: its sources (beyond common/) and its seed generator.
build() {
	case $1 in
	boot)
		clang "${flags[@]}" -o "$work/fuzz_boot" "$src/tests/fuzz/fuzz_boot.c" \
			"$src"/boot/*.c "$src/arch/x86_64/e820.c" "$src"/common/*.c -luring -lpthread
		cc -o "$work/make-seeds" "$src/tests/fuzz/make-seeds.c"
		"$work/make-seeds" "$work/seeds-boot" ;;
	virtio_blk)
		clang "${flags[@]}" -o "$work/fuzz_virtio_blk" "$src/tests/fuzz/fuzz_virtio_blk.c" \
			"$src/tests/unit/virtio_sim.c" "$src/devices/block/disk_image.c" \
			"$src"/devices/virtio/{virtqueue,virtio_dev,virtio_blk,virtio_blk_req}.c \
			"$src"/common/*.c -luring -lpthread
		cc -I"$src/tests/fuzz" -o "$work/make-seeds-virtio-blk" \
			"$src/tests/fuzz/make-seeds-virtio-blk.c"
		"$work/make-seeds-virtio-blk" "$work/seeds-virtio_blk" ;;
	virtio_net)
		clang "${flags[@]}" -o "$work/fuzz_virtio_net" "$src/tests/fuzz/fuzz_virtio_net.c" \
			"$src/tests/unit/virtio_sim.c" "$src/devices/net/netlink_link.c" \
			"$src"/devices/virtio/{virtqueue,virtio_dev,virtio_net,virtio_net_rx,virtio_net_tx,virtio_net_irq,virtio_net_ctrl,irq_hold}.c \
			"$src"/common/*.c -luring -lpthread
		# Seeds (byte 0: features; then steps, see the target): buffers
		# then frames, a send, a control command, a reset.
		local d="$work/seeds-virtio_net"
		printf '\x9b\x01\x01\x00\x08\x02\x40\x00%s\x07' "$(head -c 64 /dev/zero | tr '\0' 'a')" >"$d/rx"
		printf '\x9b\x00\x00\x70\x00%s\x07' "$(head -c 112 /dev/zero | tr '\0' 'b')" >"$d/tx"
		printf '\x9f\x04\x00\x04\x00\x04\x00\x02\x01\x00\x05\x07' >"$d/ctrl"
		printf '\x83\x01\x01\x00\x08\x05\x02\x40\x00zz\x07' >"$d/reset" ;;
	virtio_gpu)
		# virglrenderer and Mesa run unsanitized in the same process; the
		# leaks LeakSanitizer would see in them are theirs (caches kept
		# across inputs), see lsan-virtio-gpu.supp.
		clang "${flags[@]}" $(pkg-config --cflags virglrenderer epoxy libpng) \
			-o "$work/fuzz_virtio_gpu" "$src/tests/fuzz/fuzz_virtio_gpu.c" \
			"$src"/tests/unit/{virtio_sim,gpu_driver}.c \
			"$src"/devices/virtio/{virtqueue,virtio_dev}.c "$src"/devices/virtio/virtio_gpu*.c \
			"$src"/devices/gpu/*.c "$src"/common/*.c \
			$(pkg-config --libs virglrenderer epoxy libpng) -luring -lpthread -ldl
		cc -I"$src/tests/fuzz" -o "$work/make-seeds-virtio-gpu" \
			"$src/tests/fuzz/make-seeds-virtio-gpu.c"
		"$work/make-seeds-virtio-gpu" "$work/seeds-virtio_gpu" ;;
	virtio_input)
		clang "${flags[@]}" -o "$work/fuzz_virtio_input" "$src/tests/fuzz/fuzz_virtio_input.c" \
			"$src/tests/unit/virtio_sim.c" \
			"$src"/devices/virtio/{virtqueue,virtio_dev,virtio_input}.c \
			"$src"/common/*.c -luring -lpthread
		# Seeds, programs in fuzz_virtio_input.c's format: a keyboard with
		# eight event buffers, a key pressed and released, a configuration
		# query and an LED status; a tablet with 39 events waiting, then
		# indirect buffers, a reset and a restart.
		local d="$work/seeds-virtio_input" s i
		s='\x00\x03'
		for i in 0 1 2 3 4 5 6 7; do
			s+=$(printf '\\x02\\x00\\x%02x\\x%02x\\x30\\x08\\x01' $i $((i * 8)))
		done
		s+='\x05\x00\x01\x04\x41\x1e\x00\x01\x00\x00\x41\x1e\x00\x00\x00\x00\x06\x08'
		s+='\x00\x00\x01\x11\x01\x00\x00\x02\x04\x00\x00\x40\x08\x00\x05\x01\x06'
		printf '%b' "$s" >"$d/keyboard"
		s='\x01\x00\x01\x27'
		for i in $(seq 39); do s+='\x43\x00\x00\x05\x00'; done
		s+='\x06'
		for i in 0 1 2 3; do
			s+=$(printf '\\x02\\x09\\x%02x\\x%02x\\x30\\x08\\x01\\x%02x\\x30\\x08\\x01\\x00\\x50' \
				$i $((i * 8)) $((i * 8 + 4)))
		done
		s+='\x05\x00\x06\x08\x07\x03\x06'
		printf '%b' "$s" >"$d/tablet" ;;
	virtio_rng)
		clang "${flags[@]}" -o "$work/fuzz_virtio_rng" "$src/tests/fuzz/fuzz_virtio_rng.c" \
			"$src/tests/unit/virtio_sim.c" \
			"$src"/devices/virtio/{virtqueue,virtio_dev,virtio_rng}.c \
			"$src"/common/*.c -luring -lpthread
		# Seeds, programs in fuzz_virtio_rng.c's format (byte 0: the
		# device, byte 1: the features): /dev/urandom with four requests
		# (one over the 64 KiB cap), a kick and a run; the limited
		# device flooded with one-byte requests, a reset in the middle;
		# the seed file read to its end; the directory's failing read.
		local d="$work/seeds-virtio_rng" s i
		s='\x00\x03'
		for i in 0 1 2; do
			s+=$(printf '\\x00\\x00\\x%02x\\x00\\x%02x\\x40\\x01' $i $((0x60 + i * 2)))
		done
		s+='\x00\x00\x03\x00\x70\xf0\xff\x7f\x01\x04\x00\x05\x07'
		printf '%b' "$s" >"$d/urandom"
		s='\x01\x01'
		for i in $(seq 0 15); do
			s+=$(printf '\\x00\\x00\\x%02x\\x%02x\\x60\\x01\\x01' $i $((i * 8)))
		done
		s+='\x04\x00\x09\x09\x06\x01'
		for i in 0 1 2 3; do
			s+=$(printf '\\x00\\x00\\x%02x\\x%02x\\x60\\x01\\x01' $i $((i * 8)))
		done
		s+='\x04\x00\x05\x07'
		printf '%b' "$s" >"$d/limited"
		s='\x02\x03'
		for i in 0 1 2 3; do
			s+=$(printf '\\x00\\x00\\x%02x\\x00\\x%02x\\xc8\\x01' $i $((0x60 + i * 2)))
		done
		s+='\x04\x00\x05\x07\x06\x03\x00\x00\x00\x00\x60\x40\x01\x04\x00\x05'
		printf '%b' "$s" >"$d/file-end"
		printf '\x03\x01\x00\x00\x00\x00\x60\x40\x01\x04\x00\x05\x06\x01\x04\x00\x05' >"$d/dir" ;;
	http)
		clang "${flags[@]}" -o "$work/fuzz_http" "$src/tests/fuzz/fuzz_http.c" \
			"$src"/api/{http,json,json_read,api_routes,api_screenshot}.c
		# Seeds: requests as curl and Cloud Hypervisor's clients send them,
		# pipelined, with a body, and a few malformed ones.
		local d="$work/seeds-http" p='GET /api/v1/vm.info HTTP/1.1\r\nHost: localhost\r\n\r\n'
		printf '\x10%b' "$p" >"$d/info"
		printf '\x3f%b%b' "$p" 'PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 0\r\n\r\n' >"$d/pipelined"
		printf '\x01PUT /api/v1/vm.resume HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}' >"$d/body"
		printf '\x05GET http://localhost/api/v1/vm.counters?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' >"$d/absolute"
		printf '\x07PUT /api/v1/vmm.shutdown HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' >"$d/chunked"
		printf '\x02GET /api/v1/vm.pause HTTP/1.1\nA: b\n\n\r\nGET /x HTTP/1.1\r\n\r\n' >"$d/lf"
		local j='{"path": "/tmp/a \u00e9\ud83d\ude00.png", "scanout": 1}'
		printf '\x09PUT /api/v1/vm.screenshot HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s' \
			"${#j}" "$j" >"$d/screenshot" ;;
	*)
		echo "run-fuzz: unknown target '$1'" >&2; exit 1 ;;
	esac
}

export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan-virtio-gpu.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for t in "${targets[@]}"; do
	mkdir -p "$work/corpus-$t" "$work/seeds-$t"
	build "$t"
	"$work/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$work/corpus-$t" "$work/seeds-$t" 2>&1 | tail -15
	echo "fuzz_$t: ${secs}s without a crash or sanitizer report"
done
