/* sgd.c's avx2 functions, in their own translation unit: compiled only when
 * the SIMD paths are split out (RS_SPLIT_TU: MSVC, with /arch:AVX2),
 * with the flags of setup.py's FILE_FLAGS. See compat.h. */
#define RS_TU_PATH 1
#include "../sgd.c"
