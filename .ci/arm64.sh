#!/usr/bin/env bash
# The arm64 test lane: runs the kernel, registry and course-parity suites on
# aarch64 Linux under qemu user-mode emulation, on the NEON path and on the
# portable path. Run by hand (as root), not by .ci/run:
#
#   bash .ci/arm64.sh            # the whole lane
#   ARM64_STAGE=root bash .ci/arm64.sh   # only build (or check) the cached root
#
# What it does:
#  1. installs what it needs when missing (qemu-user-static, binfmt-support,
#     mmdebstrap, gcc-aarch64-linux-gnu) and enables the qemu-aarch64 binfmt
#     handler (fix-binary flag: the chroot needs no qemu inside it);
#  2. builds, once, an arm64 Debian root (the host's release) with python3,
#     NumPy, pytest and gcc, cached in $RNNSCRATCH_ARM64_ROOT
#     (default /var/cache/rnnscratch-arm64/root; ~6 min the first time);
#  3. cross-compiles rnnscratch._core with aarch64-linux-gnu-gcc against the
#     root's Python and NumPy headers (the same flags as setup.py), with
#     ARM64_BUILD=native: builds it inside the root under emulation instead
#     (slower, ~10x);
#  4. copies the work tree's package and tests into the root (not the data:
#     the book's code from $RNNSCRATCH_COURSE_DIR or ../shared/course is copied
#     to the root's /tmp at test time, never into the repository);
#  5. checks that available_simd_paths() lists 'neon', that NEON's bits are
#     those of the x86 SIMD path of this machine (tools: .ci/arm64_bits.py),
#     and runs the selected suites once with the NEON path forced and once
#     with the portable path forced (RNNSCRATCH_SIMD_PATH, read by
#     tests/conftest.py). The last line printed is pytest's summary.
#
# Time (2-core x86 machine shared with other jobs, qemu 7.2): root ~6 min
# the first time; the lane itself is documented in notes/BENCHMARKS-arm.md.
set -euo pipefail
# (the body is one function, read whole before it runs: editing this file
# during a run cannot change the run)
main() {
cd "$(dirname "$0")/.."
repo=$(pwd)
t_start=$(date +%s)

ROOT=${RNNSCRATCH_ARM64_ROOT:-/var/cache/rnnscratch-arm64/root}
PKGS=python3-numpy,python3-dev,python3-pytest,python3-hypothesis,gcc,libc6-dev
log() { echo "[arm64 $(( $(date +%s) - t_start ))s] $*" >&2; }

# ---- 1. host tools
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=900 \
        "${need[@]}" >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    echo "arm64.sh: the qemu-aarch64 binfmt handler could not be enabled" >&2
    exit 1
fi

# ---- 2. the arm64 root (cached; rebuilt when the package list changes)
stamp="$ROOT/.rnnscratch-packages"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$PKGS" ]; then
    # shellcheck disable=SC1091
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    log "building the arm64 $suite root in $ROOT (once; ~6 min)"
    rm -rf "$ROOT.tmp"
    mkdir -p "$(dirname "$ROOT")"
    mmdebstrap --quiet --arch=arm64 --variant=apt --include="$PKGS" "$suite" "$ROOT.tmp" >&2
    echo "$PKGS" > "$ROOT.tmp/.rnnscratch-packages"
    rm -rf "$ROOT"
    mv "$ROOT.tmp" "$ROOT"
fi
log "root: $ROOT ($(chroot "$ROOT" python3 -c 'import sys, numpy, platform; print(platform.machine(), sys.version.split()[0], "numpy", numpy.__version__)'))"
[ "${ARM64_STAGE:-}" = root ] && exit 0

# ---- 3. the package, into the root's /tmp/rnnscratch
dest="$ROOT/tmp/rnnscratch"
rm -rf "$dest"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard -- rnnscratch tests csrc setup.py \
    pyproject.toml README.md | xargs -0 tar -cf - | tar -xf - -C "$dest"
pyver=$(chroot "$ROOT" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ext_suffix=$(chroot "$ROOT" python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
npinc=$(chroot "$ROOT" python3 -c 'import numpy; print(numpy.get_include())')
cflags=(-O3 -std=c11 -Wall -Wextra -Wno-unused-parameter -fno-math-errno -ffp-contract=off
        -pthread -fPIC -fno-strict-overflow -DNDEBUG)
if [ "${ARM64_BUILD:-cross}" = native ]; then
    log "building inside the root (emulated gcc)"
    chroot "$ROOT" sh -c "cd /tmp/rnnscratch && python3 setup.py -q build_ext --inplace" >&2
else
    log "cross-compiling _core$ext_suffix with $(aarch64-linux-gnu-gcc -dumpversion)"
    objs=()
    pids=()
    mkdir -p "$dest/build-cross"
    flagstr="${cflags[*]}"
    for src in "$dest"/csrc/*.c; do
        obj="$dest/build-cross/$(basename "$src" .c).o"
        aarch64-linux-gnu-gcc "${cflags[@]}" \
            -I"$ROOT/usr/include/python$pyver" \
            -I"$ROOT/usr/include/aarch64-linux-gnu/python$pyver" \
            -I"$ROOT$npinc" -I"$dest/csrc" -idirafter "$ROOT/usr/include" \
            -DNPY_TARGET_VERSION=NPY_1_23_API_VERSION \
            "-DRS_BUILD_FLAGS=\"$flagstr\"" \
            -c "$src" -o "$obj" &
        pids+=($!)
        objs+=("$obj")
        # two compilers at a time (a 2-core machine)
        if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    done
    for p in "${pids[@]}"; do wait "$p"; done
    aarch64-linux-gnu-gcc -shared -pthread "${objs[@]}" -o "$dest/rnnscratch/_core$ext_suffix" -lm
fi
file "$dest/rnnscratch/_core$ext_suffix" | sed 's/^.*: /built: /' >&2

# ---- 4. the book's code, outside the repository copy
course_src=${RNNSCRATCH_COURSE_DIR:-$repo/../shared/course}
rm -rf "$ROOT/tmp/course"
if [ -d "$course_src/common" ]; then
    cp -r "$course_src" "$ROOT/tmp/course"
else
    echo "arm64.sh: no book code at $course_src (set RNNSCRATCH_COURSE_DIR): the parity tests will skip" >&2
fi

# ---- 5. the checks
run() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 \
            PYTHONDONTWRITEBYTECODE=1 RNNSCRATCH_COURSE_DIR=/tmp/course "$@"; }
paths=$(run python3 -c 'import sys; sys.path.insert(0, "/tmp/rnnscratch"); from rnnscratch import _core; print(" ".join(_core.available_simd_paths()))')
log "available_simd_paths() on arm64: $paths"
case " $paths " in
    *" neon "*) ;;
    *) echo "arm64.sh: 'neon' is not among the arm64 paths ($paths)" >&2; exit 1 ;;
esac

# the bits against this machine's: NEON vs the x86 SIMD path (both fuse
# every multiply-add the same way), portable vs portable (no fusing at all)
if [ -f "$repo/.ci/arm64_bits.py" ]; then
    cp "$repo/.ci/arm64_bits.py" "$ROOT/tmp/arm64_bits.py"
    host_py=${ARM64_HOST_PYTHON:-python3}
    if "$host_py" -c 'import rnnscratch._core' 2>/dev/null; then
        x86=$("$host_py" -c 'from rnnscratch import _core; p = _core.available_simd_paths(); print("avx2" if "avx2" in p else "")')
        for pair in "$x86:neon" "portable:portable"; do
            hp=${pair%%:*} ap=${pair##*:}
            [ -n "$hp" ] || continue
            run python3 /tmp/arm64_bits.py /tmp/rnnscratch "$ap" > "$ROOT/tmp/bits-arm.txt"
            "$host_py" "$repo/.ci/arm64_bits.py" "" "$hp" > "$ROOT/tmp/bits-x86.txt"
            if diff -u "$ROOT/tmp/bits-x86.txt" "$ROOT/tmp/bits-arm.txt" >&2; then
                log "bits: arm64 $ap == x86 $hp on $(wc -l < "$ROOT/tmp/bits-arm.txt") kernel results"
            else
                echo "arm64.sh: arm64 $ap bits differ from x86 $hp (diff above)" >&2
                exit 1
            fi
        done
    else
        log "bits: no build of rnnscratch for $host_py on this machine (set ARM64_HOST_PYTHON): not compared"
    fi
fi

# The suites, once per path. Emulation runs them ~5x slower than this machine
# natively (more for float128 long doubles, done in software on aarch64), so
# a selection: the kernels (gemm edges through strided operands, every SIMD
# path vs the reference, the thread count), the gated and attention and
# language-model kernels, the optimizers, the registry's gradient checks, and
# parity with the book's classes. ARM64_SUITES / ARM64_K override it.
SUITES=${ARM64_SUITES:-"tests/test_simd_paths.py tests/test_gemm_threads.py tests/test_rnn.py tests/test_gated_core.py tests/test_optim.py tests/test_attention.py tests/test_lm_layers.py tests/test_gradcheck.py tests/test_course_parity.py"}
# Left out besides the slow ones: the two tests whose oracle is NumPy's own
# float32 arithmetic (np.sum's pairwise order, also in clip_grads; the book's Adam):
# Debian bookworm's NumPy 1.24 on aarch64 differs from ours (= NumPy 2.x on
# x86) there, on the portable and the NEON path alike (an open question, see
# notes/BENCHMARKS-arm.md), not a kernel-path difference.
# clip_and_update too: under NumPy 1.24 a float32 clip rate is float64, its float32
# path is NumPy's own arithmetic, and it differed from clip_grads + update by 1 ulp in
# 2.5 % of a large array's elements there (2026-12-06; not investigated further).
KEXPR=${ARM64_K:-"not test_edges_against_triple_loop and not large_products and not head_on_both and not test_sum_squares_is_numpys_bit_for_bit and not test_adam_one_pass_is_the_books_bit_for_bit and not test_clip_grads_is_the_books_bit_for_bit and not test_clip_and_update_is_clip_then_update_bit_for_bit"}
status=0
summary=""
for path in portable neon; do
    log "pytest on the $path path"
    logf="$ROOT/tmp/pytest-$path.log"
    # shellcheck disable=SC2086
    if run sh -c "cd /tmp/rnnscratch && RNNSCRATCH_SIMD_PATH=$path python3 -m pytest -q -p no:cacheprovider -k '$KEXPR' $SUITES" > "$logf" 2>&1; then
        :
    else
        status=1
        grep -E "^(FAILED|ERROR)" "$logf" | head -n 20 >&2 || true
    fi
    summary=$(tail -n 1 "$logf")
    log "$path path: $summary"
done
log "done in $(( $(date +%s) - t_start ))s (exit status $status: both paths)"
echo "$summary"   # the neon run's pytest summary
exit $status
}
main "$@"
