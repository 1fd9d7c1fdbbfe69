#!/usr/bin/env bash
# A compile check of the C extension for macOS (Apple silicon and Intel) from
# Linux, with zig's clang and macOS libc headers (pip's `ziglang`). Run by
# hand, not by .ci/run:   bash .ci/macos-cross.sh
#
# What it checks, for -target aarch64-macos and x86_64-macos:
#  - every csrc/*.c compiles warning-free (-Werror) with the setup.py flags
#    and the macOS default backend (RNNSCRATCH_BLAS=accelerate: RS_CBLAS,
#    RS_CBLAS_ACCELERATE, ACCELERATE_NEW_LAPACK), the NEON path on arm64, the
#    x86 paths on x86_64, the sysctlbyname thread default (__APPLE__);
#  - the objects link into a Mach-O bundle (symbols from Python and
#    Accelerate left to the loader: -undefined dynamic_lookup), which
#    references _cblas_sgemm and _cblas_dgemm.
# What it cannot check here: there is no macOS SDK, so Accelerate's own header
# (<Accelerate/Accelerate.h>; csrc/blas.h then declares the standard CBLAS
# prototypes itself) and `-framework Accelerate` are not used, and nothing
# runs. Python and NumPy headers are this machine's (Linux's pyconfig.h): a
# compile check of our code, not a build of a wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
venv=${RNNSCRATCH_ZIG_VENV:-/tmp/rnnscratch-zig-venv}
if ! "$venv/bin/python" -m ziglang version >/dev/null 2>&1; then
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q ziglang
fi
zig=("$venv/bin/python" -m ziglang)
pyinc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
npinc=$("$py" -c 'import numpy; print(numpy.get_include())')
flags=(-O3 -std=c11 -Wall -Wextra -Wno-unused-parameter -fno-math-errno -ffp-contract=off
       -Werror -fPIC -DNPY_TARGET_VERSION=NPY_1_23_API_VERSION -DRS_BUILD_FLAGS='"cross"'
       -DRS_CBLAS=1 -DRS_CBLAS_ACCELERATE=1 -DACCELERATE_NEW_LAPACK=1)
out=$(mktemp -d)
status=0
# This machine's NumPy was configured on Linux (NPY_HAVE_ENDIAN_H): macOS has
# the same macros in <machine/endian.h>.
mkdir -p "$out/shim"
printf '#include <machine/endian.h>\n' > "$out/shim/endian.h"
for target in aarch64-macos x86_64-macos; do
    mkdir -p "$out/$target"
    objs=()
    for src in csrc/*.c; do
        obj="$out/$target/$(basename "$src" .c).o"
        if ! "${zig[@]}" cc -target "$target" "${flags[@]}" -I"$pyinc" -I"$npinc" -Icsrc -idirafter "$out/shim" \
                -c "$src" -o "$obj"; then
            echo "macos-cross: $target: $src does not compile" >&2
            status=1
        fi
        objs+=("$obj")
    done
    [ $status = 0 ] || continue
    so="$out/$target/_core.cpython-darwin.so"
    "${zig[@]}" cc -target "$target" -shared -undefined dynamic_lookup "${objs[@]}" -o "$so"
    kind=$(file -b "$so" | cut -c1-40)
    # the symbol table, read with Python (binutils' nm does not read Mach-O):
    # strings in the bundle that name the undefined CBLAS symbols and our kernel
    refs=$(python3 - "$so" "$out/$target/gemm.o" <<'PYEOF'
import sys
so, gemm = (open(p, "rb").read() for p in sys.argv[1:3])
n = sum(so.count(b"\0_cblas_%sgemm\0" % t) > 0 for t in (b"s", b"d"))
k = gemm.count(b"\0_kern_neon_f32\0") > 0 or gemm.count(b"_tile_neon_f32\0") > 0
print(n, int(k))
PYEOF
)
    nblas=${refs% *} neon=${refs#* }
    echo "$target: ${#objs[@]} files compiled; $kind; cblas_sgemm/dgemm named: $nblas of 2; NEON kernel in gemm.o: $neon"
    if [ "$nblas" != 2 ]; then status=1; fi
    if [ "$target" = aarch64-macos ] && [ "$neon" != 1 ]; then status=1; fi
done
rm -rf "$out"
[ $status = 0 ] && echo "macos-cross: OK (compiled and linked, not run)"
exit $status
