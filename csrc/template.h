/* template.h -- the one way float and double code is written once.
 *
 * A template is a header written with these names:
 *   REAL        float | double
 *   RS_SUFFIX   f32   | f64
 *   RS_F64      0     | 1        (for the few lines that differ: #if RS_F64)
 *   FN(name)    name_f32 | name_f64
 * It is instantiated for both types by two lines, in a .c file (definitions)
 * or a .h file (prototypes):
 *
 *   #define RS_TEMPLATE "rnn_impl.h"
 *   #include "template.h"
 *
 * A family's public header declares its kernels this way, as its own
 * template: its public part, under the include guard, instantiates the file
 * itself with RS_DECLS defined, and the part under RS_DECLS holds the
 * prototypes (rnn.h):
 *
 *   #ifndef RS_DECLS
 *   #ifndef RNNSCRATCH_RNN_H
 *   #define RNNSCRATCH_RNN_H
 *   ... the formulas, types and plain functions ...
 *   #define RS_DECLS
 *   #define RS_TEMPLATE "rnn.h"
 *   #include "template.h"
 *   #undef RS_DECLS
 *   #endif
 *   #else
 *   void FN(rnn_forward)(REAL *h_next, ...);
 *   #endif
 *
 * A template #undefs the macros it defines itself; the ones above are
 * defined and undefined here, so no instantiating file keeps a list of them.
 * (Not include-guarded: it is meant to be included many times.)
 */
#ifndef RS_TEMPLATE
#  error "define RS_TEMPLATE (the template header to instantiate) before including template.h"
#endif
#include "compat.h"

#define FN(name) RS_CAT(name, RS_SUFFIX)

#define REAL float
#define RS_SUFFIX f32
#define RS_F64 0
#include RS_TEMPLATE
#undef REAL
#undef RS_SUFFIX
#undef RS_F64

#define REAL double
#define RS_SUFFIX f64
#define RS_F64 1
#include RS_TEMPLATE
#undef REAL
#undef RS_SUFFIX
#undef RS_F64

#undef FN
#undef RS_TEMPLATE
