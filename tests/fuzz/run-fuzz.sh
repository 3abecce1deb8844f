#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time. Usage: run-fuzz.sh SOURCE_DIR WORK_DIR [SECONDS]
set -euo pipefail
src=$1 work=$2 secs=${3:-30}
command -v clang >/dev/null || { echo "run-fuzz: clang is not installed (tools/install-deps)" >&2; exit 1; }
mkdir -p "$work/corpus-boot" "$work/seeds-boot"
flags=(-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$src/include" -I"$src" -DPHY_VERSION_STRING='"fuzz"')
clang "${flags[@]}" -o "$work/fuzz_boot" "$src/tests/fuzz/fuzz_boot.c" \
  "$src"/boot/*.c "$src/arch/x86_64/e820.c" "$src"/common/*.c
cc -o "$work/make-seeds" "$src/tests/fuzz/make-seeds.c"
"$work/make-seeds" "$work/seeds-boot"
"$work/fuzz_boot" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
  "$work/corpus-boot" "$work/seeds-boot" 2>&1 | tail -15
echo "fuzz_boot: ${secs}s without a crash or sanitizer report"
