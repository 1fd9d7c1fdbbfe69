/* bind_lm.c -- _core bindings of the language-model layers around the RNN:
 * embedding, affine over a sequence, softmax fused with cross-entropy, and
 * the three fused as the output head. Kernels: lm.h. Machinery and the table format: args.h. */
#include "args.h"
#include "bindings.h"
#include "lm.h"

/* Word ids of argument i must lie in [0, V) (or equal `ignore` when
   allow_ignore): checked before any kernel runs, naming the argument, the
   position and where V came from. -1 (everything released) otherwise. */
static int check_ids(Call *c, const char *name, npy_intp V, const char *vfrom, int allow_ignore,
                     npy_intp ignore)
{
    PyArrayObject *ids = call_conv(c, name);
    const npy_intp *p = PyArray_DATA(ids);
    ptrdiff_t bad = lm_first_bad_id(p, PyArray_SIZE(ids), V, allow_ignore, ignore);
    if (bad < 0) return 0;
    npy_intp T = PyArray_NDIM(ids) == 2 ? PyArray_DIM(ids, 1) : 1;
    npy_intp row = T ? bad / T : 0, col = T ? bad % T : 0;
    if (allow_ignore)
        PyErr_Format(PyExc_ValueError,
                     "%s: label %zd at [%zd, %zd] is out of range: expected a word id in "
                     "[0, %zd) (V=%zd from %s) or ignore_label=%zd",
                     name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom, (Py_ssize_t)ignore);
    else
        PyErr_Format(PyExc_ValueError,
                     "%s: word id %zd at [%zd, %zd] is out of range: expected ids in "
                     "[0, %zd) (V=%zd from %s)",
                     name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom);
    call_fail(c);
    return -1;
}

/* The backward functions check their arrays in the forward's order (`order`):
   the parameter, the forward's input, then the upstream gradient. */

CORE_FN(embedding_forward,
    .kernel = "embedding_forward",
    .args = {IDS("xs", "N T"), PARAM("W", "V D")},
    .results = {RESULT("out", "N T D")},
    .doc = "embedding_forward(xs, W) -> out\n\n"
           "Rows of W (V,D) picked by the integer word ids xs (N,T): out (N,T,D),\n"
           "out[n, t] = W[xs[n, t]]. Every id must be in [0, V).");

static PyObject *embedding_forward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), V = call_dim(c, 'V'),
                   D = call_dim(c, 'D');
    if (check_ids(c, "xs", V, "W", 0, 0) < 0 || call_results(c) < 0 || call_ready(c) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, embedding_forward, call_data(c, "out"), call_data(c, "xs"), call_data(c, "W"),
                N, T, V, D);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

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
    .doc = "embedding_backward(dout, xs, W, dW, accumulate=False) -> None\n\n"
           "Scatter-add of dout (N,T,D) into dW (V,D): dW[xs[n, t]] += dout[n, t], in\n"
           "(n, t) order, so repeated word ids add up. dW (any floating dtype and layout)\n"
           "is overwritten, or added to with accumulate=True. W (V,D) sets the dtype.");

static PyObject *embedding_backward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), V = call_dim(c, 'V'),
                   D = call_dim(c, 'D');
    if (check_ids(c, "xs", V, "W", 0, 0) < 0 || call_ready(c) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, embedding_backward, call_data(c, "dW"), call_data(c, "dout"),
                call_data(c, "xs"), N, T, V, D);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

CORE_FN(time_affine_forward,
    .kernel = "time_affine_forward",
    .args = {INPUT("x", "N T D"), PARAM("W", "D V"), OPT_PARAM("b", "V")},
    .results = {RESULT("out", "N T V")},
    .doc = "time_affine_forward(x, W, b=None) -> out\n\n"
           "out (N,T,V) = x (N,T,D) @ W (D,V) + b (V,), every time step at once.\n"
           "W may be any layout (e.g. a tied embed_W.T); b may be None.");

static PyObject *time_affine_forward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), D = call_dim(c, 'D'),
                   V = call_dim(c, 'V');
    if (call_results(c) < 0 || call_ready(c) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, time_affine_forward, call_data(c, "out"), call_data(c, "x"), call_data(c, "W"),
                call_data(c, "b"), N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

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
    .doc = "time_affine_backward(dout, x, W, dW, db=None, accumulate=False) -> dx\n\n"
           "Backward of time_affine_forward: returns dx (N,T,D) = dout (N,T,V) @ W.T and\n"
           "writes dW (D,V) = sum x.T @ dout and db (V,) = sum of dout over N and T into\n"
           "the given arrays (overwriting, or adding with accumulate=True).");

static PyObject *time_affine_backward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), D = call_dim(c, 'D'),
                   V = call_dim(c, 'V');
    if (call_results(c) < 0 || call_ready(c) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, time_affine_backward, call_data(c, "dx"), call_data(c, "dW"),
                call_data(c, "db"), call_data(c, "dout"), call_data(c, "x"), call_data(c, "W"),
                N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

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
    .doc = "tied_affine_backward(dout, x, E, dE, db=None, accumulate=False) -> dx\n\n"
           "time_affine_backward for weight tying, where the affine's W is the embedding\n"
           "matrix E (V,D) transposed: returns dx (N,T,D) = dout (N,T,V) @ E and writes\n"
           "dE (V,D) = dout.T @ x, the affine part of the tied gradient in E's own layout\n"
           "(no transposed copy of either matrix), and db (V,) = dout summed over N and T\n"
           "(db may be None). accumulate=True adds to dE and db instead of overwriting.");

static PyObject *tied_affine_backward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), D = call_dim(c, 'D'),
                   V = call_dim(c, 'V');
    if (call_results(c) < 0 || call_ready(c) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, tied_affine_backward, call_data(c, "dx"), call_data(c, "dE"),
                call_data(c, "db"), call_data(c, "dout"), call_data(c, "x"), call_data(c, "E"),
                N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

CORE_FN(softmax_cross_entropy_forward,
    .kernel = "softmax_cross_entropy_forward",
    .args = {PARAM("xs", "N T V"), IDS("ts", "N T"), IGNORE_LABEL},
    .results = {LOSS("loss"), RESULT("ys", "N T V")},
    .doc = "softmax_cross_entropy_forward(xs, ts, ignore_label=-1) -> (loss, ys)\n\n"
           "Softmax of the logits xs (N,T,V) over V fused with the cross-entropy of the\n"
           "labels ts (N,T): ys (N,T,V) are the probabilities, loss (a float) the mean\n"
           "of -log ys[n, t, ts[n, t]] over the positions whose label is not\n"
           "ignore_label (NaN when there are none). Max-subtracted: no overflow, no log(0).");

/* (loss, the arrays call_finish returns), or NULL */
static PyObject *with_loss(double loss, PyObject *r)
{
    return r ? Py_BuildValue("(dN)", loss, r) : NULL;
}

static PyObject *softmax_cross_entropy_forward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), V = call_dim(c, 'V');
    const npy_intp ignore = call_int(c, "ignore_label");
    if (check_ids(c, "ts", V, "xs", 1, ignore) < 0 || call_results(c) < 0 || call_ready(c) < 0)
        return NULL;
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    loss = CALL_KERNEL(c, softmax_cross_entropy_forward, call_data(c, "ys"), &count,
                       call_data(c, "xs"), call_data(c, "ts"), N, T, V, ignore);
    Py_END_ALLOW_THREADS
    return with_loss(loss, call_finish(c));
}

CORE_FN(softmax_cross_entropy_backward,
    .kernel = "softmax_cross_entropy_backward",
    .args = {PARAM("ys", "N T V"), IDS("ts", "N T"), FLOAT_DEFAULT("dout", 1.0), IGNORE_LABEL},
    .results = {RESULT("dxs", "N T V")},
    .doc = "softmax_cross_entropy_backward(ys, ts, dout=1.0, ignore_label=-1) -> dxs\n\n"
           "Gradient of the mean loss w.r.t. the logits: dxs (N,T,V) = (ys - onehot(ts))\n"
           "* dout / count, zero at the positions whose label is ignore_label (count =\n"
           "the other positions; everything zero when count is 0). ys: the forward output.");

static PyObject *softmax_cross_entropy_backward_body(Call *c)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), V = call_dim(c, 'V');
    const npy_intp ignore = call_int(c, "ignore_label");
    if (check_ids(c, "ts", V, "ys", 1, ignore) < 0 || call_results(c) < 0 || call_ready(c) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(c, softmax_cross_entropy_backward, call_data(c, "dxs"), call_data(c, "ys"),
                call_data(c, "ts"), call_float(c, "dout"), N, T, V, ignore);
    Py_END_ALLOW_THREADS
    return call_finish(c);
}

/* The fused output head, untied (W (D,V)) and tied (E (V,D), read as W = E.T
   through its strides): one body. */
static PyObject *head_body(Call *c, const char *W, int tied)
{
    const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), D = call_dim(c, 'D'),
                   V = call_dim(c, 'V');
    const npy_intp ignore = call_int(c, "ignore_label");
    if (check_ids(c, "ts", V, W, 1, ignore) < 0 || call_results(c) < 0) return NULL;
    void *work = call_work(c, WORK_SIZE(c, affine_softmax_ce, N, T, D, V));
    if (!work || call_ready(c) < 0) return NULL;
    const ptrdiff_t rs = tied ? 1 : (ptrdiff_t)V, cs = tied ? (ptrdiff_t)D : 1;
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    loss = CALL_KERNEL(c, affine_softmax_ce_forward, call_data(c, "dscore"), &count, work,
                       call_data(c, "x"), call_data(c, W), rs, cs, call_data(c, "b"),
                       call_data(c, "ts"), N, T, D, V, ignore);
    Py_END_ALLOW_THREADS
    return with_loss(loss, call_finish(c));
}

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
    .doc = "affine_softmax_cross_entropy(x, W, ts, b=None, ignore_label=-1, out=None)\n"
           "    -> (loss, dscore)\n\n"
           "The output head of a language model in one pass: score = x (N,T,D) @ W (D,V)\n"
           "+ b (V,), the softmax cross-entropy of score against the labels ts (N,T)\n"
           "(mean over the positions whose label is not ignore_label), and its gradient\n"
           "dscore (N,T,V) = d loss / d score for dout = 1. The same numbers as\n"
           "time_affine_forward, softmax_cross_entropy_forward and\n"
           "softmax_cross_entropy_backward in a row, bit for bit, but the scores and\n"
           "probabilities are never stored: each block of rows is turned into its\n"
           "gradient while it is in cache. W may be any layout. out: an array to write\n"
           "dscore into (C-contiguous, the compute dtype, shape (N,T,V)), returned;\n"
           "a model reuses the one of its previous step instead of allocating.");

static PyObject *affine_softmax_cross_entropy_body(Call *c) { return head_body(c, "W", 0); }

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
    .doc = "tied_affine_softmax_cross_entropy(x, E, ts, b=None, ignore_label=-1, out=None)\n"
           "    -> (loss, dscore)\n\n"
           "affine_softmax_cross_entropy(x, E.T, ts, b, ignore_label, out) for weight\n"
           "tying, where the output affine's W is the embedding matrix E (V,D)\n"
           "transposed: score = x (N,T,D) @ E.T + b. E is read as it is (its rows are\n"
           "the columns of W) instead of being copied into a C-ordered (D,V) matrix at\n"
           "every call; the same numbers as the untied function with W = E.T.");

static PyObject *tied_affine_softmax_cross_entropy_body(Call *c) { return head_body(c, "E", 1); }

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
