/* bind_lm.c -- _core bindings of the language-model layers around the RNN:
 * embedding, affine over a sequence, softmax fused with cross-entropy, and
 * the three fused as the output head. Kernels: lm.h. Machinery and the table format: args.h. */
#include "args.h"
#include "bindings.h"
#include "lm.h"

/* The backward functions check their arrays in the forward's order (`order`):
   the parameter, the forward's input, then the upstream gradient. */

CORE_FN(embedding_forward,
    .kernel = "embedding_forward",
    .args = {IDS("xs", "N T"), PARAM("W", "V D")},
    .results = {RESULT("out", "N T D")},
    .doc = "Rows of W (V,D) picked by the integer word ids xs (N,T): out (N,T,D),\n"
           "out[n, t] = W[xs[n, t]]. Every id must be in [0, V).");

KERNEL_BODY(embedding_forward, 0, embedding_forward,
            DATA("out"), DATA("xs"), DATA("W"), N, T, V, D)

CORE_FN(embedding_backward,
    .kernel = "embedding_backward",
    .order = "W xs",
    .args = {
        INPUT("dout", "N T D"),
        IDS("xs", "N T"),
        PARAM("W", "V D"),
        GRAD("dW", "V D"),
        ACCUMULATE,
    },
    .doc = "Scatter-add of dout (N,T,D) into dW (V,D): dW[xs[n, t]] += dout[n, t], in\n"
           "(n, t) order, so repeated word ids add up. dW (any floating dtype and layout)\n"
           "is overwritten, or added to with accumulate=True. W (V,D) sets the dtype.");

KERNEL_BODY(embedding_backward, 0, embedding_backward,
            DATA("dW"), DATA("dout"), DATA("xs"), N, T, V, D)

CORE_FN(time_affine_forward,
    .kernel = "time_affine_forward",
    .args = {INPUT("x", "N T D"), PARAM("W", "D V"), OPT_PARAM("b", "V")},
    .results = {RESULT("out", "N T V")},
    .doc = "out (N,T,V) = x (N,T,D) @ W (D,V) + b (V,), every time step at once.\n"
           "W may be any layout (e.g. a tied embed_W.T); b may be None.");

KERNEL_BODY(time_affine_forward, 0, time_affine_forward,
            DATA("out"), DATA("x"), DATA("W"), DATA("b"), N, T, D, V)

CORE_FN(time_affine_backward,
    .kernel = "time_affine_backward",
    .order = "W x",
    .args = {
        INPUT("dout", "N T V"),
        INPUT("x", "N T D"),
        PARAM("W", "D V"),
        GRAD("dW", "D V"),
        OPT_GRAD("db", "V"),
        ACCUMULATE,
    },
    .results = {RESULT("dx", "N T D")},
    .doc = "Backward of time_affine_forward: returns dx (N,T,D) = dout (N,T,V) @ W.T and\n"
           "writes dW (D,V) = sum x.T @ dout and db (V,) = sum of dout over N and T into\n"
           "the given arrays (overwriting, or adding with accumulate=True).");

KERNEL_BODY(time_affine_backward, 0, time_affine_backward,
            DATA("dx"), DATA("dW"), DATA("db"), DATA("dout"), DATA("x"), DATA("W"), N, T, D, V)

/* the backward of the tied head */
CORE_FN(tied_affine_backward,
    .kernel = "tied_affine_backward",
    .order = "E x",
    .args = {
        INPUT("dout", "N T V"),
        INPUT("x", "N T D"),
        PARAM("E", "V D"),
        GRAD("dE", "V D"),
        OPT_GRAD("db", "V"),
        ACCUMULATE,
    },
    .results = {RESULT("dx", "N T D")},
    .doc = "time_affine_backward for weight tying, where the affine's W is the embedding\n"
           "matrix E (V,D) transposed: returns dx (N,T,D) = dout (N,T,V) @ E and writes\n"
           "dE (V,D) = dout.T @ x, the affine part of the tied gradient in E's own layout\n"
           "(no transposed copy of either matrix), and db (V,) = dout summed over N and T\n"
           "(db may be None). accumulate=True adds to dE and db instead of overwriting.");

KERNEL_BODY(tied_affine_backward, 0, tied_affine_backward,
            DATA("dx"), DATA("dE"), DATA("db"), DATA("dout"), DATA("x"), DATA("E"), N, T, D, V)

CORE_FN(softmax_cross_entropy_forward,
    .kernel = "softmax_cross_entropy_forward",
    .args = {PARAM("xs", "N T V"), IDS("ts", "N T"), IGNORE_LABEL},
    .results = {LOSS("loss"), RESULT("ys", "N T V")},
    .doc = "Softmax of the logits xs (N,T,V) over V fused with the cross-entropy of the\n"
           "labels ts (N,T): ys (N,T,V) are the probabilities, loss (a float) the mean\n"
           "of -log ys[n, t, ts[n, t]] over the positions whose label is not\n"
           "ignore_label (NaN when there are none). Max-subtracted: no overflow, no log(0).");

LOSS_BODY(softmax_cross_entropy_forward, 0, softmax_cross_entropy_forward,
          DATA("ys"), COUNT, DATA("xs"), DATA("ts"), N, T, V, IGNORE)

CORE_FN(softmax_cross_entropy_backward,
    .kernel = "softmax_cross_entropy_backward",
    .args = {PARAM("ys", "N T V"), IDS("ts", "N T"), FLOAT_DEFAULT("dout", 1.0), IGNORE_LABEL},
    .results = {RESULT("dxs", "N T V")},
    .doc = "Gradient of the mean loss w.r.t. the logits: dxs (N,T,V) = (ys - onehot(ts))\n"
           "* dout / count, zero at the positions whose label is ignore_label (count =\n"
           "the other positions; everything zero when count is 0). ys: the forward output.");

KERNEL_BODY(softmax_cross_entropy_backward, 0, softmax_cross_entropy_backward,
            DATA("dxs"), DATA("ys"), DATA("ts"), call_float(c, "dout"), N, T, V, IGNORE)

/* The fused output head, untied (W (D,V)) and tied (E (V,D), read as W = E.T
   through its strides: row stride 1, column stride D). */
CORE_FN(affine_softmax_cross_entropy,
    .kernel = "affine_softmax_ce_forward",
    .args = {
        INPUT("x", "N T D"),
        PARAM("W", "D V"),
        IDS("ts", "N T"),
        OPT_PARAM("b", "V"),
        IGNORE_LABEL,
        OUT_BUFFER("out"),
    },
    .results = {LOSS("loss"), RESULT_INTO("dscore", "N T V", "out")},
    .doc = "The output head of a language model in one pass: score = x (N,T,D) @ W (D,V)\n"
           "+ b (V,), the softmax cross-entropy of score against the labels ts (N,T)\n"
           "(mean over the positions whose label is not ignore_label), and its gradient\n"
           "dscore (N,T,V) = d loss / d score for dout = 1. The same numbers as\n"
           "time_affine_forward, softmax_cross_entropy_forward and\n"
           "softmax_cross_entropy_backward in a row, bit for bit, but the scores and\n"
           "probabilities are never stored: each block of rows is turned into its\n"
           "gradient while it is in cache. W may be any layout. out: an array to write\n"
           "dscore into (C-contiguous, the compute dtype, shape (N,T,V)), returned;\n"
           "a model reuses the one of its previous step instead of allocating.");

LOSS_BODY(affine_softmax_cross_entropy, WORK_SIZE(c, affine_softmax_ce, N, T, D, V),
          affine_softmax_ce_forward, DATA("dscore"), COUNT, WORK, DATA("x"), DATA("W"),
          (ptrdiff_t)V, (ptrdiff_t)1, DATA("b"), DATA("ts"), N, T, D, V, IGNORE)

CORE_FN(tied_affine_softmax_cross_entropy,
    .kernel = "affine_softmax_ce_forward",
    .args = {
        INPUT("x", "N T D"),
        PARAM("E", "V D"),
        IDS("ts", "N T"),
        OPT_PARAM("b", "V"),
        IGNORE_LABEL,
        OUT_BUFFER("out"),
    },
    .results = {LOSS("loss"), RESULT_INTO("dscore", "N T V", "out")},
    .doc = "affine_softmax_cross_entropy(x, E.T, ts, b, ignore_label, out) for weight\n"
           "tying, where the output affine's W is the embedding matrix E (V,D)\n"
           "transposed: score = x (N,T,D) @ E.T + b. E is read as it is (its rows are\n"
           "the columns of W) instead of being copied into a C-ordered (D,V) matrix at\n"
           "every call; the same numbers as the untied function with W = E.T.");

LOSS_BODY(tied_affine_softmax_cross_entropy, WORK_SIZE(c, affine_softmax_ce, N, T, D, V),
          affine_softmax_ce_forward, DATA("dscore"), COUNT, WORK, DATA("x"), DATA("E"),
          (ptrdiff_t)1, (ptrdiff_t)D, DATA("b"), DATA("ts"), N, T, D, V, IGNORE)

CoreFn *const rs_lm_fns[] = {
    &embedding_forward_fn,
    &embedding_backward_fn,
    &time_affine_forward_fn,
    &time_affine_backward_fn,
    &tied_affine_backward_fn,
    &softmax_cross_entropy_forward_fn,
    &softmax_cross_entropy_backward_fn,
    &affine_softmax_cross_entropy_fn,
    &tied_affine_softmax_cross_entropy_fn,
    NULL,
};
