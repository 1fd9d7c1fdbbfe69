/* bind_rnn.c -- _core bindings of the vanilla RNN: one step and a sequence.
 * Kernels: rnn.h. Machinery: args.h. */
#include "args.h"
#include "bindings.h"
#include "rnn.h"

/* ---- rnn_forward ---- */

enum { RF_Wx, RF_Wh, RF_b, RF_x, RF_h_prev, RF_COUNT };
static const ArgSpec rnn_forward_args[RF_COUNT] = {
    [RF_Wx] = PARAM("Wx", "D H"),
    [RF_Wh] = PARAM("Wh", "H H"),
    [RF_b] = OPT_PARAM("b", "H"),
    [RF_x] = INPUT("x", "N D"),
    [RF_h_prev] = OPT_INPUT("h_prev", "N H"),
};

PyDoc_STRVAR(rnn_forward_doc,
"rnn_forward(x, h_prev, Wx, Wh, b=None, activation='tanh') -> h_next\n\n"
"One RNN step: h_next (N,H) = f(x (N,D) @ Wx (D,H) + h_prev (N,H) @ Wh (H,H) + b (H,)).\n"
"h_prev and b may be None (zeros, no bias).");

static PyObject *py_rnn_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "h_prev", "Wx", "Wh", "b", "activation", NULL};
    PyObject *actobj = NULL;
    int act;
    Call c;
    call_init(&c, "rnn_forward", rnn_forward_args, RF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|OO:rnn_forward", kwlist, &c.obj[RF_x],
                                     &c.obj[RF_h_prev], &c.obj[RF_Wx], &c.obj[RF_Wh],
                                     &c.obj[RF_b], &actobj))
        return NULL;
    if (parse_activation(actobj, &act) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *h_next = call_output(&c, "N H");
    if (!h_next || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, rnn_forward, h_next, call_data(&c, RF_x), call_data(&c, RF_h_prev),
                call_data(&c, RF_Wx), call_data(&c, RF_Wh), call_data(&c, RF_b), N, D, H, act);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- rnn_backward ---- */

enum { RB_Wx, RB_Wh, RB_b, RB_x, RB_h_prev, RB_h_next, RB_dh_next, RB_dWx, RB_dWh, RB_db,
       RB_COUNT };
static const ArgSpec rnn_backward_args[RB_COUNT] = {
    [RB_Wx] = PARAM("Wx", "D H"),
    [RB_Wh] = PARAM("Wh", "H H"),
    [RB_b] = OPT_PARAM("b", "H"), /* only for the dtype rule, as in forward */
    [RB_x] = INPUT("x", "N D"),
    [RB_h_prev] = OPT_INPUT("h_prev", "N H"),
    [RB_h_next] = INPUT("h_next", "N H"),
    [RB_dh_next] = INPUT("dh_next", "N H"),
    [RB_dWx] = OUTPUT("dWx", "D H"),
    [RB_dWh] = OUTPUT("dWh", "H H"),
    [RB_db] = OPT_OUTPUT("db", "H"),
};

PyDoc_STRVAR(rnn_backward_doc,
"rnn_backward(dh_next, x, h_prev, h_next, Wx, Wh, dWx, dWh, db=None,\n"
"             activation='tanh', accumulate=False, b=None) -> (dx, dh_prev)\n\n"
"Backward of one RNN step. Returns dx (N,D) and dh_prev (N,H); writes the\n"
"gradients into dWx (D,H), dWh (H,H) and db (H,) (any floating dtype and\n"
"layout), overwriting them, or adding to them with accumulate=True.\n"
"h_next is the forward output; f' is taken from it. b, the layer's bias, only\n"
"takes part in choosing the compute dtype, as in rnn_forward.");

static PyObject *py_rnn_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dh_next", "x", "h_prev", "h_next", "Wx", "Wh", "dWx", "dWh",
                             "db", "activation", "accumulate", "b", NULL};
    PyObject *actobj = NULL;
    int act, accumulate = 0;
    Call c;
    call_init(&c, "rnn_backward", rnn_backward_args, RB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOO|OOpO:rnn_backward", kwlist,
                                     &c.obj[RB_dh_next], &c.obj[RB_x], &c.obj[RB_h_prev],
                                     &c.obj[RB_h_next], &c.obj[RB_Wx], &c.obj[RB_Wh],
                                     &c.obj[RB_dWx], &c.obj[RB_dWh], &c.obj[RB_db], &actobj,
                                     &accumulate, &c.obj[RB_b]))
        return NULL;
    if (parse_activation(actobj, &act) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *dx = call_output(&c, "N D");
    void *dh_prev = dx ? call_output(&c, "N H") : NULL;
    void *work = dh_prev ? call_work(&c, WORK_SIZE(&c, rnn_backward, N, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, rnn_backward, dx, dh_prev, call_data(&c, RB_dWx), call_data(&c, RB_dWh),
                call_data(&c, RB_db), work, call_data(&c, RB_dh_next), call_data(&c, RB_x),
                call_data(&c, RB_h_prev), call_data(&c, RB_h_next), call_data(&c, RB_Wx),
                call_data(&c, RB_Wh), N, D, H, act);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_rnn_forward ---- */

enum { TF_Wx, TF_Wh, TF_b, TF_xs, TF_h0, TF_COUNT };
static const ArgSpec time_rnn_forward_args[TF_COUNT] = {
    [TF_Wx] = PARAM("Wx", "D H"),
    [TF_Wh] = PARAM("Wh", "H H"),
    [TF_b] = OPT_PARAM("b", "H"),
    [TF_xs] = INPUT("xs", "N T D"),
    [TF_h0] = OPT_INPUT("h0", "N H"),
};

PyDoc_STRVAR(time_rnn_forward_doc,
"time_rnn_forward(xs, h0, Wx, Wh, b=None, activation='tanh') -> hs\n\n"
"A whole sequence: hs[:, t] = f(xs[:, t] @ Wx + hs[:, t-1] @ Wh + b), starting\n"
"from h0 (N,H) (None = zeros). xs (N,T,D) -> hs (N,T,H).");

static PyObject *py_time_rnn_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"xs", "h0", "Wx", "Wh", "b", "activation", NULL};
    PyObject *actobj = NULL;
    int act;
    Call c;
    call_init(&c, "time_rnn_forward", time_rnn_forward_args, TF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|OO:time_rnn_forward", kwlist,
                                     &c.obj[TF_xs], &c.obj[TF_h0], &c.obj[TF_Wx], &c.obj[TF_Wh],
                                     &c.obj[TF_b], &actobj))
        return NULL;
    if (parse_activation(actobj, &act) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *hs = call_output(&c, "N T H");
    void *work = hs ? call_work(&c, WORK_SIZE(&c, time_rnn_forward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_rnn_forward, hs, work, call_data(&c, TF_xs), call_data(&c, TF_h0),
                call_data(&c, TF_Wx), call_data(&c, TF_Wh), call_data(&c, TF_b), N, T, D, H, act);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_rnn_backward ---- */

enum { TB_Wx, TB_Wh, TB_b, TB_xs, TB_h0, TB_hs, TB_dhs, TB_dWx, TB_dWh, TB_db, TB_COUNT };
static const ArgSpec time_rnn_backward_args[TB_COUNT] = {
    [TB_Wx] = PARAM("Wx", "D H"),
    [TB_Wh] = PARAM("Wh", "H H"),
    [TB_b] = OPT_PARAM("b", "H"), /* only for the dtype rule, as in forward */
    [TB_xs] = INPUT("xs", "N T D"),
    [TB_h0] = OPT_INPUT("h0", "N H"),
    [TB_hs] = INPUT("hs", "N T H"),
    [TB_dhs] = INPUT("dhs", "N T H"),
    [TB_dWx] = OUTPUT("dWx", "D H"),
    [TB_dWh] = OUTPUT("dWh", "H H"),
    [TB_db] = OPT_OUTPUT("db", "H"),
};

PyDoc_STRVAR(time_rnn_backward_doc,
"time_rnn_backward(dhs, xs, h0, hs, Wx, Wh, dWx, dWh, db=None,\n"
"                  activation='tanh', accumulate=False, b=None) -> (dxs, dh0)\n\n"
"Backpropagation through time. dhs (N,T,H) is the upstream gradient of hs,\n"
"hs the forward output, h0 (N,H) the initial state (None = zeros). Returns\n"
"dxs (N,T,D) and dh0 (N,H); writes the sums over time of dWx (D,H), dWh (H,H)\n"
"and db (H,) into the given arrays (overwriting, or adding with accumulate=True).\n"
"b, the layer's bias, only takes part in choosing the compute dtype.");

static PyObject *py_time_rnn_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dhs", "xs", "h0", "hs", "Wx", "Wh", "dWx", "dWh",
                             "db", "activation", "accumulate", "b", NULL};
    PyObject *actobj = NULL;
    int act, accumulate = 0;
    Call c;
    call_init(&c, "time_rnn_backward", time_rnn_backward_args, TB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOO|OOpO:time_rnn_backward", kwlist,
                                     &c.obj[TB_dhs], &c.obj[TB_xs], &c.obj[TB_h0],
                                     &c.obj[TB_hs], &c.obj[TB_Wx], &c.obj[TB_Wh],
                                     &c.obj[TB_dWx], &c.obj[TB_dWh], &c.obj[TB_db], &actobj,
                                     &accumulate, &c.obj[TB_b]))
        return NULL;
    if (parse_activation(actobj, &act) < 0 || call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *dxs = call_output(&c, "N T D");
    void *dh0 = dxs ? call_output(&c, "N H") : NULL;
    void *work = dh0 ? call_work(&c, WORK_SIZE(&c, time_rnn_backward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_rnn_backward, dxs, dh0, call_data(&c, TB_dWx), call_data(&c, TB_dWh),
                call_data(&c, TB_db), work, call_data(&c, TB_dhs), call_data(&c, TB_xs),
                call_data(&c, TB_h0), call_data(&c, TB_hs), call_data(&c, TB_Wx),
                call_data(&c, TB_Wh), N, T, D, H, act);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- the family's tables ---- */

PyMethodDef rs_rnn_methods[] = {
    METHOD(rnn_forward),
    METHOD(rnn_backward),
    METHOD(time_rnn_forward),
    METHOD(time_rnn_backward),
    {NULL, NULL, 0, NULL},
};

const ArgTable rs_rnn_tables[] = {
    ARG_TABLE("rnn_forward", rnn_forward_args),
    ARG_TABLE("rnn_backward", rnn_backward_args),
    ARG_TABLE("time_rnn_forward", time_rnn_forward_args),
    ARG_TABLE("time_rnn_backward", time_rnn_backward_args),
    {NULL, NULL, 0},
};
