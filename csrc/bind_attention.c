/* bind_attention.c -- _core bindings of the attention (chapter 8): the
 * attention weight, the weight sum, and both over a decoder sequence.
 * Kernels: attention.h. Machinery: args.h.
 *
 * The encoder and decoder states choose the compute dtype (they are PARAMs in
 * the tables: float32 when both are float16/float32, else float64); the
 * weights and upstream gradients are cast to it. S is the encoder's length,
 * T the decoder's. */
#include "args.h"
#include "bindings.h"
#include "attention.h"

/* ---- attention_weight_forward ---- */

enum { AWF_hs_enc, AWF_hs_dec, AWF_COUNT };
static const ArgSpec attention_weight_forward_args[AWF_COUNT] = {
    [AWF_hs_enc] = PARAM("hs_enc", "N S H"),
    [AWF_hs_dec] = PARAM("hs_dec", "N T H"),
};

PyDoc_STRVAR(attention_weight_forward_doc,
"attention_weight_forward(hs_enc, hs_dec) -> a\n\n"
"a (N,T,S)[n,t,:] = softmax over i of sum_h hs_enc (N,S,H)[n,i,h] * hs_dec (N,T,H)[n,t,h].");

static PyObject *py_attention_weight_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"hs_enc", "hs_dec", NULL};
    Call c;
    call_init(&c, "attention_weight_forward", attention_weight_forward_args, AWF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:attention_weight_forward", kwlist,
                                     &c.obj[AWF_hs_enc], &c.obj[AWF_hs_dec]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *a = call_output(&c, "N T S");
    if (!a || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, attention_weight_forward, a, call_data(&c, AWF_hs_enc),
                call_data(&c, AWF_hs_dec), N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- weight_sum_forward ---- */

enum { WSF_hs_enc, WSF_a, WSF_COUNT };
static const ArgSpec weight_sum_forward_args[WSF_COUNT] = {
    [WSF_hs_enc] = PARAM("hs_enc", "N S H"),
    [WSF_a] = INPUT("a", "N T S"),
};

PyDoc_STRVAR(weight_sum_forward_doc,
"weight_sum_forward(hs_enc, a) -> c\n\n"
"c (N,T,H)[n,t,:] = sum_i a (N,T,S)[n,t,i] * hs_enc (N,S,H)[n,i,:].\n"
"hs_enc chooses the compute dtype; a is cast to it.");

static PyObject *py_weight_sum_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"hs_enc", "a", NULL};
    Call c;
    call_init(&c, "weight_sum_forward", weight_sum_forward_args, WSF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:weight_sum_forward", kwlist,
                                     &c.obj[WSF_hs_enc], &c.obj[WSF_a]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *out = call_output(&c, "N T H");
    if (!out || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, weight_sum_forward, out, call_data(&c, WSF_hs_enc), call_data(&c, WSF_a),
                N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_attention_forward ---- */

enum { TAF_hs_enc, TAF_hs_dec, TAF_COUNT };
static const ArgSpec time_attention_forward_args[TAF_COUNT] = {
    [TAF_hs_enc] = PARAM("hs_enc", "N S H"),
    [TAF_hs_dec] = PARAM("hs_dec", "N T H"),
};

PyDoc_STRVAR(time_attention_forward_doc,
"time_attention_forward(hs_enc, hs_dec) -> (c, a)\n\n"
"Attention of every decoder step at once: a (N,T,S) as attention_weight_forward,\n"
"c (N,T,H) = weight_sum_forward(hs_enc, a); the same numbers as the two calls.\n"
"hs_enc (N,S,H) the encoder's states, hs_dec (N,T,H) the decoder's.");

static PyObject *py_time_attention_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"hs_enc", "hs_dec", NULL};
    Call c;
    call_init(&c, "time_attention_forward", time_attention_forward_args, TAF_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:time_attention_forward", kwlist,
                                     &c.obj[TAF_hs_enc], &c.obj[TAF_hs_dec]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *out = call_output(&c, "N T H");
    void *a = out ? call_output(&c, "N T S") : NULL;
    if (!a || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_attention_forward, out, a, call_data(&c, TAF_hs_enc),
                call_data(&c, TAF_hs_dec), N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- weight_sum_backward ---- */

enum { WSB_hs_enc, WSB_dc, WSB_a, WSB_COUNT };
static const ArgSpec weight_sum_backward_args[WSB_COUNT] = {
    [WSB_hs_enc] = PARAM("hs_enc", "N S H"),
    [WSB_dc] = INPUT("dc", "N T H"),
    [WSB_a] = INPUT("a", "N T S"),
};

PyDoc_STRVAR(weight_sum_backward_doc,
"weight_sum_backward(dc, hs_enc, a) -> (dhs_enc, da)\n\n"
"Backward of weight_sum_forward: dhs_enc (N,S,H)[n,i,:] = sum_t a[n,t,i] * dc[n,t,:],\n"
"da (N,T,S)[n,t,i] = sum_h dc (N,T,H)[n,t,h] * hs_enc[n,i,h].");

static PyObject *py_weight_sum_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dc", "hs_enc", "a", NULL};
    Call c;
    call_init(&c, "weight_sum_backward", weight_sum_backward_args, WSB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO:weight_sum_backward", kwlist,
                                     &c.obj[WSB_dc], &c.obj[WSB_hs_enc], &c.obj[WSB_a]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *dhs_enc = call_output(&c, "N S H");
    void *da = dhs_enc ? call_output(&c, "N T S") : NULL;
    if (!da || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, weight_sum_backward, dhs_enc, da, call_data(&c, WSB_dc),
                call_data(&c, WSB_hs_enc), call_data(&c, WSB_a), N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- attention_weight_backward ---- */

enum { AWB_hs_enc, AWB_hs_dec, AWB_da, AWB_a, AWB_COUNT };
static const ArgSpec attention_weight_backward_args[AWB_COUNT] = {
    [AWB_hs_enc] = PARAM("hs_enc", "N S H"),
    [AWB_hs_dec] = PARAM("hs_dec", "N T H"),
    [AWB_da] = INPUT("da", "N T S"),
    [AWB_a] = INPUT("a", "N T S"),
};

PyDoc_STRVAR(attention_weight_backward_doc,
"attention_weight_backward(da, hs_enc, hs_dec, a) -> (dhs_enc, dhs_dec)\n\n"
"Backward of attention_weight_forward, a (N,T,S) its output, da (N,T,S) the\n"
"upstream gradient: ds = a*da - a*sum_i(a*da) (the softmax's backward), then\n"
"dhs_enc (N,S,H) = sum_t ds[:,t,:,None] * hs_dec[:,t,None,:], dhs_dec (N,T,H) = ds @ hs_enc.");

static PyObject *py_attention_weight_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"da", "hs_enc", "hs_dec", "a", NULL};
    Call c;
    call_init(&c, "attention_weight_backward", attention_weight_backward_args, AWB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO:attention_weight_backward", kwlist,
                                     &c.obj[AWB_da], &c.obj[AWB_hs_enc], &c.obj[AWB_hs_dec],
                                     &c.obj[AWB_a]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *dhs_enc = call_output(&c, "N S H");
    void *dhs_dec = dhs_enc ? call_output(&c, "N T H") : NULL;
    void *work = dhs_dec ? call_work(&c, WORK_SIZE(&c, time_attention_backward, N, S, T, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, attention_weight_backward, dhs_enc, dhs_dec, work, call_data(&c, AWB_da),
                call_data(&c, AWB_hs_enc), call_data(&c, AWB_hs_dec), call_data(&c, AWB_a),
                N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- time_attention_backward ---- */

enum { TAB_hs_enc, TAB_hs_dec, TAB_dc, TAB_a, TAB_COUNT };
static const ArgSpec time_attention_backward_args[TAB_COUNT] = {
    [TAB_hs_enc] = PARAM("hs_enc", "N S H"),
    [TAB_hs_dec] = PARAM("hs_dec", "N T H"),
    [TAB_dc] = INPUT("dc", "N T H"),
    [TAB_a] = INPUT("a", "N T S"),
};

PyDoc_STRVAR(time_attention_backward_doc,
"time_attention_backward(dc, hs_enc, hs_dec, a) -> (dhs_enc, dhs_dec)\n\n"
"Backward of time_attention_forward, a (N,T,S) the weights it returned, dc (N,T,H)\n"
"the upstream gradient of c. dhs_enc (N,S,H) is summed over the decoder's steps\n"
"(the weight sum's part plus the weights' part), dhs_dec (N,T,H) per step.");

static PyObject *py_time_attention_backward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dc", "hs_enc", "hs_dec", "a", NULL};
    Call c;
    call_init(&c, "time_attention_backward", time_attention_backward_args, TAB_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO:time_attention_backward", kwlist,
                                     &c.obj[TAB_dc], &c.obj[TAB_hs_enc], &c.obj[TAB_hs_dec],
                                     &c.obj[TAB_a]))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp N = call_dim(&c, 'N'), S = call_dim(&c, 'S'), T = call_dim(&c, 'T'),
                   H = call_dim(&c, 'H');
    void *dhs_enc = call_output(&c, "N S H");
    void *dhs_dec = dhs_enc ? call_output(&c, "N T H") : NULL;
    void *work = dhs_dec ? call_work(&c, WORK_SIZE(&c, time_attention_backward, N, S, T, H)) : NULL;
    if (!work || call_ready(&c, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    CALL_KERNEL(&c, time_attention_backward, dhs_enc, dhs_dec, work, call_data(&c, TAB_dc),
                call_data(&c, TAB_hs_enc), call_data(&c, TAB_hs_dec), call_data(&c, TAB_a),
                N, S, T, H);
    Py_END_ALLOW_THREADS
    return call_finish(&c);
}

/* ---- the family's tables ---- */

PyMethodDef rs_attention_methods[] = {
    METHOD(attention_weight_forward),
    METHOD(weight_sum_forward),
    METHOD(time_attention_forward),
    METHOD(weight_sum_backward),
    METHOD(attention_weight_backward),
    METHOD(time_attention_backward),
    {NULL, NULL, 0, NULL},
};

const ArgTable rs_attention_tables[] = {
    ARG_TABLE("attention_weight_forward", attention_weight_forward_args),
    ARG_TABLE("weight_sum_forward", weight_sum_forward_args),
    ARG_TABLE("time_attention_forward", time_attention_forward_args),
    ARG_TABLE("weight_sum_backward", weight_sum_backward_args),
    ARG_TABLE("attention_weight_backward", attention_weight_backward_args),
    ARG_TABLE("time_attention_backward", time_attention_backward_args),
    {NULL, NULL, 0},
};
