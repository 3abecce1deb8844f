#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints, dependencies first, the module files (relative to
# lib/modules/RELEASE) needed to load the named modules. Modules that are
# built in or absent are skipped silently: callers list optional ones too.
#
# Usage: modules-closure.sh MODULES_DIR MODULE...
set -euo pipefail
dir=$1
shift
dep=$dir/modules.dep
[ -f "$dep" ] || { echo "modules-closure.sh: no $dep (run depmod)" >&2; exit 1; }
awk -v want="$*" '
  function norm(p,   b) { b = p; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b); return b }
  function visit(m,   i, n, parts) {
    if (m in seen || !(m in path)) return
    seen[m] = 1
    n = split(deps[m], parts, " ")
    for (i = n; i >= 1; i--) visit(norm(parts[i]))
    print path[m]
  }
  {
    f = $1; sub(/:$/, "", f)
    m = norm(f); path[m] = f
    $1 = ""; deps[m] = $0
  }
  END {
    n = split(want, w, " ")
    for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
  }' "$dep"
