/* bind_lm.c -- _core bindings of the language-model layers around the RNN:
 * embedding, affine over a sequence, softmax fused with cross-entropy, and
 * the three fused as the output head. Kernels: lm.h. Machinery: args.h. */
#include "args.h"
#include "bindings.h"
#include "lm.h"

/* Word ids of argument i must lie in [0, V) (or equal `ignore` when
   allow_ignore): checked before any kernel runs, naming the argument, the
   position and where V came from. -1 (everything released) otherwise. */
static int check_ids(Call *c, int i, npy_intp V, const char *vfrom, int allow_ignore,
                     npy_intp ignore)
{
    PyArrayObject *ids = c->conv[i];
    const npy_intp *p = PyArray_DATA(ids);
    ptrdiff_t bad = lm_first_bad_id(p, PyArray_SIZE(ids), V, allow_ignore, ignore);
    if (bad < 0) return 0;
    npy_intp T = PyArray_NDIM(ids) == 2 ? PyArray_DIM(ids, 1) : 1;
    npy_intp row = T ? bad / T : 0, col = T ? bad % T : 0;
    if (allow_ignore)
        PyErr_Format(PyExc_ValueError,
                     "%s: label %zd at [%zd, %zd] is out of range: expected a word id in "
                     "[0, %zd) (V=%zd from %s) or ignore_label=%zd",
                     c->spec[i].name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom, (Py_ssize_t)ignore);
    else
        PyErr_Format(PyExc_ValueError,
                     "%s: word id %zd at [%zd, %zd] is out of range: expected ids in "
                     "[0, %zd) (V=%zd from %s)",
                     c->spec[i].name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom);
    call_fail(c);
    return -1;
}

/* ignore_label: an int (None or absent: -1) */
static int parse_ignore(PyObject *obj, Py_ssize_t *ignore)
{
    *ignore = -1;
    return obj && obj != Py_None ? parse_index(obj, "ignore_label", ignore) : 0;
}

/* ---- embedding_forward ---- */

enum { EF_W, EF_xs, EF_COUNT };
static const ArgSpec embedding_forward_args[EF_COUNT] = {
    [EF_W] = PARAM("W", "V D"),
    [EF_xs] = IDS("xs", "N T"),
};

PyDoc_STRVAR(embedding_forward_doc,
"embedding_forward(xs, W) -> out\n\n"
"Rows of W (V,D) picked by the integer word ids xs (N,T): out (N,T,D),\n"
"out[n, t] = W[xs[n, t]]. Every id must be in [0, V).");

static PyObject *py_embedding_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"xs", "W", NULL};
    Call c;
    call_init(&c, "embedding_forward", embedding_forward_args, EF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:embedding_forward", kwlist, &c.obj[EF_xs],
                                     &c.obj[EF_W]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), V = call_dim(&c, 'V'),
                   D = call_dim(&c, 'D');
    if (check_ids(&c, EF_xs, V, "W", 0, 0) < 0) return NULL;
    void *out = call_output(&c, "N T D");
    if (!out || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, embedding_forward, out, call_data(&c, EF_xs), call_data(&c, EF_W), N, T, V, D);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- embedding_backward ---- */

enum { EB_W, EB_xs, EB_dout, EB_dW, EB_COUNT };
static const ArgSpec embedding_backward_args[EB_COUNT] = {
    [EB_W] = PARAM("W", "V D"),
    [EB_xs] = IDS("xs", "N T"),
    [EB_dout] = INPUT("dout", "N T D"),
    [EB_dW] = OUTPUT("dW", "V D"),
};

PyDoc_STRVAR(embedding_backward_doc,
"embedding_backward(dout, xs, W, dW, accumulate=False) -> None\n\n"
"Scatter-add of dout (N,T,D) into dW (V,D): dW[xs[n, t]] += dout[n, t], in\n"
"(n, t) order, so repeated word ids add up. dW (any floating dtype and layout)\n"
"is overwritten, or added to with accumulate=True. W (V,D) sets the dtype.");

static PyObject *py_embedding_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dout", "xs", "W", "dW", "accumulate", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "embedding_backward", embedding_backward_args, EB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|p:embedding_backward", kwlist,
                                     &c.obj[EB_dout], &c.obj[EB_xs], &c.obj[EB_W],
                                     &c.obj[EB_dW], &accumulate))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), V = call_dim(&c, 'V'),
                   D = call_dim(&c, 'D');
    if (check_ids(&c, EB_xs, V, "W", 0, 0) < 0 || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, embedding_backward, call_data(&c, EB_dW), call_data(&c, EB_dout),
                call_data(&c, EB_xs), N, T, V, D);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_affine_forward ---- */

enum { AF_W, AF_b, AF_x, AF_COUNT };
static const ArgSpec time_affine_forward_args[AF_COUNT] = {
    [AF_W] = PARAM("W", "D V"),
    [AF_b] = OPT_PARAM("b", "V"),
    [AF_x] = INPUT("x", "N T D"),
};

PyDoc_STRVAR(time_affine_forward_doc,
"time_affine_forward(x, W, b=None) -> out\n\n"
"out (N,T,V) = x (N,T,D) @ W (D,V) + b (V,), every time step at once.\n"
"W may be any layout (e.g. a tied embed_W.T); b may be None.");

static PyObject *py_time_affine_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "W", "b", NULL};
    Call c;
    call_init(&c, "time_affine_forward", time_affine_forward_args, AF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:time_affine_forward", kwlist, &c.obj[AF_x],
                                     &c.obj[AF_W], &c.obj[AF_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   V = call_dim(&c, 'V');
    void *out = call_output(&c, "N T V");
    if (!out || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_affine_forward, out, call_data(&c, AF_x), call_data(&c, AF_W),
                call_data(&c, AF_b), N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_affine_backward ---- */

enum { AB_W, AB_x, AB_dout, AB_dW, AB_db, AB_COUNT };
static const ArgSpec time_affine_backward_args[AB_COUNT] = {
    [AB_W] = PARAM("W", "D V"),
    [AB_x] = INPUT("x", "N T D"),
    [AB_dout] = INPUT("dout", "N T V"),
    [AB_dW] = OUTPUT("dW", "D V"),
    [AB_db] = OPT_OUTPUT("db", "V"),
};

PyDoc_STRVAR(time_affine_backward_doc,
"time_affine_backward(dout, x, W, dW, db=None, accumulate=False) -> dx\n\n"
"Backward of time_affine_forward: returns dx (N,T,D) = dout (N,T,V) @ W.T and\n"
"writes dW (D,V) = sum x.T @ dout and db (V,) = sum of dout over N and T into\n"
"the given arrays (overwriting, or adding with accumulate=True).");

static PyObject *py_time_affine_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dout", "x", "W", "dW", "db", "accumulate", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "time_affine_backward", time_affine_backward_args, AB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|Op:time_affine_backward", kwlist,
                                     &c.obj[AB_dout], &c.obj[AB_x], &c.obj[AB_W], &c.obj[AB_dW],
                                     &c.obj[AB_db], &accumulate))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   V = call_dim(&c, 'V');
    void *dx = call_output(&c, "N T D");
    if (!dx || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_affine_backward, dx, call_data(&c, AB_dW), call_data(&c, AB_db),
                call_data(&c, AB_dout), call_data(&c, AB_x), call_data(&c, AB_W), N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- tied_affine_backward: the backward of the tied head ---- */

enum { TB_E, TB_x, TB_dout, TB_dE, TB_db, TB_COUNT };
static const ArgSpec tied_affine_backward_args[TB_COUNT] = {
    [TB_E] = PARAM("E", "V D"),
    [TB_x] = INPUT("x", "N T D"),
    [TB_dout] = INPUT("dout", "N T V"),
    [TB_dE] = OUTPUT("dE", "V D"),
    [TB_db] = OPT_OUTPUT("db", "V"),
};

PyDoc_STRVAR(tied_affine_backward_doc,
"tied_affine_backward(dout, x, E, dE, db=None, accumulate=False) -> dx\n\n"
"time_affine_backward for weight tying, where the affine's W is the embedding\n"
"matrix E (V,D) transposed: returns dx (N,T,D) = dout (N,T,V) @ E and writes\n"
"dE (V,D) = dout.T @ x, the affine part of the tied gradient in E's own layout\n"
"(no transposed copy of either matrix), and db (V,) = dout summed over N and T\n"
"(db may be None). accumulate=True adds to dE and db instead of overwriting.");

static PyObject *py_tied_affine_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dout", "x", "E", "dE", "db", "accumulate", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "tied_affine_backward", tied_affine_backward_args, TB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|Op:tied_affine_backward", kwlist,
                                     &c.obj[TB_dout], &c.obj[TB_x], &c.obj[TB_E], &c.obj[TB_dE],
                                     &c.obj[TB_db], &accumulate))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   V = call_dim(&c, 'V');
    void *dx = call_output(&c, "N T D");
    if (!dx || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, tied_affine_backward, dx, call_data(&c, TB_dE), call_data(&c, TB_db),
                call_data(&c, TB_dout), call_data(&c, TB_x), call_data(&c, TB_E), N, T, D, V);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- softmax_cross_entropy_forward ---- */

enum { SF_xs, SF_ts, SF_COUNT };
static const ArgSpec softmax_cross_entropy_forward_args[SF_COUNT] = {
    [SF_xs] = PARAM("xs", "N T V"),
    [SF_ts] = IDS("ts", "N T"),
};

PyDoc_STRVAR(softmax_cross_entropy_forward_doc,
"softmax_cross_entropy_forward(xs, ts, ignore_label=-1) -> (loss, ys)\n\n"
"Softmax of the logits xs (N,T,V) over V fused with the cross-entropy of the\n"
"labels ts (N,T): ys (N,T,V) are the probabilities, loss (a float) the mean\n"
"of -log ys[n, t, ts[n, t]] over the positions whose label is not\n"
"ignore_label (NaN when there are none). Max-subtracted: no overflow, no log(0).");

static PyObject *py_softmax_cross_entropy_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"xs", "ts", "ignore_label", NULL};
    PyObject *ignobj = NULL;
    Py_ssize_t ignore;
    Call c;
    call_init(&c, "softmax_cross_entropy_forward", softmax_cross_entropy_forward_args, SF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:softmax_cross_entropy_forward", kwlist,
                                     &c.obj[SF_xs], &c.obj[SF_ts], &ignobj))
        return NULL;
    if (parse_ignore(ignobj, &ignore) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), V = call_dim(&c, 'V');
    if (check_ids(&c, SF_ts, V, "xs", 1, ignore) < 0) return NULL;
    void *ys = call_output(&c, "N T V");
    if (!ys || call_ready(&c, 0) < 0) return NULL;
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    loss = CALL_KERNEL(&c, softmax_cross_entropy_forward, ys, &count, call_data(&c, SF_xs),
                       call_data(&c, SF_ts), N, T, V, ignore);
    Py_END_ALLOW_THREADS
    PyObject *r = call_finish(&c);
    return r ? Py_BuildValue("(dN)", loss, r) : NULL;
}

/* ---- softmax_cross_entropy_backward ---- */

enum { SB_ys, SB_ts, SB_COUNT };
static const ArgSpec softmax_cross_entropy_backward_args[SB_COUNT] = {
    [SB_ys] = PARAM("ys", "N T V"),
    [SB_ts] = IDS("ts", "N T"),
};

PyDoc_STRVAR(softmax_cross_entropy_backward_doc,
"softmax_cross_entropy_backward(ys, ts, dout=1.0, ignore_label=-1) -> dxs\n\n"
"Gradient of the mean loss w.r.t. the logits: dxs (N,T,V) = (ys - onehot(ts))\n"
"* dout / count, zero at the positions whose label is ignore_label (count =\n"
"the other positions; everything zero when count is 0). ys: the forward output.");

static PyObject *py_softmax_cross_entropy_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"ys", "ts", "dout", "ignore_label", NULL};
    double dout = 1.0;
    PyObject *ignobj = NULL;
    Py_ssize_t ignore;
    Call c;
    call_init(&c, "softmax_cross_entropy_backward", softmax_cross_entropy_backward_args,
              SB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|dO:softmax_cross_entropy_backward", kwlist,
                                     &c.obj[SB_ys], &c.obj[SB_ts], &dout, &ignobj))
        return NULL;
    if (parse_ignore(ignobj, &ignore) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), V = call_dim(&c, 'V');
    if (check_ids(&c, SB_ts, V, "ys", 1, ignore) < 0) return NULL;
    void *dxs = call_output(&c, "N T V");
    if (!dxs || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, softmax_cross_entropy_backward, dxs, call_data(&c, SB_ys),
                call_data(&c, SB_ts), dout, N, T, V, ignore);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- affine_softmax_cross_entropy: the fused output head ---- */

enum { HD_W, HD_b, HD_x, HD_ts, HD_COUNT };
static const ArgSpec affine_softmax_cross_entropy_args[HD_COUNT] = {
    [HD_W] = PARAM("W", "D V"),
    [HD_b] = OPT_PARAM("b", "V"),
    [HD_x] = INPUT("x", "N T D"),
    [HD_ts] = IDS("ts", "N T"),
};

PyDoc_STRVAR(affine_softmax_cross_entropy_doc,
"affine_softmax_cross_entropy(x, W, ts, b=None, ignore_label=-1, out=None)\n"
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

static PyObject *py_affine_softmax_cross_entropy(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "W", "ts", "b", "ignore_label", "out", NULL};
    PyObject *ignobj = NULL, *outobj = NULL;
    Py_ssize_t ignore;
    Call c;
    call_init(&c, "affine_softmax_cross_entropy", affine_softmax_cross_entropy_args, HD_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OOO:affine_softmax_cross_entropy", kwlist,
                                     &c.obj[HD_x], &c.obj[HD_W], &c.obj[HD_ts], &c.obj[HD_b],
                                     &ignobj, &outobj))
        return NULL;
    if (parse_ignore(ignobj, &ignore) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   V = call_dim(&c, 'V');
    if (check_ids(&c, HD_ts, V, "W", 1, ignore) < 0) return NULL;
    void *G = call_output_into(&c, outobj, "out", "N T V");
    void *work = G ? call_work(&c, WORK_SIZE(&c, affine_softmax_ce, N, T, D, V)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    loss = CALL_KERNEL(&c, affine_softmax_ce_forward, G, &count, work, call_data(&c, HD_x),
                       call_data(&c, HD_W), (ptrdiff_t)V, (ptrdiff_t)1, call_data(&c, HD_b),
                       call_data(&c, HD_ts), N, T, D, V, ignore);
    Py_END_ALLOW_THREADS
    PyObject *r = call_finish(&c);
    return r ? Py_BuildValue("(dN)", loss, r) : NULL;
}

/* ---- tied_affine_softmax_cross_entropy: the output head of a tied model ---- */

enum { TH_E, TH_b, TH_x, TH_ts, TH_COUNT };
static const ArgSpec tied_affine_softmax_cross_entropy_args[TH_COUNT] = {
    [TH_E] = PARAM("E", "V D"),
    [TH_b] = OPT_PARAM("b", "V"),
    [TH_x] = INPUT("x", "N T D"),
    [TH_ts] = IDS("ts", "N T"),
};

PyDoc_STRVAR(tied_affine_softmax_cross_entropy_doc,
"tied_affine_softmax_cross_entropy(x, E, ts, b=None, ignore_label=-1, out=None)\n"
"    -> (loss, dscore)\n\n"
"affine_softmax_cross_entropy(x, E.T, ts, b, ignore_label, out) for weight\n"
"tying, where the output affine's W is the embedding matrix E (V,D)\n"
"transposed: score = x (N,T,D) @ E.T + b. E is read as it is (its rows are\n"
"the columns of W) instead of being copied into a C-ordered (D,V) matrix at\n"
"every call; the same numbers as the untied function with W = E.T.");

static PyObject *py_tied_affine_softmax_cross_entropy(PyObject *self, PyObject *args,
                                                      PyObject *kw)
{
    static char *kwlist[] = {"x", "E", "ts", "b", "ignore_label", "out", NULL};
    PyObject *ignobj = NULL, *outobj = NULL;
    Py_ssize_t ignore;
    Call c;
    call_init(&c, "tied_affine_softmax_cross_entropy", tied_affine_softmax_cross_entropy_args,
              TH_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OOO:tied_affine_softmax_cross_entropy",
                                     kwlist, &c.obj[TH_x], &c.obj[TH_E], &c.obj[TH_ts],
                                     &c.obj[TH_b], &ignobj, &outobj))
        return NULL;
    if (parse_ignore(ignobj, &ignore) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   V = call_dim(&c, 'V');
    if (check_ids(&c, TH_ts, V, "E", 1, ignore) < 0) return NULL;
    void *G = call_output_into(&c, outobj, "out", "N T V");
    void *work = G ? call_work(&c, WORK_SIZE(&c, affine_softmax_ce, N, T, D, V)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    loss = CALL_KERNEL(&c, affine_softmax_ce_forward, G, &count, work, call_data(&c, TH_x),
                       call_data(&c, TH_E), (ptrdiff_t)1, (ptrdiff_t)D, call_data(&c, TH_b),
                       call_data(&c, TH_ts), N, T, D, V, ignore);
    Py_END_ALLOW_THREADS
    PyObject *r = call_finish(&c);
    return r ? Py_BuildValue("(dN)", loss, r) : NULL;
}

/* ---- the family's tables ---- */

PyMethodDef rs_lm_methods[] = {
    METHOD(embedding_forward),
    METHOD(embedding_backward),
    METHOD(time_affine_forward),
    METHOD(time_affine_backward),
    METHOD(tied_affine_backward),
    METHOD(softmax_cross_entropy_forward),
    METHOD(softmax_cross_entropy_backward),
    METHOD(affine_softmax_cross_entropy),
    METHOD(tied_affine_softmax_cross_entropy),
    {NULL, NULL, 0, NULL},
};

const ArgTable rs_lm_tables[] = {
    ARG_TABLE("embedding_forward", embedding_forward_args),
    ARG_TABLE("embedding_backward", embedding_backward_args),
    ARG_TABLE("time_affine_forward", time_affine_forward_args),
    ARG_TABLE("time_affine_backward", time_affine_backward_args),
    ARG_TABLE("tied_affine_backward", tied_affine_backward_args),
    ARG_TABLE("softmax_cross_entropy_forward", softmax_cross_entropy_forward_args),
    ARG_TABLE("softmax_cross_entropy_backward", softmax_cross_entropy_backward_args),
    ARG_TABLE("affine_softmax_cross_entropy", affine_softmax_cross_entropy_args),
    ARG_TABLE("tied_affine_softmax_cross_entropy", tied_affine_softmax_cross_entropy_args),
    {NULL, NULL, 0},
};
