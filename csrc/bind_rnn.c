/* bind_rnn.c -- _core bindings of the vanilla RNN: one step and a sequence.
 * Kernels: rnn.h. Machinery and the table format: args.h. */
#include "args.h"
#include "bindings.h"
#include "rnn.h"

/* The arrays of the backward functions are checked in the forward's order:
   the parameters, the forward's inputs and outputs, then the upstream
   gradient (so a size is blamed on the same argument as in the forward). */

CORE_FN(rnn_forward,
    .kernel = "rnn_forward",
    .args = {
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        RECURRENT_WEIGHTS("H"),
        OPT_PARAM("b", "H"),
        ACTIVATION,
    },
    .results = {RESULT("h_next", "N H")},
    .doc = "One RNN step: h_next (N,H) = f(x (N,D) @ Wx (D,H) + h_prev (N,H) @ Wh (H,H) + b (H,)).\n"
           "h_prev and b may be None (zeros, no bias).");

KERNEL_BODY(rnn_forward, 0, rnn_forward,
            DATA("h_next"), DATA("x"), DATA("h_prev"), DATA("Wx"), DATA("Wh"), DATA("b"), N, D,
            H, ACT)

CORE_FN(rnn_backward,
    .kernel = "rnn_backward",
    .order = "Wx Wh b x h_prev h_next",
    .args = {
        INPUT("dh_next", "N H"),
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        INPUT("h_next", "N H"),
        RECURRENT_WEIGHTS("H"),
        RECURRENT_GRADS("H"),
        ACTIVATION,
        ACCUMULATE,
        OPT_PARAM("b", "H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dx", "N D"), RESULT("dh_prev", "N H")},
    .doc = "Backward of one RNN step. Returns dx (N,D) and dh_prev (N,H); writes the\n"
           "gradients into dWx (D,H), dWh (H,H) and db (H,) (any floating dtype and\n"
           "layout), overwriting them, or adding to them with accumulate=True.\n"
           "h_next is the forward output; f' is taken from it. b, the layer's bias, only\n"
           "takes part in choosing the compute dtype, as in rnn_forward.");

KERNEL_BODY(rnn_backward, WORK_SIZE(c, rnn_backward, N, D, H), rnn_backward,
            DATA("dx"), DATA("dh_prev"), DATA("dWx"), DATA("dWh"), DATA("db"), WORK,
            DATA("dh_next"), DATA("x"), DATA("h_prev"), DATA("h_next"), DATA("Wx"), DATA("Wh"),
            N, D, H, ACT)

CORE_FN(time_rnn_forward,
    .kernel = "time_rnn_forward",
    .args = {
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        RECURRENT_WEIGHTS("H"),
        OPT_PARAM("b", "H"),
        ACTIVATION,
    },
    .results = {RESULT("hs", "N T H")},
    .doc = "A whole sequence: hs[:, t] = f(xs[:, t] @ Wx + hs[:, t-1] @ Wh + b), starting\n"
           "from h0 (N,H) (None = zeros). xs (N,T,D) -> hs (N,T,H).");

KERNEL_BODY(time_rnn_forward, WORK_SIZE(c, time_rnn_forward, N, T, D, H), time_rnn_forward,
            DATA("hs"), WORK, DATA("xs"), DATA("h0"), DATA("Wx"), DATA("Wh"), DATA("b"), N, T,
            D, H, ACT)

CORE_FN(time_rnn_backward,
    .kernel = "time_rnn_backward",
    .order = "Wx Wh b xs h0 hs",
    .args = {
        INPUT("dhs", "N T H"),
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        INPUT("hs", "N T H"),
        RECURRENT_WEIGHTS("H"),
        RECURRENT_GRADS("H"),
        ACTIVATION,
        ACCUMULATE,
        OPT_PARAM("b", "H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dxs", "N T D"), RESULT("dh0", "N H")},
    .doc = "Backpropagation through time. dhs (N,T,H) is the upstream gradient of hs,\n"
           "hs the forward output, h0 (N,H) the initial state (None = zeros). Returns\n"
           "dxs (N,T,D) and dh0 (N,H); writes the sums over time of dWx (D,H), dWh (H,H)\n"
           "and db (H,) into the given arrays (overwriting, or adding with accumulate=True).\n"
           "b, the layer's bias, only takes part in choosing the compute dtype.");

KERNEL_BODY(time_rnn_backward, WORK_SIZE(c, time_rnn_backward, N, T, D, H), time_rnn_backward,
            DATA("dxs"), DATA("dh0"), DATA("dWx"), DATA("dWh"), DATA("db"), WORK, DATA("dhs"),
            DATA("xs"), DATA("h0"), DATA("hs"), DATA("Wx"), DATA("Wh"), N, T, D, H, ACT)

CoreFn *const rs_rnn_fns[] = {
    &rnn_forward_fn, &rnn_backward_fn, &time_rnn_forward_fn, &time_rnn_backward_fn, NULL,
};
