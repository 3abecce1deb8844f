#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets (ASan + UBSan) for a bounded time, each from
# its seeds, the corpus kept in the repository (tests/fuzz/corpus/TARGET,
# read only) and the corpus it grew before in WORK_DIR. CMake builds them,
# in a fuzz tree (tests/fuzz/CMakeLists.txt): this configures it (clang,
# -DPHYLLOME_FUZZ=ON and the -D options) and builds the targets first.
# Usage: run-fuzz.sh [-B FUZZ_TREE] [-D NAME=VALUE]... [-M] SOURCE_DIR WORK_DIR [SECONDS [TARGET...]]
#   FUZZ_TREE  the fuzz tree's build directory (default: WORK_DIR/fuzz-build)
#   WORK_DIR   where seeds-TARGET/ and corpus-TARGET/ are kept
#   -M         after each run, SOURCE_DIR/tests/fuzz/corpus/TARGET becomes
#              the minimal set (libFuzzer's -merge=1) of itself, the seeds
#              and what the run found: how the repository's corpus grows
#              (then commit it, see docs/testing.md)
# Targets: those of SOURCE_DIR/tests/fuzz/fuzz_TARGET.c (boot, virtio_blk, http...;
# default: all, SECONDS each).
# One target by hand, e.g. 60 s of virtio_blk without SDL:
#   tests/fuzz/run-fuzz.sh -D PHYLLOME_SDL=OFF . /tmp/fuzz 60 virtio_blk
set -euo pipefail
usage() {
	echo "usage: run-fuzz.sh [-B FUZZ_TREE] [-D NAME=VALUE]... [-M] SOURCE_DIR WORK_DIR [SECONDS [TARGET...]]" >&2
	exit 2
}
tree= defs=() merge=
while getopts B:D:M opt; do
	case $opt in
	B) tree=$OPTARG ;;
	D) defs+=("-D$OPTARG") ;;
	M) merge=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
src=$(cd "$1" && pwd) work=$2 secs=${3:-30}
shift $(( $# < 3 ? $# : 3 ))
all=()
for f in "$src"/tests/fuzz/fuzz_*.c; do
	f=${f##*/fuzz_}
	all+=("${f%.c}")
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
	[[ " ${all[*]} " == *" $t "* ]] || { echo "run-fuzz: unknown target '$t'" >&2; exit 1; }
done
tree=${tree:-$work/fuzz-build}
command -v clang >/dev/null || { echo "run-fuzz: clang is not installed (tools/install-deps)" >&2; exit 1; }
bin=$tree/tests/fuzz

# The fuzz tree, configured and built by one run-fuzz.sh at a time
# (ctest -j runs fuzz tests side by side): the targets and their seed
# generators (make-seeds*.c).
mkdir -p "$work" "$tree"
exec 9>"$tree/run-fuzz.lock"
flock 9
if ! cmake -S "$src" -B "$tree" -DCMAKE_C_COMPILER=clang -DPHYLLOME_FUZZ=ON \
	"${defs[@]}" >"$tree/run-fuzz-configure.log" 2>&1; then
	cat "$tree/run-fuzz-configure.log" >&2
	echo "run-fuzz: configuring the fuzz tree $tree failed" >&2
	exit 1
fi
if ! cmake --build "$tree" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" \
	>"$tree/run-fuzz-build.log" 2>&1; then
	cat "$tree/run-fuzz-build.log" >&2
	echo "run-fuzz: building ${targets[*]/#/fuzz_} in $tree failed" >&2
	exit 1
fi
exec 9>&-

# Each target's seeds, written into its seeds directory.
seeds() {
	case $1 in
	boot)
		"$bin/make-seeds" "$work/seeds-boot" ;;
	piix)
		# Seed, a program in fuzz_piix.c's format (9 bytes a step:
		# opcode, offset, two value words, clock): what OVMF does,
		# PMBA = 0xB001 and PMREGMISC = 1 through 0xCF8/0xCFC, then
		# ResetSystem's SLP_EN write to PM1 control.
		printf '\x08\x40\x03\x01\xb0\x00\x00\x00\x00\x00\x80\x03\x01\x00\x00\x00\x01\x00\x06\x04\x00\x00\x20\x00\x00\x00\x00' \
			>"$work/seeds-piix/ovmf" ;;
	cmos_rtc)
		# Seeds, programs in fuzz_cmos_rtc.c's format (two words: the
		# RAM sizes; then steps): 3 GiB below and above, the clock set,
		# time passing, a reboot, binary mode and the clock set again,
		# a read in the UIP window; 256 MiB, word and wider accesses
		# (past the ports too), register C behind the NMI bit, the host
		# clock past year 9999; the guest setting 12 PM in 12-hour BCD.
		local d="$work/seeds-cmos_rtc"
		printf '\x00\x60\x60\x00\x05\x00\x10\x00\x00\x00\x04\x03\x00\x00\x06\x00\x0b\x01\x06\x05\x00\x20\x00\x00\x00\x08\x02\x02\x01' >"$d/set-reboot"
		printf '\x00\x08\x00\x00\x03\x08\x50\x5a\x03\x48\x03\x91\x01\x02\x03\x04\x00\x8c\x02\x01\x07\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00' >"$d/widths"
		printf '\x00\x08\x00\x00\x00\x0b\x01\x80\x00\x04\x01\x92\x00\x0b\x01\x00\x02\x01' >"$d/set-12h" ;;
	virtio_blk)
		"$bin/make-seeds-virtio-blk" "$work/seeds-virtio_blk" ;;
	virtio_net)
		# Seeds (byte 0: features; then steps, see the target): buffers
		# then frames, a send, a control command, a reset.
		local d="$work/seeds-virtio_net"
		printf '\x9b\x01\x01\x00\x08\x02\x40\x00%s\x07' "$(head -c 64 /dev/zero | tr '\0' 'a')" >"$d/rx"
		printf '\x9b\x00\x00\x70\x00%s\x07' "$(head -c 112 /dev/zero | tr '\0' 'b')" >"$d/tx"
		printf '\x9f\x04\x00\x04\x00\x04\x00\x02\x01\x00\x05\x07' >"$d/ctrl"
		printf '\x83\x01\x01\x00\x08\x05\x02\x40\x00zz\x07' >"$d/reset" ;;
	virtio_gpu)
		"$bin/make-seeds-virtio-gpu" "$work/seeds-virtio_gpu" ;;
	virtio_console)
		# Seeds, programs in fuzz_virtio_console.c's format (byte 0: the
		# features; then steps): a receive buffer, 32 bytes of input,
		# a run and the used entry taken back; a 16-byte transmit
		# buffer kicked; a reset with input waiting and a restart.
		local d="$work/seeds-virtio_console"
		printf '\x03\x02\x00\x00\x00\x30\x40\x01\x05\x00\x00\x20\x00\x06\x08' >"$d/receive"
		printf '\x03\x02\x04\x00\x00\x38\x10\x00\x05\x01\x06\x08' >"$d/transmit"
		printf '\x03\x00\x00\x10\x07\x01\x02\x08\x01\x00\x30\x40\x01\x00\x30\x40\x01\x00\x00\x00\x05\x00\x06' >"$d/reset" ;;
	virtio_input)
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
	pflash)
		# Seeds, programs in fuzz_pflash.c's format (byte 0: two 4 KiB
		# blocks, 0x0d: the same write-protected; then accesses): OVMF's
		# probe (0x50, read, 0x70, read, 0xFF at offset 16); a program,
		# its status and the byte read back; an erase of block 1 and a
		# CFI query read 4 bytes wide; a wide write across the end.
		local d="$work/seeds-pflash"
		local probe='\x00\x10\x00\x50\x01\x10\x00\x00\x10\x00\x70\x01\x10\x00\x00\x10\x00\xff'
		local prog='\x00\x20\x00\x10\x00\x20\x00\x5a\x01\x20\x00\x00\x20\x00\xff\x01\x20\x00'
		printf '\x0c%b' "$probe" >"$d/probe"
		printf '\x0d%b%b' "$probe" "$prog" >"$d/write-protected"
		printf '\x0c%b' "$prog" >"$d/program"
		printf '\x0c\x00\x00\x10\x20\x00\x00\x10\xd0\x01\x00\x10\x00\x00\x00\x98\x09\x10\x00' >"$d/erase-cfi"
		printf '\x0c\x1c\x03\x00\x10\x00\x20\xd0\x10\x00\x00\x00\x11\x00\x00' >"$d/end" ;;
	fw_cfg)
		# Seeds, programs in fuzz_fw_cfg.c's format (byte 0: how many
		# named files to add): a DMA read of the first file and a burst
		# of data-port reads; a DMA write into the writable file (the
		# 4th in the directory); descriptors across the end of low RAM
		# and of high RAM, and one 64-bit address write; three files
		# named by the input, one of them twice.
		local d="$work/seeds-fw_cfg"
		printf '\x00\x00\x00\x10\x22\x00\x40\x00\x20\x00\x05\x10' >"$d/read"
		printf '\x00\x00\x00\x10\x30\x03\x08\x00\x20\x01\x03\x05' >"$d/write"
		printf '\x00\x00\x08\x80\x22\x01\x10\x00\x20\x00\x00\xf8\xcf\x02\x40\x00\x20\x02' >"$d/edges"
		printf '\x03\x03abc\x10\x03abc\x20\x02zz\x00\x04\x00' >"$d/names" ;;
	http)
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
			"${#j}" "$j" >"$d/screenshot"
		# VmConfig bodies: libvirt's vm.create, one with Cloud
		# Hypervisor's defaults spelled out, vm.add-disk, and
		# vm.add-net with descriptors (the first byte's top bits).
		put_seed() { # FILE FIRST_BYTE ENDPOINT BODY
			printf "\\x$2PUT /api/v1/$3 HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" \
				"${#4}" "$4" >"$d/$1"
		}
		put_seed create-libvirt 10 vm.create '{"serial":{"mode":"Pty"},"cpus":{"boot_vcpus":2,"max_vcpus":2},"memory":{"size":536870912},"payload":{"kernel":"/k","cmdline":"console=ttyS0","initramfs":"/i"},"disks":[{"path":"/d.img","readonly":true}]}'
		put_seed create-full 3f vm.create '{"cpus":{"boot_vcpus":1,"max_vcpus":1,"topology":null,"kvm_hyperv":false,"max_phys_bits":46,"affinity":null,"features":{}},"memory":{"size":1073741824,"mergeable":false,"hotplug_method":"Acpi","shared":true,"hugepages":false,"thp":true},"payload":{"firmware":"/fw.fd","kernel":null},"net":[{"tap":"t0","ip":"192.168.249.1","mask":"255.255.255.0","mac":"52:54:00:12:34:56","num_queues":2,"queue_size":256,"vhost_user":false,"vhost_mode":"Client","id":"_net0","fds":null,"offload_tso":true}],"rng":{"src":"/dev/urandom","iommu":false},"serial":{"file":"/s.log","mode":"File"},"console":{"mode":"Off"},"devices":[],"phyllome":{"gpu":{"mode":"2d","outputs":2},"display":"none"}}'
		put_seed add-disk 20 vm.add-disk '{"path":"/d.img","readonly":false,"direct":true,"num_queues":2,"queue_size":128,"id":"d1"}'
		put_seed add-net-fds 90 vm.add-net '{"id":"net0","mac":"52:54:00:00:00:02","num_queues":4,"queue_size":256}' ;;
	esac
}

# virglrenderer and Mesa run unsanitized in fuzz_virtio_gpu's process; the
# leaks LeakSanitizer would see in them are theirs (caches kept across
# inputs), see lsan-virtio-gpu.supp.
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan-virtio-gpu.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for t in "${targets[@]}"; do
	mkdir -p "$work/corpus-$t" "$work/seeds-$t"
	seeds "$t"
	# New inputs go to the first directory only: the repository's corpus
	# is read, never written, unless -M merges into it below.
	kept=()
	[ ! -d "$src/tests/fuzz/corpus/$t" ] || kept=("$src/tests/fuzz/corpus/$t")
	"$bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$work/corpus-$t" "$work/seeds-$t" "${kept[@]}" 2>&1 | tail -15
	echo "fuzz_$t: ${secs}s without a crash or sanitizer report"
	if [ -n "$merge" ]; then
		rm -rf "$work/merge-$t"
		mkdir -p "$work/merge-$t" "$src/tests/fuzz/corpus/$t"
		"$bin/fuzz_$t" -merge=1 -rss_limit_mb=2048 "$work/merge-$t" \
			"$src/tests/fuzz/corpus/$t" "$work/seeds-$t" "$work/corpus-$t" 2>&1 | tail -1
		rm -rf "$src/tests/fuzz/corpus/$t"
		mv "$work/merge-$t" "$src/tests/fuzz/corpus/$t"
		echo "fuzz_$t: tests/fuzz/corpus/$t has $(ls "$src/tests/fuzz/corpus/$t" | wc -l) inputs"
	fi
done
