/* bindings.h -- what each binding file (bind_*.c, one per layer family)
 * gives module.c: its tables (CoreFn, args.h), checked once at import and
 * turned into the module's functions. A new family adds one line here and
 * one in FAMILIES (module.c). */
#ifndef RNNSCRATCH_BINDINGS_H
#define RNNSCRATCH_BINDINGS_H

#include "args.h"

extern CoreFn *const rs_rnn_fns[];       /* bind_rnn.c: rnn_*, time_rnn_* */
extern CoreFn *const rs_gated_fns[];     /* bind_gated.c: lstm_*, time_lstm_*, gru_*, time_gru_* */
extern CoreFn *const rs_lm_fns[];        /* bind_lm.c: embedding_*, time_affine_*,
                                            softmax_cross_entropy_*, the fused heads */
extern CoreFn *const rs_attention_fns[]; /* bind_attention.c: attention_weight_*,
                                            weight_sum_*, time_attention_* */
extern CoreFn *const rs_util_fns[];      /* bind_util.c: matmul, sgd_update, adam_update,
                                            sum_squares */
extern PyMethodDef rs_util_methods[];    /* bind_util.c: threads, SIMD paths (METH_O/NOARGS) */

/* Argument groups several functions share (in their Python order). The
   recurrent layers' weights and gradients, k the width of their gate blocks
   ("H", "4H" LSTM, "3H" GRU): Wx (D,k), Wh (H,k); dWx, dWh, db=None. */
#define RECURRENT_WEIGHTS(k) PARAM("Wx", "D " k), PARAM("Wh", "H " k)
#define RECURRENT_GRADS(k) GRAD("dWx", "D " k), GRAD("dWh", "H " k), OPT_GRAD("db", k)
/* the attention's encoder and decoder states (they choose the dtype) */
#define HS_ENC PARAM("hs_enc", "N S H")
#define HS_DEC PARAM("hs_dec", "N T H")

#endif
