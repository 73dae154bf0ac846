#!/usr/bin/env bash
# Runs every test from a fresh clone: installs the dev tools (Azurite, via npm ci), then restores, builds and tests
# the whole solution (the Functions app included, on its real packages), and prints one total.
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter "FullyQualifiedName~Emulator").
set -uo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test Functions.sln --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test prints one summary per test assembly; add them up into one closing line.
awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") { f += $(i + 1) + 0 }
      if ($i == "Passed:") { p += $(i + 1) + 0 }
      if ($i == "Skipped:") { s += $(i + 1) + 0 }
      if ($i == "(net10.0)" || $i == "Total:") {}
    }
    n++
  }
  END { printf "\nTest assemblies: %d\nTests: %d passed, %d failed, %d skipped\n", n, p, f, s }' "$log"

exit "$status"
