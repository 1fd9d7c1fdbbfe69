/* bind_gated.c -- _core bindings of the gated layers: LSTM (gate blocks f, g,
 * i, o) and GRU (blocks z, r, h~), one step and a sequence.
 * Kernels: lstm.h, gru.h. Machinery: args.h.
 *
 * The forward returns a cache the backward takes back: LSTM (N,[T,]4H) the
 * gate activations f, g, i, o; GRU (N,[T,]4H) z, r, h~ and r*h_prev. */
#include "args.h"
#include "bindings.h"
#include "gru.h"
#include "lstm.h"

/* ---- lstm_forward ---- */

enum { LF_Wx, LF_Wh, LF_b, LF_x, LF_h_prev, LF_c_prev, LF_COUNT };
static const ArgSpec lstm_forward_args[LF_COUNT] = {
    [LF_Wx] = PARAM("Wx", "D 4H"),
    [LF_Wh] = PARAM("Wh", "H 4H"),
    [LF_b] = OPT_PARAM("b", "4H"),
    [LF_x] = INPUT("x", "N D"),
    [LF_h_prev] = OPT_INPUT("h_prev", "N H"),
    [LF_c_prev] = OPT_INPUT("c_prev", "N H"),
};

PyDoc_STRVAR(lstm_forward_doc,
"lstm_forward(x, h_prev, c_prev, Wx, Wh, b=None) -> (h_next, c_next, cache)\n\n"
"One LSTM step, gate blocks f, g, i, o: x (N,D), h_prev and c_prev (N,H) or None\n"
"(zeros), Wx (D,4H), Wh (H,4H), b (4H,) or None. Returns h_next, c_next (N,H) and\n"
"cache (N,4H), the gate activations lstm_backward takes back.");

static PyObject *py_lstm_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "h_prev", "c_prev", "Wx", "Wh", "b", NULL};
    Call c;
    call_init(&c, "lstm_forward", lstm_forward_args, LF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOO|O:lstm_forward", kwlist, &c.obj[LF_x],
                                     &c.obj[LF_h_prev], &c.obj[LF_c_prev], &c.obj[LF_Wx],
                                     &c.obj[LF_Wh], &c.obj[LF_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *h_next = call_output(&c, "N H");
    void *c_next = h_next ? call_output(&c, "N H") : NULL;
    void *cache = c_next ? call_output(&c, "N 4H") : NULL;
    void *work = cache ? call_work(&c, WORK_SIZE(&c, lstm_forward, N, D, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, lstm_forward, h_next, c_next, cache, work, call_data(&c, LF_x),
                call_data(&c, LF_h_prev), call_data(&c, LF_c_prev), call_data(&c, LF_Wx),
                call_data(&c, LF_Wh), call_data(&c, LF_b), N, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- lstm_backward ---- */

enum { LB_Wx, LB_Wh, LB_b, LB_x, LB_h_prev, LB_c_prev, LB_c_next, LB_cache, LB_dh_next,
       LB_dc_next, LB_dWx, LB_dWh, LB_db, LB_COUNT };
static const ArgSpec lstm_backward_args[LB_COUNT] = {
    [LB_Wx] = PARAM("Wx", "D 4H"),
    [LB_Wh] = PARAM("Wh", "H 4H"),
    [LB_b] = OPT_PARAM("b", "4H"), /* only for the dtype rule, as in forward */
    [LB_x] = INPUT("x", "N D"),
    [LB_h_prev] = OPT_INPUT("h_prev", "N H"),
    [LB_c_prev] = OPT_INPUT("c_prev", "N H"),
    [LB_c_next] = INPUT("c_next", "N H"),
    [LB_cache] = INPUT("cache", "N 4H"),
    [LB_dh_next] = INPUT("dh_next", "N H"),
    [LB_dc_next] = OPT_INPUT("dc_next", "N H"),
    [LB_dWx] = OUTPUT("dWx", "D 4H"),
    [LB_dWh] = OUTPUT("dWh", "H 4H"),
    [LB_db] = OPT_OUTPUT("db", "4H"),
};

PyDoc_STRVAR(lstm_backward_doc,
"lstm_backward(dh_next, dc_next, x, h_prev, c_prev, c_next, cache, Wx, Wh, dWx, dWh,\n"
"              db=None, accumulate=False, b=None) -> (dx, dh_prev, dc_prev)\n\n"
"Backward of one LSTM step. dc_next, h_prev and c_prev may be None (zeros); c_next\n"
"and cache are lstm_forward's outputs. Returns dx (N,D), dh_prev and dc_prev (N,H);\n"
"writes dWx (D,4H), dWh (H,4H) and db (4H,) (any floating dtype and layout),\n"
"overwriting them, or adding to them with accumulate=True. b, the layer's bias,\n"
"only takes part in choosing the compute dtype.");

static PyObject *py_lstm_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dh_next", "dc_next", "x", "h_prev", "c_prev", "c_next", "cache",
                             "Wx", "Wh", "dWx", "dWh", "db", "accumulate", "b", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "lstm_backward", lstm_backward_args, LB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOOOOO|OpO:lstm_backward", kwlist,
                                     &c.obj[LB_dh_next], &c.obj[LB_dc_next], &c.obj[LB_x],
                                     &c.obj[LB_h_prev], &c.obj[LB_c_prev], &c.obj[LB_c_next],
                                     &c.obj[LB_cache], &c.obj[LB_Wx], &c.obj[LB_Wh],
                                     &c.obj[LB_dWx], &c.obj[LB_dWh], &c.obj[LB_db], &accumulate,
                                     &c.obj[LB_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *dx = call_output(&c, "N D");
    void *dh_prev = dx ? call_output(&c, "N H") : NULL;
    void *dc_prev = dh_prev ? call_output(&c, "N H") : NULL;
    void *work = dc_prev ? call_work(&c, WORK_SIZE(&c, lstm_backward, N, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, lstm_backward, dx, dh_prev, dc_prev, call_data(&c, LB_dWx),
                call_data(&c, LB_dWh), call_data(&c, LB_db), work, call_data(&c, LB_dh_next),
                call_data(&c, LB_dc_next), call_data(&c, LB_x), call_data(&c, LB_h_prev),
                call_data(&c, LB_c_prev), call_data(&c, LB_c_next), call_data(&c, LB_cache),
                call_data(&c, LB_Wx), call_data(&c, LB_Wh), N, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_lstm_forward ---- */

enum { TLF_Wx, TLF_Wh, TLF_b, TLF_xs, TLF_h0, TLF_c0, TLF_COUNT };
static const ArgSpec time_lstm_forward_args[TLF_COUNT] = {
    [TLF_Wx] = PARAM("Wx", "D 4H"),
    [TLF_Wh] = PARAM("Wh", "H 4H"),
    [TLF_b] = OPT_PARAM("b", "4H"),
    [TLF_xs] = INPUT("xs", "N T D"),
    [TLF_h0] = OPT_INPUT("h0", "N H"),
    [TLF_c0] = OPT_INPUT("c0", "N H"),
};

PyDoc_STRVAR(time_lstm_forward_doc,
"time_lstm_forward(xs, h0, c0, Wx, Wh, b=None) -> (hs, cs, cache)\n\n"
"A whole LSTM sequence from h0, c0 (N,H) (None = zeros): xs (N,T,D) -> hs and cs\n"
"(N,T,H), and cache (N,T,4H), the gate activations f, g, i, o of every step,\n"
"which time_lstm_backward takes back.");

static PyObject *py_time_lstm_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"xs", "h0", "c0", "Wx", "Wh", "b", NULL};
    Call c;
    call_init(&c, "time_lstm_forward", time_lstm_forward_args, TLF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOO|O:time_lstm_forward", kwlist,
                                     &c.obj[TLF_xs], &c.obj[TLF_h0], &c.obj[TLF_c0],
                                     &c.obj[TLF_Wx], &c.obj[TLF_Wh], &c.obj[TLF_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *hs = call_output(&c, "N T H");
    void *cs = hs ? call_output(&c, "N T H") : NULL;
    void *cache = cs ? call_output(&c, "N T 4H") : NULL;
    void *work = cache ? call_work(&c, WORK_SIZE(&c, time_lstm_forward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_lstm_forward, hs, cs, cache, work, call_data(&c, TLF_xs),
                call_data(&c, TLF_h0), call_data(&c, TLF_c0), call_data(&c, TLF_Wx),
                call_data(&c, TLF_Wh), call_data(&c, TLF_b), N, T, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_lstm_backward ---- */

enum { TLB_Wx, TLB_Wh, TLB_b, TLB_xs, TLB_h0, TLB_c0, TLB_hs, TLB_cs, TLB_cache, TLB_dhs,
       TLB_dcT, TLB_dWx, TLB_dWh, TLB_db, TLB_COUNT };
static const ArgSpec time_lstm_backward_args[TLB_COUNT] = {
    [TLB_Wx] = PARAM("Wx", "D 4H"),
    [TLB_Wh] = PARAM("Wh", "H 4H"),
    [TLB_b] = OPT_PARAM("b", "4H"), /* only for the dtype rule, as in forward */
    [TLB_xs] = INPUT("xs", "N T D"),
    [TLB_h0] = OPT_INPUT("h0", "N H"),
    [TLB_c0] = OPT_INPUT("c0", "N H"),
    [TLB_hs] = INPUT("hs", "N T H"),
    [TLB_cs] = INPUT("cs", "N T H"),
    [TLB_cache] = INPUT("cache", "N T 4H"),
    [TLB_dhs] = INPUT("dhs", "N T H"),
    [TLB_dcT] = OPT_INPUT("dcT", "N H"),
    [TLB_dWx] = OUTPUT("dWx", "D 4H"),
    [TLB_dWh] = OUTPUT("dWh", "H 4H"),
    [TLB_db] = OPT_OUTPUT("db", "4H"),
};

PyDoc_STRVAR(time_lstm_backward_doc,
"time_lstm_backward(dhs, dcT, xs, h0, c0, hs, cs, cache, Wx, Wh, dWx, dWh, db=None,\n"
"                   accumulate=False, b=None) -> (dxs, dh0, dc0)\n\n"
"Backpropagation through time of time_lstm_forward. dhs (N,T,H) is the upstream\n"
"gradient of hs, dcT (N,H) that of the last cell state (None = zeros); h0, c0 the\n"
"initial state (None = zeros); hs, cs, cache the forward's outputs. Returns dxs\n"
"(N,T,D), dh0 and dc0 (N,H); writes the sums over time of dWx (D,4H), dWh (H,4H)\n"
"and db (4H,) (overwriting, or adding with accumulate=True). b, the layer's bias,\n"
"only takes part in choosing the compute dtype.");

static PyObject *py_time_lstm_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dhs", "dcT", "xs", "h0", "c0", "hs", "cs", "cache", "Wx", "Wh",
                             "dWx", "dWh", "db", "accumulate", "b", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "time_lstm_backward", time_lstm_backward_args, TLB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOOOOOO|OpO:time_lstm_backward", kwlist,
                                     &c.obj[TLB_dhs], &c.obj[TLB_dcT], &c.obj[TLB_xs],
                                     &c.obj[TLB_h0], &c.obj[TLB_c0], &c.obj[TLB_hs],
                                     &c.obj[TLB_cs], &c.obj[TLB_cache], &c.obj[TLB_Wx],
                                     &c.obj[TLB_Wh], &c.obj[TLB_dWx], &c.obj[TLB_dWh],
                                     &c.obj[TLB_db], &accumulate, &c.obj[TLB_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *dxs = call_output(&c, "N T D");
    void *dh0 = dxs ? call_output(&c, "N H") : NULL;
    void *dc0 = dh0 ? call_output(&c, "N H") : NULL;
    void *work = dc0 ? call_work(&c, WORK_SIZE(&c, time_lstm_backward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_lstm_backward, dxs, dh0, dc0, call_data(&c, TLB_dWx),
                call_data(&c, TLB_dWh), call_data(&c, TLB_db), work, call_data(&c, TLB_dhs),
                call_data(&c, TLB_dcT), call_data(&c, TLB_xs), call_data(&c, TLB_h0),
                call_data(&c, TLB_c0), call_data(&c, TLB_hs), call_data(&c, TLB_cs),
                call_data(&c, TLB_cache), call_data(&c, TLB_Wx), call_data(&c, TLB_Wh),
                N, T, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- gru_forward ---- */

enum { GF_Wx, GF_Wh, GF_b, GF_x, GF_h_prev, GF_COUNT };
static const ArgSpec gru_forward_args[GF_COUNT] = {
    [GF_Wx] = PARAM("Wx", "D 3H"),
    [GF_Wh] = PARAM("Wh", "H 3H"),
    [GF_b] = OPT_PARAM("b", "3H"),
    [GF_x] = INPUT("x", "N D"),
    [GF_h_prev] = OPT_INPUT("h_prev", "N H"),
};

PyDoc_STRVAR(gru_forward_doc,
"gru_forward(x, h_prev, Wx, Wh, b=None) -> (h_next, cache)\n\n"
"One GRU step, blocks z, r, h~ (the reset gate applied to h_prev before its product\n"
"with Whh): x (N,D), h_prev (N,H) or None (zeros), Wx (D,3H), Wh (H,3H), b (3H,)\n"
"or None. Returns h_next (N,H) and cache (N,4H): z, r, h~, r*h_prev, which\n"
"gru_backward takes back.");

static PyObject *py_gru_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", "h_prev", "Wx", "Wh", "b", NULL};
    Call c;
    call_init(&c, "gru_forward", gru_forward_args, GF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|O:gru_forward", kwlist, &c.obj[GF_x],
                                     &c.obj[GF_h_prev], &c.obj[GF_Wx], &c.obj[GF_Wh],
                                     &c.obj[GF_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *h_next = call_output(&c, "N H");
    void *cache = h_next ? call_output(&c, "N 4H") : NULL;
    void *work = cache ? call_work(&c, WORK_SIZE(&c, gru_forward, N, D, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, gru_forward, h_next, cache, work, call_data(&c, GF_x),
                call_data(&c, GF_h_prev), call_data(&c, GF_Wx), call_data(&c, GF_Wh),
                call_data(&c, GF_b), N, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- gru_backward ---- */

enum { GB_Wx, GB_Wh, GB_b, GB_x, GB_h_prev, GB_cache, GB_dh_next, GB_dWx, GB_dWh, GB_db,
       GB_COUNT };
static const ArgSpec gru_backward_args[GB_COUNT] = {
    [GB_Wx] = PARAM("Wx", "D 3H"),
    [GB_Wh] = PARAM("Wh", "H 3H"),
    [GB_b] = OPT_PARAM("b", "3H"), /* only for the dtype rule, as in forward */
    [GB_x] = INPUT("x", "N D"),
    [GB_h_prev] = OPT_INPUT("h_prev", "N H"),
    [GB_cache] = INPUT("cache", "N 4H"),
    [GB_dh_next] = INPUT("dh_next", "N H"),
    [GB_dWx] = OUTPUT("dWx", "D 3H"),
    [GB_dWh] = OUTPUT("dWh", "H 3H"),
    [GB_db] = OPT_OUTPUT("db", "3H"),
};

PyDoc_STRVAR(gru_backward_doc,
"gru_backward(dh_next, x, h_prev, cache, Wx, Wh, dWx, dWh, db=None, accumulate=False,\n"
"             b=None) -> (dx, dh_prev)\n\n"
"Backward of one GRU step; h_prev may be None (zeros), cache is gru_forward's.\n"
"Returns dx (N,D) and dh_prev (N,H); writes dWx (D,3H), dWh (H,3H) and db (3H,)\n"
"(overwriting, or adding with accumulate=True). b only takes part in the dtype rule.");

static PyObject *py_gru_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dh_next", "x", "h_prev", "cache", "Wx", "Wh", "dWx", "dWh", "db",
                             "accumulate", "b", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "gru_backward", gru_backward_args, GB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOO|OpO:gru_backward", kwlist,
                                     &c.obj[GB_dh_next], &c.obj[GB_x], &c.obj[GB_h_prev],
                                     &c.obj[GB_cache], &c.obj[GB_Wx], &c.obj[GB_Wh],
                                     &c.obj[GB_dWx], &c.obj[GB_dWh], &c.obj[GB_db], &accumulate,
                                     &c.obj[GB_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), D = call_dim(&c, 'D'), H = call_dim(&c, 'H');
    void *dx = call_output(&c, "N D");
    void *dh_prev = dx ? call_output(&c, "N H") : NULL;
    void *work = dh_prev ? call_work(&c, WORK_SIZE(&c, gru_backward, N, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, gru_backward, dx, dh_prev, call_data(&c, GB_dWx), call_data(&c, GB_dWh),
                call_data(&c, GB_db), work, call_data(&c, GB_dh_next), call_data(&c, GB_x),
                call_data(&c, GB_h_prev), call_data(&c, GB_cache), call_data(&c, GB_Wx),
                call_data(&c, GB_Wh), N, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_gru_forward ---- */

enum { TGF_Wx, TGF_Wh, TGF_b, TGF_xs, TGF_h0, TGF_COUNT };
static const ArgSpec time_gru_forward_args[TGF_COUNT] = {
    [TGF_Wx] = PARAM("Wx", "D 3H"),
    [TGF_Wh] = PARAM("Wh", "H 3H"),
    [TGF_b] = OPT_PARAM("b", "3H"),
    [TGF_xs] = INPUT("xs", "N T D"),
    [TGF_h0] = OPT_INPUT("h0", "N H"),
};

PyDoc_STRVAR(time_gru_forward_doc,
"time_gru_forward(xs, h0, Wx, Wh, b=None) -> (hs, cache)\n\n"
"A whole GRU sequence from h0 (N,H) (None = zeros): xs (N,T,D) -> hs (N,T,H) and\n"
"cache (N,T,4H): z, r, h~, r*h_prev of every step, which time_gru_backward takes back.");

static PyObject *py_time_gru_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"xs", "h0", "Wx", "Wh", "b", NULL};
    Call c;
    call_init(&c, "time_gru_forward", time_gru_forward_args, TGF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|O:time_gru_forward", kwlist,
                                     &c.obj[TGF_xs], &c.obj[TGF_h0], &c.obj[TGF_Wx],
                                     &c.obj[TGF_Wh], &c.obj[TGF_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *hs = call_output(&c, "N T H");
    void *cache = hs ? call_output(&c, "N T 4H") : NULL;
    void *work = cache ? call_work(&c, WORK_SIZE(&c, time_gru_forward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_gru_forward, hs, cache, work, call_data(&c, TGF_xs),
                call_data(&c, TGF_h0), call_data(&c, TGF_Wx), call_data(&c, TGF_Wh),
                call_data(&c, TGF_b), N, T, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_gru_backward ---- */

enum { TGB_Wx, TGB_Wh, TGB_b, TGB_xs, TGB_h0, TGB_hs, TGB_cache, TGB_dhs, TGB_dWx, TGB_dWh,
       TGB_db, TGB_COUNT };
static const ArgSpec time_gru_backward_args[TGB_COUNT] = {
    [TGB_Wx] = PARAM("Wx", "D 3H"),
    [TGB_Wh] = PARAM("Wh", "H 3H"),
    [TGB_b] = OPT_PARAM("b", "3H"), /* only for the dtype rule, as in forward */
    [TGB_xs] = INPUT("xs", "N T D"),
    [TGB_h0] = OPT_INPUT("h0", "N H"),
    [TGB_hs] = INPUT("hs", "N T H"),
    [TGB_cache] = INPUT("cache", "N T 4H"),
    [TGB_dhs] = INPUT("dhs", "N T H"),
    [TGB_dWx] = OUTPUT("dWx", "D 3H"),
    [TGB_dWh] = OUTPUT("dWh", "H 3H"),
    [TGB_db] = OPT_OUTPUT("db", "3H"),
};

PyDoc_STRVAR(time_gru_backward_doc,
"time_gru_backward(dhs, xs, h0, hs, cache, Wx, Wh, dWx, dWh, db=None, accumulate=False,\n"
"                  b=None) -> (dxs, dh0)\n\n"
"Backpropagation through time of time_gru_forward: dhs (N,T,H) the upstream gradient\n"
"of hs, h0 (N,H) or None (zeros), hs and cache the forward's outputs. Returns dxs\n"
"(N,T,D) and dh0 (N,H); writes the sums over time of dWx (D,3H), dWh (H,3H) and db\n"
"(3H,) (overwriting, or adding with accumulate=True). b only takes part in the\n"
"dtype rule.");

static PyObject *py_time_gru_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dhs", "xs", "h0", "hs", "cache", "Wx", "Wh", "dWx", "dWh", "db",
                             "accumulate", "b", NULL};
    int accumulate = 0;
    Call c;
    call_init(&c, "time_gru_backward", time_gru_backward_args, TGB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOOOO|OpO:time_gru_backward", kwlist,
                                     &c.obj[TGB_dhs], &c.obj[TGB_xs], &c.obj[TGB_h0],
                                     &c.obj[TGB_hs], &c.obj[TGB_cache], &c.obj[TGB_Wx],
                                     &c.obj[TGB_Wh], &c.obj[TGB_dWx], &c.obj[TGB_dWh],
                                     &c.obj[TGB_db], &accumulate, &c.obj[TGB_b]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), T = call_dim(&c, 'T'), D = call_dim(&c, 'D'),
                   H = call_dim(&c, 'H');
    void *dxs = call_output(&c, "N T D");
    void *dh0 = dxs ? call_output(&c, "N H") : NULL;
    void *work = dh0 ? call_work(&c, WORK_SIZE(&c, time_gru_backward, N, T, D, H)) : NULL;
    if (!work || call_ready(&c, accumulate) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_gru_backward, dxs, dh0, call_data(&c, TGB_dWx), call_data(&c, TGB_dWh),
                call_data(&c, TGB_db), work, call_data(&c, TGB_dhs), call_data(&c, TGB_xs),
                call_data(&c, TGB_h0), call_data(&c, TGB_hs), call_data(&c, TGB_cache),
                call_data(&c, TGB_Wx), call_data(&c, TGB_Wh), N, T, D, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- the family's tables ---- */

PyMethodDef rs_gated_methods[] = {
    METHOD(lstm_forward),
    METHOD(lstm_backward),
    METHOD(time_lstm_forward),
    METHOD(time_lstm_backward),
    METHOD(gru_forward),
    METHOD(gru_backward),
    METHOD(time_gru_forward),
    METHOD(time_gru_backward),
    {NULL, NULL, 0, NULL},
};

const ArgTable rs_gated_tables[] = {
    ARG_TABLE("lstm_forward", lstm_forward_args),
    ARG_TABLE("lstm_backward", lstm_backward_args),
    ARG_TABLE("time_lstm_forward", time_lstm_forward_args),
    ARG_TABLE("time_lstm_backward", time_lstm_backward_args),
    ARG_TABLE("gru_forward", gru_forward_args),
    ARG_TABLE("gru_backward", gru_backward_args),
    ARG_TABLE("time_gru_forward", time_gru_forward_args),
    ARG_TABLE("time_gru_backward", time_gru_backward_args),
    {NULL, NULL, 0},
};
