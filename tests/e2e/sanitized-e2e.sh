#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e.sanitized (sanitizer trees only, -DPHYLLOME_SANITIZE=ON): one cheap
# existing end-to-end case per device family, run with the ASan+UBSan
# phyllome-vmm through the suites' own entries (run-e2e.sh, a fresh rig a
# case, and guestdev-e2e.sh):
#   boot machine      UART (serial to a file), virtio-blk (ext4 on a scratch
#                     disk), virtio-rng (1 MiB from /dev/hwrng), virtio-gpu
#                     2D (framebuffer, --screenshot-on-exit)
#   boot consoles     --serial pty and socket, virtio-console (--console
#                     socket and tty) with host-side clients, across a reboot
#   net basic         virtio-net on a tap, pings both ways
#   guestdev vsock    hybrid vsock, connections both ways at once
#   guestdev balloon  virtio-balloon inflated and deflated through vm.resize
#   guestdev fs       virtio-fs on virtiofsd, killed and started again
# Not e2e.gpu's virgl: sanitized, Mesa's llvmpipe renders far too slowly
# in the VMM's GPU thread under the rig's TCG (tried with ASan's full
# unwinding on every malloc, which lsan.supp's Mesa entry needs: the
# guest's fences timed out and its readback was black); the 3D device runs
# sanitized in test_virtio_gpu_virgl, payload.seccomp and fuzz_virtio_gpu.
# A sanitizer report ends the VMM with a non-zero status, which most of
# these cases check; but some stop their VMM with SIGTERM and do not look
# at its status (balloon, fs), and LeakSanitizer reports as the VMM exits.
# So, after the cases, every *.err under LOG_DIR (each VMM's stderr, and
# console-check.py's) is searched for a report, and one fails the test,
# naming the file. The sanitizers' options (ASAN_OPTIONS, UBSAN_OPTIONS,
# LSAN_OPTIONS with tests/sanitizer/lsan.supp) come from ctest
# (tests/CMakeLists.txt's phy_sanitizer_env()); tools/rig/rig-run passes
# them into L1.
# Usage: sanitized-e2e.sh VMM LOG_DIR EXTRA_DIR [SUITE...]
#   EXTRA_DIR: guestdev-e2e.sh's directory for the guest's extra files
#   SUITE: boot, net or guestdev: only those suites' cases (default: all)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n 's/^# Usage: /usage: /p' "$0" >&2; exit 1; }
vmm=$1 logs=$2 extra=$3
shift 3
suites=" ${*:-boot net guestdev} "
for s in $suites; do
  [[ " boot net guestdev " == *" $s "* ]] || { echo "sanitized-e2e.sh: no suite '$s' (boot, net, guestdev)" >&2; exit 1; }
done
rm -rf "$logs"
mkdir -p "$logs"
failed=()
run() { # SUITE COMMAND...
  local name=$1 t0=$SECONDS
  shift
  [[ $suites == *" $name "* ]] || return 0
  echo "# sanitized-e2e: $name"
  "$@" || failed+=("$name")
  echo "# sanitized-e2e: $name took $((SECONDS - t0)) s"
}
run boot "$here/run-e2e.sh" boot-suite.sh "$vmm" "$logs/boot" machine consoles
run net "$here/run-e2e.sh" --guest-extra "$here/net-guest" net-suite.sh "$vmm" "$logs/net" basic
run guestdev "$here/guestdev-e2e.sh" "$vmm" "$logs/guestdev" "$extra" vsock balloon fs

# The reports' first lines (sanitizer_common, ubsan): ASan's and LSan's
# "==PID==ERROR: ...Sanitizer: ...", UBSan's "FILE:LINE:COL: runtime error: ...".
reports=0
while IFS= read -r -d '' f; do
  if grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
    echo "sanitized-e2e: a sanitizer report in $f:"
    grep -aE -m 3 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: ' "$f" | sed 's/^/  /'
    reports=$((reports + 1))
  fi
done < <(find "$logs" -name '*.err' -type f -print0)
[ "$reports" -eq 0 ] || failed+=("sanitizer reports in $reports files")
echo "sanitized-e2e: ${SECONDS}s; ${failed[*]:-all passed}"
[ ${#failed[@]} -eq 0 ]
