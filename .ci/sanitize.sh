#!/usr/bin/env bash
# .ci/sanitize.sh -- build rnnscratch._core with AddressSanitizer + UndefinedBehaviorSanitizer
# and run the whole test suite against it; exit non-zero on any sanitizer report or test failure.
#
#   .ci/sanitize.sh                 # gcc's runtime (libasan/libubsan from gcc)
#   CC=clang .ci/sanitize.sh        # clang's runtime (libclang_rt.asan / ubsan_standalone)
#   .ci/sanitize.sh -x -k fuzz      # extra arguments go to pytest
#
# The build happens in a scratch copy of the tree (git-tracked and untracked, non-ignored files),
# so the in-place build of the working tree is never replaced by the instrumented one. Python
# itself is not instrumented: the sanitizer runtime is LD_PRELOADed. Leak detection is off
# (CPython leaks by design at exit; tests/test_memory.py covers leaks). Every report, also from
# subprocesses the tests start, is written to $RNNSCRATCH_SAN_LOGDIR (default: a fresh directory),
# and any file there fails the run. Run before every kernel change lands (about 2-3x the normal
# suite's time); use `nice -n 19` on shared machines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-gcc}
PY=${PYTHON:-python}
work=$(mktemp -d "${TMPDIR:-/tmp}/rnnscratch-san.XXXXXX")
logdir=${RNNSCRATCH_SAN_LOGDIR:-$work/reports}
mkdir -p "$logdir"
keep=${RNNSCRATCH_SAN_KEEP:-0}
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$work/tree"; fi; }
trap cleanup EXIT

# 1. a copy of the tree without build products
mkdir -p "$work/tree"
(cd "$root" && { git ls-files -z --cached --others --exclude-standard 2>/dev/null ||
                 find . -type f -not -path './.git/*' -print0; } |
    grep -zv -E '(^|/)(build/|.*\.so$|.*\.egg-info/)' |
    xargs -0 -I{} sh -c 'test -f "{}" && echo "{}"' ) > "$work/files"
tar -C "$root" -cf - -T "$work/files" | tar -C "$work/tree" -xf -
cd "$work/tree"

# 2. instrumented build
case "$CC" in
  *clang*)
    san_flags="-fsanitize=address,undefined -shared-libasan"
    runtime="$($CC -print-file-name=libclang_rt.asan-x86_64.so)"
    ;;
  *)
    san_flags="-fsanitize=address,undefined"
    runtime="$($CC -print-file-name=libasan.so) $($CC -print-file-name=libubsan.so)"
    ;;
esac
for lib in $runtime; do
  [ -f "$lib" ] || { echo "sanitize.sh: runtime $lib not found (install gcc or libclang-rt-dev)" >&2; exit 2; }
done
echo "sanitize.sh: building with $CC ($($CC --version | head -n 1)) in $work/tree"
CC="$CC" LDSHARED="$CC -shared" \
RNNSCRATCH_CFLAGS="$san_flags -fno-sanitize-recover=all -fno-omit-frame-pointer -g" \
RNNSCRATCH_LDFLAGS="$san_flags" \
  "$PY" setup.py build_ext --inplace -q > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 2; }
ls rnnscratch/_core*.so > /dev/null

# 3. the whole suite with the runtime preloaded
export LD_PRELOAD="$runtime${LD_PRELOAD:+ $LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1:log_path=$logdir/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/ubsan"
export RNNSCRATCH_SANITIZER=1   # tests that cannot run under ASan (RLIMIT_AS) skip themselves
export PYTHONDONTWRITEBYTECODE=1
echo "sanitize.sh: $PY -m pytest -q tests $*  (LD_PRELOAD=$LD_PRELOAD)"
set +e
"$PY" -c "import rnnscratch, sys; assert rnnscratch._core.__file__.startswith('$work/tree'), rnnscratch._core.__file__"
"$PY" -m pytest -q -p no:cacheprovider tests "$@"
rc=$?
set -e

reports=$(find "$logdir" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
  echo "sanitize.sh: $reports sanitizer report(s):" >&2
  for f in "$logdir"/*; do echo "--- $f" >&2; head -n 60 "$f" >&2; done
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "sanitize.sh: test suite failed (pytest exit $rc), no sanitizer report" >&2
  exit "$rc"
fi
echo "sanitize.sh: clean (no ASan/UBSan report, all tests passed)"
