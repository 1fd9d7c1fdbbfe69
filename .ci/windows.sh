#!/usr/bin/env bash
# .ci/windows.sh -- the C kernels and the thread pool on Windows, without Windows: MinGW-w64
# cross-compiles them with .ci/windows/kernels_test.c into a console program, and wine runs it.
#
#   .ci/windows.sh            # installs mingw-w64 and wine (apt-get) when missing; ~1-2 minutes
#
# Two builds, both run under wine, each checking the Win32 thread pool (1-8 threads, the same
# bits for every count), the CPU dispatch (the MSVC code, CPUID + XGETBV, compiled with
# -DRS_CPUID_MANUAL, against gcc's __builtin_cpu_supports) and every kernel family against a
# plain-C oracle, on every SIMD path the CPU has:
#   1. "attributes": the gcc/clang layout (per-function target attributes), as a MinGW or
#      MSYS2 Python builds the extension;
#   2. "split": the MSVC layout (RS_SPLIT_TU=1: the vectorized loops in csrc/simd/*.c, compiled
#      with -mavx2 -mfma / -mavx512*, as setup.py's FILE_FLAGS give /arch:AVX2 / /arch:AVX512).
# The last line is the total, "N passed, M failed"; the exit status is non-zero on any failure.
# Not covered here (no MSVC on Linux): MSVC's own code generation, its C11 atomics
# (/experimental:c11atomics), __forceinline and its vectorizer; see notes/README-wheels.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
wine_bin=""
for w in wine /usr/lib/wine/wine64 wine64; do
    if command -v "$w" >/dev/null 2>&1; then wine_bin=$(command -v "$w"); break; fi
done
[ -n "$wine_bin" ] || need+=(wine wine64)
if [ ${#need[@]} -gt 0 ]; then
    echo "windows.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${need[@]}" >/dev/null
    for w in wine /usr/lib/wine/wine64 wine64; do
        if command -v "$w" >/dev/null 2>&1; then wine_bin=$(command -v "$w"); break; fi
    done
fi
[ -n "$wine_bin" ] || { echo "windows.sh: no wine after installing it"; exit 2; }

CC=x86_64-w64-mingw32-gcc
work=$(mktemp -d "${TMPDIR:-/tmp}/rnnscratch-win.XXXXXX")
export WINEPREFIX="$work/prefix" WINEDEBUG=-all
trap 'wineserver -k >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# the kernel files: every csrc/*.c but the Python bindings
kernels=()
for f in csrc/*.c; do
    case "$(basename "$f")" in
        bind_*|module.c|args.c) ;;
        *) kernels+=("$f") ;;
    esac
done
cflags=(-O2 -std=c11 -Wall -Wextra -Wno-unused-parameter -Icsrc)
avx2=(-mavx2 -mfma -Wno-unused-function)
avx512=(-mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma -Wno-unused-function)

build() { # build NAME EXTRA_CFLAGS... -> $work/NAME.exe
    local name=$1; shift
    local dir="$work/$name" objs=()
    mkdir -p "$dir"
    for f in "${kernels[@]}" .ci/windows/kernels_test.c; do
        local extra=()
        [ "$(basename "$f")" = cpu.c ] && extra=(-DRS_CPUID_MANUAL -mxsave) # the MSVC detection
        $CC "${cflags[@]}" "$@" "${extra[@]}" -c "$f" -o "$dir/$(basename "$f" .c).o"
        objs+=("$dir/$(basename "$f" .c).o")
    done
    if [[ " $* " == *" -DRS_SPLIT_TU=1 "* ]]; then
        for f in csrc/simd/*_avx2.c; do
            $CC "${cflags[@]}" "$@" "${avx2[@]}" -c "$f" -o "$dir/simd_$(basename "$f" .c).o"
            objs+=("$dir/simd_$(basename "$f" .c).o")
        done
        for f in csrc/simd/*_avx512.c; do
            $CC "${cflags[@]}" "$@" "${avx512[@]}" -c "$f" -o "$dir/simd_$(basename "$f" .c).o"
            objs+=("$dir/simd_$(basename "$f" .c).o")
        done
    fi
    $CC -o "$work/$name.exe" "${objs[@]}" -lm
}

total_pass=0
total_fail=0
run() { # run NAME: the program under wine; adds its counts to the totals
    local name=$1 out="$work/$1.out" rc=0
    echo "== $name: $(basename "$wine_bin") $name.exe"
    timeout 900 "$wine_bin" "$work/$name.exe" >"$out" 2>"$work/$name.err" || rc=$?
    grep -E '^(FAIL|pool:|cpu:)' "$out" | head -n 40 || true
    local last
    last=$(tr -d '\r' <"$out" | tail -n 1)
    echo "$name: $last (exit $rc)"
    if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        total_pass=$((total_pass + BASH_REMATCH[1]))
        total_fail=$((total_fail + BASH_REMATCH[2]))
        [ "$rc" = 0 ] || [ "${BASH_REMATCH[2]}" != 0 ] || total_fail=$((total_fail + 1))
    else
        echo "$name: no result line; stderr:"; tail -n 20 "$work/$name.err"
        total_fail=$((total_fail + 1))
    fi
}

"$wine_bin" cmd /c exit >/dev/null 2>&1 || true # create the prefix once, quietly
build attributes
run attributes
build split -DRS_SPLIT_TU=1
run split
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
