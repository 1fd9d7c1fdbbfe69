/* bindings.h -- what each binding file (bind_*.c, one per layer family)
 * gives module.c: its method table and its argument tables (checked once,
 * at import). A new family adds two lines here and one in module.c. */
#ifndef RNNSCRATCH_BINDINGS_H
#define RNNSCRATCH_BINDINGS_H

#include "args.h"

#define RS_FAMILY(name) \
    extern PyMethodDef rs_##name##_methods[]; \
    extern const ArgTable rs_##name##_tables[];

RS_FAMILY(rnn)   /* bind_rnn.c: rnn_*, time_rnn_* */
RS_FAMILY(gated) /* bind_gated.c: lstm_*, time_lstm_*, gru_*, time_gru_* */
RS_FAMILY(lm)    /* bind_lm.c: embedding_*, time_affine_*, softmax_cross_entropy_*, the fused head */
RS_FAMILY(attention) /* bind_attention.c: attention_weight_*, weight_sum_*, time_attention_* */
RS_FAMILY(util)  /* bind_util.c: matmul, sgd_update, threads, SIMD paths */

#undef RS_FAMILY

/* a method table entry for py_NAME with docstring NAME_doc (args and keywords) */
#define METHOD(name) \
    {#name, (PyCFunction)(void (*)(void))py_##name, METH_VARARGS | METH_KEYWORDS, name##_doc}

#endif
