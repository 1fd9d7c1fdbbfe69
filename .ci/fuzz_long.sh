#!/usr/bin/env bash
# .ci/fuzz_long.sh [EXAMPLES] -- the long fuzz mode in a subprocess (a segfault kills only it):
# runs tests/test_fuzz.py with RNNSCRATCH_FUZZ_EXAMPLES (default 100000) spread over its tests,
# niced, and reports the examples run, failures and whether the interpreter died by a signal.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-100000}
count=$(mktemp "${TMPDIR:-/tmp}/rnnscratch-fuzz-count.XXXXXX")
log=${RNNSCRATCH_FUZZ_LOG:-$(mktemp "${TMPDIR:-/tmp}/rnnscratch-fuzz.XXXXXX.log")}
start=$(date +%s)
RNNSCRATCH_FUZZ_EXAMPLES=$n RNNSCRATCH_FUZZ_COUNT_FILE=$count \
  nice -n 19 "${PYTHON:-python}" -X faulthandler -m pytest -q -p no:cacheprovider tests/test_fuzz.py > "$log" 2>&1
rc=$?
end=$(date +%s)
total=$(awk '{s += $2} END {print s + 0}' "$count")
echo "fuzz_long.sh: $total examples in $((end - start)) s, pytest exit $rc; log: $log"
cat "$count" | sed 's/^/  /'
tail -n 3 "$log"
if [ $rc -gt 128 ] || grep -q "Fatal Python error" "$log"; then
  echo "fuzz_long.sh: the interpreter crashed (signal $((rc - 128)))"; exit 1
fi
exit $rc
