/* lstm.c's avx512 functions, in their own translation unit: compiled only when
 * the SIMD paths are split out (RS_SPLIT_TU: MSVC, with /arch:AVX512),
 * with the flags of setup.py's FILE_FLAGS. See compat.h. */
#define RS_TU_PATH 2
#include "../lstm.c"
