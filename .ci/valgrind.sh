#!/usr/bin/env bash
# .ci/valgrind.sh -- a short valgrind memcheck run of the compiled kernels.
#
#   .ci/valgrind.sh                       # the default short run (a few minutes)
#   .ci/valgrind.sh tests/test_rnn.py -k C # other pytest arguments
#
# Runs pytest under valgrind with PYTHONMALLOC=malloc (so every Python allocation is visible),
# on the in-place build of this tree (build it first: python setup.py build_ext --inplace; a
# build with RNNSCRATCH_DEBUG=1 keeps the symbols and debug info that release builds strip, and
# gives function names and file:line in the report). CPython and NumPy produce memcheck noise
# (e.g. conditional jumps in the small-object allocator, interned strings never freed); rather
# than maintaining a long suppression list, every error record in the log is attributed:
# the run fails when any invalid read/write, use of uninitialised memory, bad free, overlap
# or definitely-lost block has a frame in rnnscratch's extension (_core*.so, csrc/). The
# other records are counted and listed in the summary. .ci/valgrind.supp (if present) is
# passed as a suppression file for known-harmless noise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PY=${PYTHON:-python}
# the real interpreter, not a wrapper script (pyenv shims would be all that valgrind checks)
PY=$("$PY" -c 'import sys; print(sys.executable)')
log=${RNNSCRATCH_VALGRIND_LOG:-$(mktemp "${TMPDIR:-/tmp}/rnnscratch-valgrind.XXXXXX.log")}
command -v valgrind >/dev/null || { echo "valgrind.sh: install valgrind (apt-get install valgrind)" >&2; exit 2; }
so=$("$PY" -c "import rnnscratch._core as c; print(c.__file__)")
[ $# -gt 0 ] || set -- tests/test_core_errors.py tests/test_fuzz.py tests/test_failure_state.py \
                       -k "not torch and not float64 and not datetime and not object"
supp=()
[ -f "$root/.ci/valgrind.supp" ] && supp=(--suppressions="$root/.ci/valgrind.supp")
echo "valgrind.sh: memcheck of $so; log: $log"
set +e
PYTHONMALLOC=malloc OPENBLAS_NUM_THREADS=1 RNNSCRATCH_VALGRIND=1 \
RNNSCRATCH_FUZZ_EXAMPLES=${RNNSCRATCH_FUZZ_EXAMPLES:-150} RNNSCRATCH_MEMORY_ITERS=${RNNSCRATCH_MEMORY_ITERS:-200} \
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --track-origins=yes --num-callers=40 \
    --trace-children=yes \
    --log-file="$log" "${supp[@]}" \
    "$PY" -m pytest -q -p no:cacheprovider -x "$@"
rc=$?
set -e
# split the log into error records (blank-line separated) and attribute them
"$PY" - "$log" "$so" <<'PYEOF'
import re, sys
log, so = sys.argv[1], sys.argv[2]
text = open(log, errors="replace").read()
records, cur = [], []
for line in text.splitlines():
    line = re.sub(r"^==\d+== ?", "", line)
    if not line.strip():
        if cur:
            records.append(cur)
        cur = []
    else:
        cur.append(line)
if cur:
    records.append(cur)
kinds = ("Invalid read", "Invalid write", "uninitialised", "Invalid free", "Mismatched free",
         "Source and destination overlap", "definitely lost", "Syscall param")
ours, other = [], []
for r in records:
    head = r[0]
    if not any(k in head for k in kinds):
        continue
    # frames in our extension: its file (rnnscratch/_core*.so) or our sources (csrc/*.c, *.h);
    # not numpy/_core/... which also has "_core" in its path
    mine = any("rnnscratch/_core" in l or "csrc/" in l or
               re.search(r"\((?:module|rnn|lm|gemm|act|cpu|threads|compat)"
                                 r"(?:_impl|_kern|_decl)?\.[ch]:\d+\)", l)
               for l in r)
    (ours if mine else other).append(r)
summary = [l for l in text.splitlines() if "ERROR SUMMARY" in l]
print("valgrind.sh: %d error record(s) in rnnscratch's extension, %d elsewhere (CPython/NumPy/libc)"
      % (len(ours), len(other)))
if summary:
    print("valgrind.sh:", re.sub(r"^==\d+== ?", "", summary[-1]))
for r in ours[:20]:
    print("\n".join(r[:25]))
    print("----")
sys.exit(1 if ours else 0)
PYEOF
attr=$?
if [ "$rc" -ne 0 ]; then
  echo "valgrind.sh: pytest under valgrind failed (exit $rc); log: $log" >&2
  exit "$rc"
fi
[ "$attr" -eq 0 ] && echo "valgrind.sh: clean" || { echo "valgrind.sh: errors in the extension; log: $log" >&2; exit 1; }
