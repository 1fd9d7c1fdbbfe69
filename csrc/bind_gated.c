/* bind_gated.c -- _core bindings of the gated layers: LSTM (gate blocks f, g,
 * i, o) and GRU (blocks z, r, h~), one step and a sequence.
 * Kernels: lstm.h, gru.h. Machinery and the table format: args.h.
 *
 * The forward returns a cache the backward takes back: LSTM (N,[T,]4H) the
 * gate activations f, g, i, o; GRU (N,[T,]4H) z, r, h~ and r*h_prev. The
 * backward functions check their arrays in the forward's order (`order`):
 * the parameters, the forward's inputs and outputs, then the upstream
 * gradients. */
#include "args.h"
#include "bindings.h"
#include "gru.h"
#include "lstm.h"

CORE_FN(lstm_forward,
    .kernel = "lstm_forward",
    .args = {
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        OPT_INPUT("c_prev", "N H"),
        RECURRENT_WEIGHTS("4H"),
        OPT_PARAM("b", "4H"),
    },
    .results = {RESULT("h_next", "N H"), RESULT("c_next", "N H"), RESULT("cache", "N 4H")},
    .doc = "One LSTM step, gate blocks f, g, i, o: x (N,D), h_prev and c_prev (N,H) or None\n"
           "(zeros), Wx (D,4H), Wh (H,4H), b (4H,) or None. Returns h_next, c_next (N,H) and\n"
           "cache (N,4H), the gate activations lstm_backward takes back.");

KERNEL_BODY(lstm_forward, WORK_SIZE(c, lstm_forward, N, D, H), lstm_forward,
            DATA("h_next"), DATA("c_next"), DATA("cache"), WORK, DATA("x"), DATA("h_prev"),
            DATA("c_prev"), DATA("Wx"), DATA("Wh"), DATA("b"), N, D, H)

CORE_FN(lstm_backward,
    .kernel = "lstm_backward",
    .order = "Wx Wh b x h_prev c_prev c_next cache",
    .args = {
        INPUT("dh_next", "N H"),
        OPT_INPUT("dc_next", "N H"),
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        OPT_INPUT("c_prev", "N H"),
        INPUT("c_next", "N H"),
        INPUT("cache", "N 4H"),
        RECURRENT_WEIGHTS("4H"),
        RECURRENT_GRADS("4H"),
        ACCUMULATE,
        OPT_PARAM("b", "4H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dx", "N D"), RESULT("dh_prev", "N H"), RESULT("dc_prev", "N H")},
    .doc = "Backward of one LSTM step. dc_next, h_prev and c_prev may be None (zeros); c_next\n"
           "and cache are lstm_forward's outputs. Returns dx (N,D), dh_prev and dc_prev (N,H);\n"
           "writes dWx (D,4H), dWh (H,4H) and db (4H,) (any floating dtype and layout),\n"
           "overwriting them, or adding to them with accumulate=True. b, the layer's bias,\n"
           "only takes part in choosing the compute dtype.");

KERNEL_BODY(lstm_backward, WORK_SIZE(c, lstm_backward, N, D, H), lstm_backward,
            DATA("dx"), DATA("dh_prev"), DATA("dc_prev"), DATA("dWx"), DATA("dWh"), DATA("db"),
            WORK, DATA("dh_next"), DATA("dc_next"), DATA("x"), DATA("h_prev"), DATA("c_prev"),
            DATA("c_next"), DATA("cache"), DATA("Wx"), DATA("Wh"), N, D, H)

CORE_FN(time_lstm_forward,
    .kernel = "time_lstm_forward",
    .args = {
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        OPT_INPUT("c0", "N H"),
        RECURRENT_WEIGHTS("4H"),
        OPT_PARAM("b", "4H"),
    },
    .results = {RESULT("hs", "N T H"), RESULT("cs", "N T H"), RESULT("cache", "N T 4H")},
    .doc = "A whole LSTM sequence from h0, c0 (N,H) (None = zeros): xs (N,T,D) -> hs and cs\n"
           "(N,T,H), and cache (N,T,4H), the gate activations f, g, i, o of every step,\n"
           "which time_lstm_backward takes back.");

KERNEL_BODY(time_lstm_forward, WORK_SIZE(c, time_lstm_forward, N, T, D, H), time_lstm_forward,
            DATA("hs"), DATA("cs"), DATA("cache"), WORK, DATA("xs"), DATA("h0"), DATA("c0"),
            DATA("Wx"), DATA("Wh"), DATA("b"), N, T, D, H)

CORE_FN(time_lstm_backward,
    .kernel = "time_lstm_backward",
    .order = "Wx Wh b xs h0 c0 hs cs cache",
    .args = {
        INPUT("dhs", "N T H"),
        OPT_INPUT("dcT", "N H"),
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        OPT_INPUT("c0", "N H"),
        INPUT("hs", "N T H"),
        INPUT("cs", "N T H"),
        INPUT("cache", "N T 4H"),
        RECURRENT_WEIGHTS("4H"),
        RECURRENT_GRADS("4H"),
        ACCUMULATE,
        OPT_PARAM("b", "4H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dxs", "N T D"), RESULT("dh0", "N H"), RESULT("dc0", "N H")},
    .doc = "Backpropagation through time of time_lstm_forward. dhs (N,T,H) is the upstream\n"
           "gradient of hs, dcT (N,H) that of the last cell state (None = zeros); h0, c0 the\n"
           "initial state (None = zeros); hs, cs, cache the forward's outputs. Returns dxs\n"
           "(N,T,D), dh0 and dc0 (N,H); writes the sums over time of dWx (D,4H), dWh (H,4H)\n"
           "and db (4H,) (overwriting, or adding with accumulate=True). b, the layer's bias,\n"
           "only takes part in choosing the compute dtype.");

KERNEL_BODY(time_lstm_backward, WORK_SIZE(c, time_lstm_backward, N, T, D, H), time_lstm_backward,
            DATA("dxs"), DATA("dh0"), DATA("dc0"), DATA("dWx"), DATA("dWh"), DATA("db"), WORK,
            DATA("dhs"), DATA("dcT"), DATA("xs"), DATA("h0"), DATA("c0"), DATA("hs"),
            DATA("cs"), DATA("cache"), DATA("Wx"), DATA("Wh"), N, T, D, H)

CORE_FN(gru_forward,
    .kernel = "gru_forward",
    .args = {
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        RECURRENT_WEIGHTS("3H"),
        OPT_PARAM("b", "3H"),
    },
    .results = {RESULT("h_next", "N H"), RESULT("cache", "N 4H")},
    .doc = "One GRU step, blocks z, r, h~ (the reset gate applied to h_prev before its product\n"
           "with Whh): x (N,D), h_prev (N,H) or None (zeros), Wx (D,3H), Wh (H,3H), b (3H,)\n"
           "or None. Returns h_next (N,H) and cache (N,4H): z, r, h~, r*h_prev, which\n"
           "gru_backward takes back.");

KERNEL_BODY(gru_forward, WORK_SIZE(c, gru_forward, N, D, H), gru_forward,
            DATA("h_next"), DATA("cache"), WORK, DATA("x"), DATA("h_prev"), DATA("Wx"),
            DATA("Wh"), DATA("b"), N, D, H)

CORE_FN(gru_backward,
    .kernel = "gru_backward",
    .order = "Wx Wh b x h_prev cache",
    .args = {
        INPUT("dh_next", "N H"),
        INPUT("x", "N D"),
        OPT_INPUT("h_prev", "N H"),
        INPUT("cache", "N 4H"),
        RECURRENT_WEIGHTS("3H"),
        RECURRENT_GRADS("3H"),
        ACCUMULATE,
        OPT_PARAM("b", "3H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dx", "N D"), RESULT("dh_prev", "N H")},
    .doc = "Backward of one GRU step; h_prev may be None (zeros), cache is gru_forward's.\n"
           "Returns dx (N,D) and dh_prev (N,H); writes dWx (D,3H), dWh (H,3H) and db (3H,)\n"
           "(overwriting, or adding with accumulate=True). b only takes part in the dtype rule.");

KERNEL_BODY(gru_backward, WORK_SIZE(c, gru_backward, N, D, H), gru_backward,
            DATA("dx"), DATA("dh_prev"), DATA("dWx"), DATA("dWh"), DATA("db"), WORK,
            DATA("dh_next"), DATA("x"), DATA("h_prev"), DATA("cache"), DATA("Wx"), DATA("Wh"),
            N, D, H)

CORE_FN(time_gru_forward,
    .kernel = "time_gru_forward",
    .args = {
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        RECURRENT_WEIGHTS("3H"),
        OPT_PARAM("b", "3H"),
    },
    .results = {RESULT("hs", "N T H"), RESULT("cache", "N T 4H")},
    .doc = "A whole GRU sequence from h0 (N,H) (None = zeros): xs (N,T,D) -> hs (N,T,H) and\n"
           "cache (N,T,4H): z, r, h~, r*h_prev of every step, which time_gru_backward takes back.");

KERNEL_BODY(time_gru_forward, WORK_SIZE(c, time_gru_forward, N, T, D, H), time_gru_forward,
            DATA("hs"), DATA("cache"), WORK, DATA("xs"), DATA("h0"), DATA("Wx"), DATA("Wh"),
            DATA("b"), N, T, D, H)

CORE_FN(time_gru_backward,
    .kernel = "time_gru_backward",
    .order = "Wx Wh b xs h0 hs cache",
    .args = {
        INPUT("dhs", "N T H"),
        INPUT("xs", "N T D"),
        OPT_INPUT("h0", "N H"),
        INPUT("hs", "N T H"),
        INPUT("cache", "N T 4H"),
        RECURRENT_WEIGHTS("3H"),
        RECURRENT_GRADS("3H"),
        ACCUMULATE,
        OPT_PARAM("b", "3H"), /* only for the dtype rule, as in forward */
    },
    .results = {RESULT("dxs", "N T D"), RESULT("dh0", "N H")},
    .doc = "Backpropagation through time of time_gru_forward: dhs (N,T,H) the upstream gradient\n"
           "of hs, h0 (N,H) or None (zeros), hs and cache the forward's outputs. Returns dxs\n"
           "(N,T,D) and dh0 (N,H); writes the sums over time of dWx (D,3H), dWh (H,3H) and db\n"
           "(3H,) (overwriting, or adding with accumulate=True). b only takes part in the\n"
           "dtype rule.");

KERNEL_BODY(time_gru_backward, WORK_SIZE(c, time_gru_backward, N, T, D, H), time_gru_backward,
            DATA("dxs"), DATA("dh0"), DATA("dWx"), DATA("dWh"), DATA("db"), WORK, DATA("dhs"),
            DATA("xs"), DATA("h0"), DATA("hs"), DATA("cache"), DATA("Wx"), DATA("Wh"), N, T, D,
            H)

CoreFn *const rs_gated_fns[] = {
    &lstm_forward_fn, &lstm_backward_fn, &time_lstm_forward_fn, &time_lstm_backward_fn,
    &gru_forward_fn,  &gru_backward_fn,  &time_gru_forward_fn,  &time_gru_backward_fn,
    NULL,
};
