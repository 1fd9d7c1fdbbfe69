/* module.c -- rnnscratch._core: the only C file that knows Python.
 *
 * Each function parses its arguments into a table of Arg (name, shape spec,
 * role), and one routine, prepare_args(), does everything every function
 * needs: array conversion, dtype policy, shape checks with named dimensions,
 * overlap checks, conversion to C-contiguous arrays of the compute dtype, and
 * write-back buffers for the gradient outputs. Then the GIL is released around
 * the float or double kernel, and finish_args() writes gradients back.
 *
 * Dtype policy: the compute dtype is float32 when the parameters' result type
 * (np.result_type(Wx, Wh, b)) is float16 or float32, float64 otherwise; inputs
 * of any numeric dtype (bool, ints, floats) are converted to it. Gradient
 * buffers must be floating arrays of any layout; they are written through a
 * C-contiguous copy when needed (never a copy the caller does not see).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <stdint.h>
#include <string.h>

/* sgd_update must round lr*grad before subtracting, as NumPy does (gcc does
   not contract a*b+c in ISO C mode; clang does unless told not to). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "compat.h"
#include "act.h"
#include "gemm.h"
#include "rnn.h"
#include "threads.h"
#include "lstm.h" /* TEMPORARY bindings of the gated layers, see the end */
#include "gru.h"

/* ------------------------------------------------------------------------ */
/* Named dimensions: N batch, T time, D input features, H hidden units,     */
/* V vocabulary.                                                             */

enum { DIM_N, DIM_T, DIM_D, DIM_H, DIM_V,
       DIM_G, DIM_C, /* TEMPORARY (gated layers): gate columns kH, cache columns 4H */
       DIM_COUNT };
static const char DIM_LETTERS[] = "NTDHVGC";

typedef struct {
    npy_intp size[DIM_COUNT]; /* -1 until an argument fixes it */
    const char *from[DIM_COUNT];
} Dims;

/* One argument of a kernel call. */
enum { ROLE_PARAM, ROLE_INPUT, ROLE_OUTPUT };

typedef struct {
    const char *name;
    PyObject *obj;       /* borrowed; NULL or None = absent */
    const char *spec;    /* dims, e.g. "NTD" */
    int role;
    int optional;
    PyArrayObject *arr;  /* new ref: obj as an array (any dtype, any layout) */
    PyArrayObject *conv; /* new ref: C-contiguous, compute dtype */
    int typenum;         /* 0: the compute dtype; NPY_INTP: integer ids (inputs only) */
    int add_back;        /* output: conv is a zeroed scratch added into arr by finish_args */
} Arg;

/* Table entries: PARAM decides the compute dtype, INPUT is read, OUTPUT is a
   gradient buffer written in place, IDS an integer index array; OPT_ ones may be None. */
#define ARG_(nm, o, sp, r, opt, ty) \
    { .name = nm, .obj = o, .spec = sp, .role = r, .optional = opt, .typenum = ty }
#define PARAM(nm, o, sp) ARG_(nm, o, sp, ROLE_PARAM, 0, 0)
#define OPT_PARAM(nm, o, sp) ARG_(nm, o, sp, ROLE_PARAM, 1, 0)
#define INPUT(nm, o, sp) ARG_(nm, o, sp, ROLE_INPUT, 0, 0)
#define OPT_INPUT(nm, o, sp) ARG_(nm, o, sp, ROLE_INPUT, 1, 0)
#define IDS(nm, o, sp) ARG_(nm, o, sp, ROLE_INPUT, 0, NPY_INTP)
#define OUTPUT(nm, o, sp) ARG_(nm, o, sp, ROLE_OUTPUT, 0, 0)
#define OPT_OUTPUT(nm, o, sp) ARG_(nm, o, sp, ROLE_OUTPUT, 1, 0)

static int arg_present(const Arg *a) { return a->obj != NULL && a->obj != Py_None; }

static void *arg_data(const Arg *a) { return a->conv ? PyArray_DATA(a->conv) : NULL; }

static PyObject *shape_tuple(PyArrayObject *a)
{
    int nd = PyArray_NDIM(a);
    PyObject *t = PyTuple_New(nd);
    if (!t) return NULL;
    for (int i = 0; i < nd; i++) {
        PyObject *v = PyLong_FromSsize_t(PyArray_DIM(a, i));
        if (!v) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* "(N, T, D)" */
static void spec_str(char *buf, const char *spec)
{
    char *p = buf;
    *p++ = '(';
    for (const char *s = spec; *s; s++) {
        if (s != spec) { *p++ = ','; *p++ = ' '; }
        *p++ = *s;
    }
    if (strlen(spec) == 1) *p++ = ',';
    *p++ = ')';
    *p = '\0';
}

static int check_shape(const Arg *a, Dims *dims)
{
    char want[32];
    int nd = (int)strlen(a->spec);
    spec_str(want, a->spec);
    if (PyArray_NDIM(a->arr) != nd) {
        PyObject *got = shape_tuple(a->arr);
        if (got) {
            PyErr_Format(PyExc_ValueError,
                         "%s: expected a %d-d array of shape %s, got a %d-d array of shape %R",
                         a->name, nd, want, PyArray_NDIM(a->arr), got);
            Py_DECREF(got);
        }
        return -1;
    }
    for (int i = 0; i < nd; i++) {
        int k = (int)(strchr(DIM_LETTERS, a->spec[i]) - DIM_LETTERS);
        npy_intp s = PyArray_DIM(a->arr, i);
        if (dims->size[k] < 0) {
            dims->size[k] = s;
            dims->from[k] = a->name;
        } else if (dims->size[k] != s) {
            PyObject *got = shape_tuple(a->arr);
            if (got) {
                PyErr_Format(PyExc_ValueError,
                             "%s: expected shape %s with %c=%zd (from %s), got %R",
                             a->name, want, a->spec[i], (Py_ssize_t)dims->size[k],
                             dims->from[k], got);
                Py_DECREF(got);
            }
            return -1;
        }
    }
    return 0;
}

/* The byte range an array's elements occupy: [*lo, *hi). Empty → lo == hi. */
static void byte_extent(PyArrayObject *a, char **lo, char **hi)
{
    char *base = PyArray_BYTES(a);
    npy_intp low = 0, high = PyArray_ITEMSIZE(a);
    if (PyArray_SIZE(a) == 0) { *lo = *hi = base; return; }
    for (int i = 0; i < PyArray_NDIM(a); i++) {
        npy_intp span = PyArray_STRIDE(a, i) * (PyArray_DIM(a, i) - 1);
        if (span < 0) low += span; else high += span;
    }
    *lo = base + low;
    *hi = base + high;
}

static int overlap(PyArrayObject *a, PyArrayObject *b)
{
    char *alo, *ahi, *blo, *bhi;
    byte_extent(a, &alo, &ahi);
    byte_extent(b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

/* Whether two arrays whose byte ranges overlap really share an element
 * (np.shares_memory, exact): 1, 0, or -1 with an exception. */
static int shares_memory(PyArrayObject *a, PyArrayObject *b)
{
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) return -1;
    PyObject *r = PyObject_CallMethod(np, "shares_memory", "OO", (PyObject *)a, (PyObject *)b);
    Py_DECREF(np);
    if (!r) return -1;
    int v = PyObject_IsTrue(r);
    Py_DECREF(r);
    return v;
}

/* obj → array, numbers only. New reference or NULL with an exception naming `name`. */
static PyArrayObject *as_numeric_array(PyObject *obj, const char *name)
{
    PyArrayObject *arr = (PyArrayObject *)PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
    if (!arr) {
        /* a conversion that fails for what obj is: say which argument; anything
           else (MemoryError, KeyboardInterrupt, ...) goes through untouched */
        if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError))
            return NULL;
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_Format(PyExc_TypeError, "%s: expected an array of numbers, got %s (%S)",
                     name, Py_TYPE(obj)->tp_name, value ? value : Py_None);
        Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
        return NULL;
    }
    char kind = PyArray_DESCR(arr)->kind;
    if (!strchr("biuf", kind)) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected an array of numbers (bool, int or float), got dtype %S",
                     name, (PyObject *)PyArray_DESCR(arr));
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* Unsigned ids as wide as npy_intp could wrap to negative ids (and match
 * ignore_label) when cast: reject the ones that don't fit. */
static int check_ids_fit(const Arg *a)
{
    PyArray_Descr *d = PyArray_DESCR(a->arr);
    if (d->kind != 'u' || PyArray_ITEMSIZE(a->arr) < (npy_intp)sizeof(npy_intp) ||
        PyArray_SIZE(a->arr) == 0)
        return 0;
    PyArrayObject *u = (PyArrayObject *)PyArray_FromArray(
        a->arr, PyArray_DescrFromType(NPY_UINT64), NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
    if (!u) return -1;
    const npy_uint64 *v = PyArray_DATA(u);
    npy_intp n = PyArray_SIZE(u), bad = -1;
    for (npy_intp i = 0; i < n && bad < 0; i++)
        if (v[i] > (npy_uint64)NPY_MAX_INTP) bad = i;
    if (bad >= 0)
        PyErr_Format(PyExc_ValueError, "%s: word id %llu (flat index %zd) is out of range",
                     a->name, (unsigned long long)v[bad], (Py_ssize_t)bad);
    Py_DECREF(u);
    return bad >= 0 ? -1 : 0;
}

static int check_output(PyObject *obj, const char *name)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected a numpy.ndarray to write the gradient into, got %s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_DESCR(a)->kind != 'f') {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected a floating-point array to write the gradient into, got dtype %S",
                     name, (PyObject *)PyArray_DESCR(a));
        return -1;
    }
    if (!PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s: the gradient array is read-only", name);
        return -1;
    }
    return 0;
}

static void release_args(Arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        if (args[i].conv && args[i].role == ROLE_OUTPUT && !args[i].add_back)
            PyArray_DiscardWritebackIfCopy(args[i].conv);
        Py_CLEAR(args[i].conv);
        Py_CLEAR(args[i].arr);
    }
}

/* Write the gradient outputs back to the caller's arrays, release everything. */
static int finish_args(Arg *args, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (args[i].conv && args[i].add_back) {
            /* arr += conv, in arr's (wider) dtype */
            PyObject *r = PyNumber_InPlaceAdd((PyObject *)args[i].arr, (PyObject *)args[i].conv);
            if (r) Py_DECREF(r); else rc = -1;
        } else if (args[i].conv && args[i].role == ROLE_OUTPUT) {
            if (PyArray_ResolveWritebackIfCopy(args[i].conv) < 0) rc = -1;
        }
        Py_CLEAR(args[i].conv);
        Py_CLEAR(args[i].arr);
    }
    return rc;
}

/* Everything that can fail happens here, before any output is touched.
 * On success *typenum is NPY_FLOAT or NPY_DOUBLE and every present arg has
 * `conv`; on failure all references are released and -1 returned. */
static int prepare_args(Arg *args, int n, Dims *dims, int *typenum)
{
    for (int k = 0; k < DIM_COUNT; k++) { dims->size[k] = -1; dims->from[k] = NULL; }

    /* 1. arrays of numbers; outputs must be writeable float ndarrays */
    for (int i = 0; i < n; i++) {
        Arg *a = &args[i];
        if (!arg_present(a)) {
            if (a->optional) continue;
            PyErr_Format(PyExc_TypeError, "%s: expected an array, got None", a->name);
            goto fail;
        }
        if (a->role == ROLE_OUTPUT) {
            if (check_output(a->obj, a->name) < 0) goto fail;
            Py_INCREF(a->obj);
            a->arr = (PyArrayObject *)a->obj;
        } else {
            a->arr = as_numeric_array(a->obj, a->name);
            if (!a->arr) goto fail;
            if (a->typenum == NPY_INTP && !strchr("iu", PyArray_DESCR(a->arr)->kind)) {
                PyErr_Format(PyExc_TypeError, "%s: expected an array of integer ids, got dtype %S",
                             a->name, (PyObject *)PyArray_DESCR(a->arr));
                goto fail;
            }
            if (a->typenum == NPY_INTP && check_ids_fit(a) < 0) goto fail;
        }
    }

    /* 2. compute dtype from the parameters */
    {
        PyArrayObject *params[8];
        npy_intp np_ = 0;
        for (int i = 0; i < n && np_ < 8; i++)
            if (args[i].role == ROLE_PARAM && args[i].arr) params[np_++] = args[i].arr;
        PyArray_Descr *rt = PyArray_ResultType(np_, params, 0, NULL);
        if (!rt) goto fail;
        *typenum = (rt->type_num == NPY_FLOAT || rt->type_num == NPY_HALF) ? NPY_FLOAT : NPY_DOUBLE;
        Py_DECREF(rt);
    }

    /* 3. shapes, in table order: the first argument that shows a dim fixes it */
    for (int i = 0; i < n; i++)
        if (args[i].arr && check_shape(&args[i], dims) < 0) goto fail;

    /* 4. outputs must not share memory with each other */
    for (int i = 0; i < n; i++) {
        if (!args[i].arr || args[i].role != ROLE_OUTPUT) continue;
        for (int j = i + 1; j < n; j++) {
            if (args[j].arr && args[j].role == ROLE_OUTPUT &&
                overlap(args[i].arr, args[j].arr)) {
                int sh = shares_memory(args[i].arr, args[j].arr); /* interleaved views: no */
                if (sh < 0) goto fail;
                if (!sh) continue;
                PyErr_Format(PyExc_ValueError, "%s: shares memory with %s; pass separate arrays",
                             args[j].name, args[i].name);
                goto fail;
            }
        }
    }

    /* 5. C-contiguous arrays of the compute dtype */
    for (int i = 0; i < n; i++) {
        Arg *a = &args[i];
        if (!a->arr) continue;
        int flags = NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST;
        if (a->role == ROLE_OUTPUT) {
            flags = NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST | NPY_ARRAY_WRITEBACKIFCOPY;
            for (int j = 0; j < n; j++)
                if (j != i && args[j].arr && args[j].role != ROLE_OUTPUT &&
                    overlap(a->arr, args[j].arr))
                    flags |= NPY_ARRAY_ENSURECOPY; /* inputs must not change under us */
        }
        if (a->typenum == NPY_INTP)
            flags |= NPY_ARRAY_ENSURECOPY; /* checked once, then read without the GIL:
                                              no other thread may change them */
        int type = a->typenum ? a->typenum : *typenum;
        a->conv = (PyArrayObject *)PyArray_FromArray(a->arr, PyArray_DescrFromType(type), flags);
        if (!a->conv) goto fail;
    }
    return 0;

fail:
    release_args(args, n);
    return -1;
}

static int parse_activation(PyObject *obj, int *act)
{
    if (obj == NULL) { *act = RS_ACT_TANH; return 0; }
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "activation: expected 'tanh', 'relu' or 'sigmoid', got %s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(obj, "tanh") == 0) *act = RS_ACT_TANH;
    else if (PyUnicode_CompareWithASCIIString(obj, "relu") == 0) *act = RS_ACT_RELU;
    else if (PyUnicode_CompareWithASCIIString(obj, "sigmoid") == 0) *act = RS_ACT_SIGMOID;
    else {
        PyErr_Format(PyExc_ValueError,
                     "activation: expected 'tanh', 'relu' or 'sigmoid', got %R", obj);
        return -1;
    }
    return 0;
}

/* An `out=` array the caller gives for a result: an ndarray of exactly the
 * compute dtype, C-contiguous, aligned, writeable, of the given shape, sharing
 * no memory with any argument. 0, or -1 with the error set. */
static int check_out(PyObject *obj, const char *name, int nd, const npy_intp *shape, int typenum,
                     const Arg *args, int n)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray or None, got %s", name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_TYPE(a) != typenum || !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_TypeError, "%s: expected dtype %s (the compute dtype), got %S", name,
                     typenum == NPY_FLOAT ? "float32" : "float64", (PyObject *)PyArray_DESCR(a));
        return -1;
    }
    int same = PyArray_NDIM(a) == nd;
    for (int i = 0; same && i < nd; i++) same = PyArray_DIM(a, i) == shape[i];
    if (!same) {
        PyObject *got = shape_tuple(a);
        if (got) {
            PyErr_Format(PyExc_ValueError, "%s: expected shape (%zd, %zd, %zd), got %R", name,
                         (Py_ssize_t)shape[0], (Py_ssize_t)shape[1], (Py_ssize_t)shape[2], got);
            Py_DECREF(got);
        }
        return -1;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous, aligned, writeable array",
                     name);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if ((args[i].arr && overlap(a, args[i].arr)) || (args[i].conv && overlap(a, args[i].conv))) {
            PyErr_Format(PyExc_ValueError, "%s: shares memory with %s", name, args[i].name);
            return -1;
        }
    }
    return 0;
}

static PyArrayObject *new_output(int nd, npy_intp d0, npy_intp d1, npy_intp d2, int typenum)
{
    npy_intp shape[3] = {d0, d1, d2};
    return (PyArrayObject *)PyArray_SimpleNew(nd, shape, typenum);
}

/* A kernel's workspace: `count` elements of `typenum`, 64-byte aligned.
 * Allocated before any output is touched; MemoryError when it can't be. */
typedef struct {
    void *raw;
    void *data;
} Work;

static int work_alloc(Work *w, ptrdiff_t count, int typenum)
{
    size_t item = typenum == NPY_FLOAT ? sizeof(float) : sizeof(double);
    w->raw = w->data = NULL;
    if (count < 0 || (size_t)count > (PY_SSIZE_T_MAX - 128) / item) {
        PyErr_NoMemory();
        return -1;
    }
    w->raw = PyMem_RawMalloc((size_t)count * item + 64);
    if (!w->raw) {
        PyErr_NoMemory();
        return -1;
    }
    w->data = (void *)(((uintptr_t)w->raw + 63) & ~(uintptr_t)63);
    return 0;
}

static void work_free(Work *w)
{
    PyMem_RawFree(w->raw);
    w->raw = w->data = NULL;
}

/* the work size of a kernel for the compute dtype: WORK_SIZE(time_rnn_backward, N, T, D, H) */
#define WORK_SIZE(kernel, ...)                                                     \
    (typenum == NPY_FLOAT ? kernel##_work_size_f32(__VA_ARGS__)                     \
                          : kernel##_work_size_f64(__VA_ARGS__))

/* Get the gradient outputs ready for kernels that add into them: zeroed
 * (overwrite), or, with accumulate, left as they are, except that an output
 * wider than the compute dtype (float64 gradients of float32 parameters) gets
 * a zeroed scratch buffer instead of its write-back copy, added into it by
 * finish_args: the round trip through the narrower dtype would round every
 * element it holds. Called after every other allocation; on failure (a
 * MemoryError) no output has been touched. */
static int start_outputs(Arg *args, int n, int accumulate)
{
    for (int i = 0; i < n; i++) {
        Arg *a = &args[i];
        if (!a->conv || a->role != ROLE_OUTPUT) continue;
        if (!accumulate) {
            memset(PyArray_DATA(a->conv), 0, (size_t)PyArray_NBYTES(a->conv));
        } else if (PyArray_ITEMSIZE(a->arr) > PyArray_ITEMSIZE(a->conv)) {
            PyArrayObject *z = (PyArrayObject *)PyArray_ZEROS(
                PyArray_NDIM(a->conv), PyArray_DIMS(a->conv), PyArray_TYPE(a->conv), 0);
            if (!z) return -1;
            PyArray_DiscardWritebackIfCopy(a->conv);
            Py_DECREF(a->conv);
            a->conv = z;
            a->add_back = 1;
        }
    }
    return 0;
}

#define P(i) arg_data(&args[i])

/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(rnn_forward_doc,
"rnn_forward(x, h_prev, Wx, Wh, b=None, activation='tanh') -> h_next\n\n"
"One RNN step: h_next (N,H) = f(x (N,D) @ Wx (D,H) + h_prev (N,H) @ Wh (H,H) + b (H,)).\n"
"h_prev and b may be None (zeros, no bias).");

static PyObject *py_rnn_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"x", "h_prev", "Wx", "Wh", "b", "activation", NULL};
    PyObject *x, *h_prev, *Wx, *Wh, *b = NULL, *actobj = NULL;
    int act, typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|OO:rnn_forward", kwlist,
                                     &x, &h_prev, &Wx, &Wh, &b, &actobj))
        return NULL;
    if (parse_activation(actobj, &act) < 0) return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DH"),
        PARAM("Wh", Wh, "HH"),
        OPT_PARAM("b", b, "H"),
        INPUT("x", x, "ND"),
        OPT_INPUT("h_prev", h_prev, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *out = new_output(2, N, H, 0, typenum);
    if (!out) { release_args(args, n); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        rnn_forward_f32(PyArray_DATA(out), P(3), P(4), P(0), P(1), P(2), N, D, H, act);
    else
        rnn_forward_f64(PyArray_DATA(out), P(3), P(4), P(0), P(1), P(2), N, D, H, act);
    Py_END_ALLOW_THREADS
    finish_args(args, n);
    return (PyObject *)out;
}

PyDoc_STRVAR(rnn_backward_doc,
"rnn_backward(dh_next, x, h_prev, h_next, Wx, Wh, dWx, dWh, db=None,\n"
"             activation='tanh', accumulate=False, b=None) -> (dx, dh_prev)\n\n"
"Backward of one RNN step. Returns dx (N,D) and dh_prev (N,H); writes the\n"
"gradients into dWx (D,H), dWh (H,H) and db (H,) (any floating dtype and\n"
"layout), overwriting them, or adding to them with accumulate=True.\n"
"h_next is the forward output; f' is taken from it. b, the layer's bias, only\n"
"takes part in choosing the compute dtype, as in rnn_forward.");

static PyObject *py_rnn_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dh_next", "x", "h_prev", "h_next", "Wx", "Wh", "dWx", "dWh",
                             "db", "activation", "accumulate", "b", NULL};
    PyObject *dh_next, *x, *h_prev, *h_next, *Wx, *Wh, *dWx, *dWh, *db = NULL, *actobj = NULL,
             *b = NULL;
    int act, typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOO|OOpO:rnn_backward", kwlist, &dh_next,
                                     &x, &h_prev, &h_next, &Wx, &Wh, &dWx, &dWh, &db, &actobj,
                                     &accumulate, &b))
        return NULL;
    if (parse_activation(actobj, &act) < 0) return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DH"),
        PARAM("Wh", Wh, "HH"),
        OPT_PARAM("b", b, "H"), /* only for the dtype rule, as in forward */
        INPUT("x", x, "ND"),
        OPT_INPUT("h_prev", h_prev, "NH"),
        INPUT("h_next", h_next, "NH"),
        INPUT("dh_next", dh_next, "NH"),
        OUTPUT("dWx", dWx, "DH"),
        OUTPUT("dWh", dWh, "HH"),
        OPT_OUTPUT("db", db, "H"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *dx = new_output(2, N, D, 0, typenum);
    PyArrayObject *dh_prev = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dx || !dh_prev || work_alloc(&work, WORK_SIZE(rnn_backward, N, D, H), typenum) < 0) {
        Py_XDECREF(dx); Py_XDECREF(dh_prev);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dx); Py_DECREF(dh_prev); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        rnn_backward_f32(PyArray_DATA(dx), PyArray_DATA(dh_prev), P(7), P(8), P(9), work.data,
                         P(6), P(3), P(4), P(5), P(0), P(1), N, D, H, act);
    else
        rnn_backward_f64(PyArray_DATA(dx), PyArray_DATA(dh_prev), P(7), P(8), P(9), work.data,
                         P(6), P(3), P(4), P(5), P(0), P(1), N, D, H, act);
    Py_END_ALLOW_THREADS
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dx); Py_DECREF(dh_prev); return NULL; }
    return Py_BuildValue("(NN)", dx, dh_prev);
}

PyDoc_STRVAR(time_rnn_forward_doc,
"time_rnn_forward(xs, h0, Wx, Wh, b=None, activation='tanh') -> hs\n\n"
"A whole sequence: hs[:, t] = f(xs[:, t] @ Wx + hs[:, t-1] @ Wh + b), starting\n"
"from h0 (N,H) (None = zeros). xs (N,T,D) -> hs (N,T,H).");

static PyObject *py_time_rnn_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"xs", "h0", "Wx", "Wh", "b", "activation", NULL};
    PyObject *xs, *h0, *Wx, *Wh, *b = NULL, *actobj = NULL;
    int act, typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|OO:time_rnn_forward", kwlist, &xs, &h0,
                                     &Wx, &Wh, &b, &actobj))
        return NULL;
    if (parse_activation(actobj, &act) < 0) return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DH"),
        PARAM("Wh", Wh, "HH"),
        OPT_PARAM("b", b, "H"),
        INPUT("xs", xs, "NTD"),
        OPT_INPUT("h0", h0, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *hs = new_output(3, N, T, H, typenum);
    Work work;
    if (!hs || work_alloc(&work, WORK_SIZE(time_rnn_forward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(hs);
        release_args(args, n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        time_rnn_forward_f32(PyArray_DATA(hs), work.data, P(3), P(4), P(0), P(1), P(2),
                             N, T, D, H, act);
    else
        time_rnn_forward_f64(PyArray_DATA(hs), work.data, P(3), P(4), P(0), P(1), P(2),
                             N, T, D, H, act);
    Py_END_ALLOW_THREADS
    work_free(&work);
    finish_args(args, n);
    return (PyObject *)hs;
}

PyDoc_STRVAR(time_rnn_backward_doc,
"time_rnn_backward(dhs, xs, h0, hs, Wx, Wh, dWx, dWh, db=None,\n"
"                  activation='tanh', accumulate=False, b=None) -> (dxs, dh0)\n\n"
"Backpropagation through time. dhs (N,T,H) is the upstream gradient of hs,\n"
"hs the forward output, h0 (N,H) the initial state (None = zeros). Returns\n"
"dxs (N,T,D) and dh0 (N,H); writes the sums over time of dWx (D,H), dWh (H,H)\n"
"and db (H,) into the given arrays (overwriting, or adding with accumulate=True).\n"
"b, the layer's bias, only takes part in choosing the compute dtype.");

static PyObject *py_time_rnn_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dhs", "xs", "h0", "hs", "Wx", "Wh", "dWx", "dWh",
                             "db", "activation", "accumulate", "b", NULL};
    PyObject *dhs, *xs, *h0, *hs, *Wx, *Wh, *dWx, *dWh, *db = NULL, *actobj = NULL, *b = NULL;
    int act, typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOO|OOpO:time_rnn_backward", kwlist, &dhs,
                                     &xs, &h0, &hs, &Wx, &Wh, &dWx, &dWh, &db, &actobj,
                                     &accumulate, &b))
        return NULL;
    if (parse_activation(actobj, &act) < 0) return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DH"),
        PARAM("Wh", Wh, "HH"),
        OPT_PARAM("b", b, "H"), /* only for the dtype rule, as in forward */
        INPUT("xs", xs, "NTD"),
        OPT_INPUT("h0", h0, "NH"),
        INPUT("hs", hs, "NTH"),
        INPUT("dhs", dhs, "NTH"),
        OUTPUT("dWx", dWx, "DH"),
        OUTPUT("dWh", dWh, "HH"),
        OPT_OUTPUT("db", db, "H"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *dxs = new_output(3, N, T, D, typenum);
    PyArrayObject *dh0 = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dxs || !dh0 || work_alloc(&work, WORK_SIZE(time_rnn_backward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(dxs); Py_XDECREF(dh0);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dxs); Py_DECREF(dh0); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        time_rnn_backward_f32(PyArray_DATA(dxs), PyArray_DATA(dh0), P(7), P(8), P(9), work.data,
                              P(6), P(3), P(4), P(5), P(0), P(1), N, T, D, H, act);
    else
        time_rnn_backward_f64(PyArray_DATA(dxs), PyArray_DATA(dh0), P(7), P(8), P(9), work.data,
                              P(6), P(3), P(4), P(5), P(0), P(1), N, T, D, H, act);
    Py_END_ALLOW_THREADS
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dxs); Py_DECREF(dh0); return NULL; }
    return Py_BuildValue("(NN)", dxs, dh0);
}

/* ------------------------------------------------------------------------ */
/* Language-model layers (issue 4)                                           */
/* Embedding, affine over a sequence, softmax fused with cross-entropy:     */
/* the kernels of csrc/lm.h behind the same Arg-table glue as the RNN.      */

#include "lm.h"

/* Word ids must lie in [0, V) (or equal ignore_label when allowed): checked
   before any kernel runs, naming the argument, the position and V. */
static int check_ids(const Arg *ids, npy_intp V, const char *vfrom, int allow_ignore,
                     npy_intp ignore)
{
    npy_intp n = PyArray_SIZE(ids->conv);
    const ptrdiff_t *p = (const ptrdiff_t *)PyArray_DATA(ids->conv);
    ptrdiff_t bad = lm_first_bad_id(p, n, V, allow_ignore, ignore);
    if (bad < 0) return 0;
    npy_intp T = PyArray_NDIM(ids->conv) == 2 ? PyArray_DIM(ids->conv, 1) : 1;
    npy_intp row = T ? bad / T : 0, col = T ? bad % T : 0;
    if (allow_ignore)
        PyErr_Format(PyExc_ValueError,
                     "%s: label %zd at [%zd, %zd] is out of range: expected a word id in "
                     "[0, %zd) (V=%zd from %s) or ignore_label=%zd",
                     ids->name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom, (Py_ssize_t)ignore);
    else
        PyErr_Format(PyExc_ValueError,
                     "%s: word id %zd at [%zd, %zd] is out of range: expected ids in "
                     "[0, %zd) (V=%zd from %s)",
                     ids->name, (Py_ssize_t)p[bad], (Py_ssize_t)row, (Py_ssize_t)col,
                     (Py_ssize_t)V, (Py_ssize_t)V, vfrom);
    return -1;
}

PyDoc_STRVAR(embedding_forward_doc,
"embedding_forward(xs, W) -> out\n\n"
"Rows of W (V,D) picked by the integer word ids xs (N,T): out (N,T,D),\n"
"out[n, t] = W[xs[n, t]]. Every id must be in [0, V).");

static PyObject *py_embedding_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"xs", "W", NULL};
    PyObject *xs, *W;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OO:embedding_forward", kwlist, &xs, &W))
        return NULL;
    Arg args[] = {
        PARAM("W", W, "VD"),
        IDS("xs", xs, "NT"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], V = dims.size[DIM_V],
             D = dims.size[DIM_D];
    if (check_ids(&args[1], V, "W", 0, 0) < 0) { release_args(args, n); return NULL; }
    PyArrayObject *out = new_output(3, N, T, D, typenum);
    if (!out) { release_args(args, n); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        embedding_forward_f32(PyArray_DATA(out), P(1), P(0), N, T, V, D);
    else
        embedding_forward_f64(PyArray_DATA(out), P(1), P(0), N, T, V, D);
    Py_END_ALLOW_THREADS
    finish_args(args, n);
    return (PyObject *)out;
}

PyDoc_STRVAR(embedding_backward_doc,
"embedding_backward(dout, xs, W, dW, accumulate=False) -> None\n\n"
"Scatter-add of dout (N,T,D) into dW (V,D): dW[xs[n, t]] += dout[n, t], in\n"
"(n, t) order, so repeated word ids add up. dW (any floating dtype and layout)\n"
"is overwritten, or added to with accumulate=True. W (V,D) sets the dtype.");

static PyObject *py_embedding_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dout", "xs", "W", "dW", "accumulate", NULL};
    PyObject *dout, *xs, *W, *dW;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|p:embedding_backward", kwlist, &dout,
                                     &xs, &W, &dW, &accumulate))
        return NULL;
    Arg args[] = {
        PARAM("W", W, "VD"),
        IDS("xs", xs, "NT"),
        INPUT("dout", dout, "NTD"),
        OUTPUT("dW", dW, "VD"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], V = dims.size[DIM_V],
             D = dims.size[DIM_D];
    if (check_ids(&args[1], V, "W", 0, 0) < 0) { release_args(args, n); return NULL; }
    if (start_outputs(args, n, accumulate) < 0) { release_args(args, n); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        embedding_backward_f32(P(3), P(2), P(1), N, T, V, D);
    else
        embedding_backward_f64(P(3), P(2), P(1), N, T, V, D);
    Py_END_ALLOW_THREADS
    if (finish_args(args, n) < 0) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(time_affine_forward_doc,
"time_affine_forward(x, W, b=None) -> out\n\n"
"out (N,T,V) = x (N,T,D) @ W (D,V) + b (V,), every time step at once.\n"
"W may be any layout (e.g. a tied embed_W.T); b may be None.");

static PyObject *py_time_affine_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"x", "W", "b", NULL};
    PyObject *x, *W, *b = NULL;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OO|O:time_affine_forward", kwlist, &x, &W,
                                     &b))
        return NULL;
    Arg args[] = {
        PARAM("W", W, "DV"),
        OPT_PARAM("b", b, "V"),
        INPUT("x", x, "NTD"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             V = dims.size[DIM_V];
    PyArrayObject *out = new_output(3, N, T, V, typenum);
    if (!out) { release_args(args, n); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        time_affine_forward_f32(PyArray_DATA(out), P(2), P(0), P(1), N, T, D, V);
    else
        time_affine_forward_f64(PyArray_DATA(out), P(2), P(0), P(1), N, T, D, V);
    Py_END_ALLOW_THREADS
    finish_args(args, n);
    return (PyObject *)out;
}

PyDoc_STRVAR(time_affine_backward_doc,
"time_affine_backward(dout, x, W, dW, db=None, accumulate=False) -> dx\n\n"
"Backward of time_affine_forward: returns dx (N,T,D) = dout (N,T,V) @ W.T and\n"
"writes dW (D,V) = sum x.T @ dout and db (V,) = sum of dout over N and T into\n"
"the given arrays (overwriting, or adding with accumulate=True).");

static PyObject *py_time_affine_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dout", "x", "W", "dW", "db", "accumulate", NULL};
    PyObject *dout, *x, *W, *dW, *db = NULL;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|Op:time_affine_backward", kwlist, &dout,
                                     &x, &W, &dW, &db, &accumulate))
        return NULL;
    Arg args[] = {
        PARAM("W", W, "DV"),
        INPUT("x", x, "NTD"),
        INPUT("dout", dout, "NTV"),
        OUTPUT("dW", dW, "DV"),
        OPT_OUTPUT("db", db, "V"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             V = dims.size[DIM_V];
    PyArrayObject *dx = new_output(3, N, T, D, typenum);
    if (!dx) { release_args(args, n); return NULL; }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dx);
        release_args(args, n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        time_affine_backward_f32(PyArray_DATA(dx), P(3), P(4), P(2), P(1), P(0), N, T, D, V);
    else
        time_affine_backward_f64(PyArray_DATA(dx), P(3), P(4), P(2), P(1), P(0), N, T, D, V);
    Py_END_ALLOW_THREADS
    if (finish_args(args, n) < 0) { Py_DECREF(dx); return NULL; }
    return (PyObject *)dx;
}

PyDoc_STRVAR(softmax_cross_entropy_forward_doc,
"softmax_cross_entropy_forward(xs, ts, ignore_label=-1) -> (loss, ys)\n\n"
"Softmax of the logits xs (N,T,V) over V fused with the cross-entropy of the\n"
"labels ts (N,T): ys (N,T,V) are the probabilities, loss (a float) the mean\n"
"of -log ys[n, t, ts[n, t]] over the positions whose label is not\n"
"ignore_label (NaN when there are none). Max-subtracted: no overflow, no log(0).");

static PyObject *py_softmax_cross_entropy_forward(PyObject *self, PyObject *pargs,
                                                  PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"xs", "ts", "ignore_label", NULL};
    PyObject *xs, *ts;
    Py_ssize_t ignore = -1;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OO|n:softmax_cross_entropy_forward", kwlist,
                                     &xs, &ts, &ignore))
        return NULL;
    Arg args[] = {
        PARAM("xs", xs, "NTV"),
        IDS("ts", ts, "NT"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], V = dims.size[DIM_V];
    if (check_ids(&args[1], V, "xs", 1, ignore) < 0) { release_args(args, n); return NULL; }
    PyArrayObject *ys = new_output(3, N, T, V, typenum);
    if (!ys) { release_args(args, n); return NULL; }
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        loss = softmax_cross_entropy_forward_f32(PyArray_DATA(ys), &count, P(0), P(1), N, T, V,
                                                 ignore);
    else
        loss = softmax_cross_entropy_forward_f64(PyArray_DATA(ys), &count, P(0), P(1), N, T, V,
                                                 ignore);
    Py_END_ALLOW_THREADS
    finish_args(args, n);
    return Py_BuildValue("(dN)", loss, ys);
}

PyDoc_STRVAR(softmax_cross_entropy_backward_doc,
"softmax_cross_entropy_backward(ys, ts, dout=1.0, ignore_label=-1) -> dxs\n\n"
"Gradient of the mean loss w.r.t. the logits: dxs (N,T,V) = (ys - onehot(ts))\n"
"* dout / count, zero at the positions whose label is ignore_label (count =\n"
"the other positions; everything zero when count is 0). ys: the forward output.");

static PyObject *py_softmax_cross_entropy_backward(PyObject *self, PyObject *pargs,
                                                   PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"ys", "ts", "dout", "ignore_label", NULL};
    PyObject *ys, *ts;
    double dout = 1.0;
    Py_ssize_t ignore = -1;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OO|dn:softmax_cross_entropy_backward", kwlist,
                                     &ys, &ts, &dout, &ignore))
        return NULL;
    Arg args[] = {
        PARAM("ys", ys, "NTV"),
        IDS("ts", ts, "NT"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], V = dims.size[DIM_V];
    if (check_ids(&args[1], V, "ys", 1, ignore) < 0) { release_args(args, n); return NULL; }
    PyArrayObject *dxs = new_output(3, N, T, V, typenum);
    if (!dxs) { release_args(args, n); return NULL; }
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        softmax_cross_entropy_backward_f32(PyArray_DATA(dxs), P(0), P(1), dout, N, T, V, ignore);
    else
        softmax_cross_entropy_backward_f64(PyArray_DATA(dxs), P(0), P(1), dout, N, T, V, ignore);
    Py_END_ALLOW_THREADS
    finish_args(args, n);
    return (PyObject *)dxs;
}

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

static PyObject *py_affine_softmax_cross_entropy(PyObject *self, PyObject *pargs,
                                                 PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"x", "W", "ts", "b", "ignore_label", "out", NULL};
    PyObject *x, *W, *ts, *b = NULL, *outobj = NULL;
    Py_ssize_t ignore = -1;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOO|OnO:affine_softmax_cross_entropy", kwlist,
                                     &x, &W, &ts, &b, &ignore, &outobj))
        return NULL;
    Arg args[] = {
        PARAM("W", W, "DV"),
        OPT_PARAM("b", b, "V"),
        INPUT("x", x, "NTD"),
        IDS("ts", ts, "NT"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             V = dims.size[DIM_V];
    if (check_ids(&args[3], V, "W", 1, ignore) < 0) { release_args(args, n); return NULL; }
    PyArrayObject *G;
    if (outobj && outobj != Py_None) {
        if (check_out(outobj, "out", 3, (npy_intp[]){N, T, V}, typenum, args, n) < 0) {
            release_args(args, n);
            return NULL;
        }
        G = (PyArrayObject *)outobj;
        Py_INCREF(G);
    } else {
        G = new_output(3, N, T, V, typenum);
    }
    Work work;
    if (!G || work_alloc(&work, (ptrdiff_t)WORK_SIZE(affine_softmax_ce, N, T, D, V),
                         typenum) < 0) {
        Py_XDECREF(G);
        release_args(args, n);
        return NULL;
    }
    double loss;
    ptrdiff_t count;
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT)
        loss = affine_softmax_ce_forward_f32(PyArray_DATA(G), &count, work.data, P(2), P(0),
                                             P(1), P(3), N, T, D, V, ignore);
    else
        loss = affine_softmax_ce_forward_f64(PyArray_DATA(G), &count, work.data, P(2), P(0),
                                             P(1), P(3), N, T, D, V, ignore);
    Py_END_ALLOW_THREADS
    work_free(&work);
    finish_args(args, n);
    return Py_BuildValue("(dN)", loss, G);
}

/* end of: Language-model layers (issue 4) */

/* ------------------------------------------------------------------------ */
/* The matrix product itself, for tests and benchmarks.                      */

/* element strides of a 2-d array, when its byte strides are whole elements */
static int elem_strides(PyArrayObject *a, npy_intp *rs, npy_intp *cs)
{
    npy_intp item = PyArray_ITEMSIZE(a);
    npy_intp s0 = PyArray_STRIDE(a, 0), s1 = PyArray_STRIDE(a, 1);
    if (s0 % item || s1 % item || !PyArray_ISALIGNED(a)) return -1;
    *rs = s0 / item;
    *cs = s1 / item;
    return 0;
}

PyDoc_STRVAR(sgd_update_doc,
"sgd_update(param, grad, lr) -> None\n\n"
"param -= lr * grad, in place, in one pass: the same numbers as NumPy's\n"
"`param -= lr * grad` with lr a Python float (lr rounded to the arrays' dtype,\n"
"the product rounded, then the difference). param and grad: C-contiguous\n"
"float32 or float64 arrays of the same shape and dtype; param writeable;\n"
"grad may be param itself but must not partly overlap it.");

static PyObject *py_sgd_update(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"param", "grad", "lr", NULL};
    PyObject *po, *go;
    double lr;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOd:sgd_update", kwlist, &po, &go, &lr))
        return NULL;
    const char *names[2] = {"param", "grad"};
    PyObject *objs[2] = {po, go};
    for (int i = 0; i < 2; i++) {
        if (!PyArray_Check(objs[i])) {
            PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray, got %s", names[i],
                         Py_TYPE(objs[i])->tp_name);
            return NULL;
        }
        PyArrayObject *a = (PyArrayObject *)objs[i];
        int t = PyArray_TYPE(a);
        if ((t != NPY_FLOAT && t != NPY_DOUBLE) || !PyArray_ISNOTSWAPPED(a)) {
            PyErr_Format(PyExc_TypeError, "%s: expected a float32 or float64 array, got dtype %S",
                         names[i], (PyObject *)PyArray_DESCR(a));
            return NULL;
        }
        if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
            PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous, aligned array", names[i]);
            return NULL;
        }
    }
    PyArrayObject *p = (PyArrayObject *)po, *g = (PyArrayObject *)go;
    if (PyArray_TYPE(p) != PyArray_TYPE(g)) {
        PyErr_Format(PyExc_TypeError, "grad: expected dtype %S (from param), got %S",
                     (PyObject *)PyArray_DESCR(p), (PyObject *)PyArray_DESCR(g));
        return NULL;
    }
    if (!PyArray_SAMESHAPE(p, g)) {
        PyObject *ps = shape_tuple(p), *gs = ps ? shape_tuple(g) : NULL;
        if (gs)
            PyErr_Format(PyExc_ValueError, "grad: expected shape %R (from param), got %R", ps, gs);
        Py_XDECREF(ps);
        Py_XDECREF(gs);
        return NULL;
    }
    if (!PyArray_ISWRITEABLE(p)) {
        PyErr_SetString(PyExc_ValueError, "param: the array is read-only");
        return NULL;
    }
    if (PyArray_DATA(p) != PyArray_DATA(g) && overlap(p, g)) {
        PyErr_SetString(PyExc_ValueError, "grad: partly overlaps param");
        return NULL;
    }
    const npy_intp n = PyArray_SIZE(p);
    Py_BEGIN_ALLOW_THREADS
    if (PyArray_TYPE(p) == NPY_FLOAT) {
        float *RS_RESTRICT pp = PyArray_DATA(p);
        const float *gg = PyArray_DATA(g);
        const float a = (float)lr;
        for (npy_intp i = 0; i < n; i++) pp[i] = pp[i] - a * gg[i];
    } else {
        double *RS_RESTRICT pp = PyArray_DATA(p);
        const double *gg = PyArray_DATA(g);
        for (npy_intp i = 0; i < n; i++) pp[i] = pp[i] - lr * gg[i];
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyDoc_STRVAR(matmul_doc,
"matmul(a, b, packed=False) -> c\n\n"
"c (M,N) = a (M,K) @ b (K,N) with the package's own gemm. An operand that\n"
"already has the compute dtype is read through its strides (transposed and\n"
"sliced views exercise the gemm's strided paths). The\n"
"dtype is float32 when both are float32 (or float16), else float64.\n"
"packed=True packs b first and uses the pre-packed product the RNN uses per step.");

static PyObject *py_matmul(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"a", "b", "packed", NULL};
    PyObject *a, *b;
    int packed = 0, typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OO|p:matmul", kwlist, &a, &b, &packed))
        return NULL;
    /* reuse the table machinery: (N,D) @ (D,H) */
    Arg args[] = {PARAM("a", a, "ND"), PARAM("b", b, "DH")};
    const int n = 2;
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    /* read the caller's arrays through their strides when they have the dtype */
    PyArrayObject *A = args[0].conv, *B = args[1].conv;
    if (PyArray_TYPE(args[0].arr) == typenum && PyArray_ISNOTSWAPPED(args[0].arr)) A = args[0].arr;
    if (PyArray_TYPE(args[1].arr) == typenum && PyArray_ISNOTSWAPPED(args[1].arr)) B = args[1].arr;
    npy_intp rsa = 0, csa = 0, rsb = 0, csb = 0;
    if (elem_strides(A, &rsa, &csa) < 0) { A = args[0].conv; elem_strides(A, &rsa, &csa); }
    if (elem_strides(B, &rsb, &csb) < 0) { B = args[1].conv; elem_strides(B, &rsb, &csb); }
    npy_intp M = dims.size[DIM_N], K = dims.size[DIM_D], N = dims.size[DIM_H];
    PyArrayObject *c = new_output(2, M, N, 0, typenum);
    Work work = {NULL, NULL};
    ptrdiff_t wsize = packed ? (ptrdiff_t)(typenum == NPY_FLOAT ? rs_gemm_packed_size_f32(K, N)
                                                                : rs_gemm_packed_size_f64(K, N))
                             : 0;
    if (!c || work_alloc(&work, wsize, typenum) < 0) {
        Py_XDECREF(c);
        release_args(args, n);
        return NULL;
    }
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    if (typenum == NPY_FLOAT) {
        const float *pa = PyArray_DATA(A), *pb = PyArray_DATA(B);
        if (packed) {
            rs_gemm_pack_b_f32(work.data, K, N, pb, rsb, csb);
            rc = rs_gemm_packed_f32(M, N, K, pa, rsa, csa, work.data, PyArray_DATA(c), N, 0, NULL, NULL);
        } else {
            rs_gemm_f32(M, N, K, pa, rsa, csa, pb, rsb, csb, PyArray_DATA(c), N, 0);
        }
    } else {
        const double *pa = PyArray_DATA(A), *pb = PyArray_DATA(B);
        if (packed) {
            rs_gemm_pack_b_f64(work.data, K, N, pb, rsb, csb);
            rc = rs_gemm_packed_f64(M, N, K, pa, rsa, csa, work.data, PyArray_DATA(c), N, 0, NULL, NULL);
        } else {
            rs_gemm_f64(M, N, K, pa, rsa, csa, pb, rsb, csb, PyArray_DATA(c), N, 0);
        }
    }
    Py_END_ALLOW_THREADS
    work_free(&work);
    finish_args(args, n);
    if (rc < 0) {
        Py_DECREF(c);
        PyErr_SetString(PyExc_RuntimeError, "matmul: the packed buffer did not match (internal error)");
        return NULL;
    }
    return (PyObject *)c;
}

/* ------------------------------------------------------------------------ */
/* Kernel paths (for tests and benchmarks).                                  */

static const char *const PATH_NAMES[] = {"portable", "avx2", "avx512"};

static PyObject *py_get_simd_path(PyObject *self, PyObject *noargs)
{
    (void)self; (void)noargs;
    return PyUnicode_FromString(rs_path_name(rs_get_path()));
}

static PyObject *py_set_simd_path(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t len = 0;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &len) : NULL;
    if (name && (size_t)len != strlen(name))
        name = "";  /* an embedded NUL: no path has that name */
    if (!name) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "path: expected a str, got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int path = -1;
    if (strcmp(name, "best") == 0) path = rs_cpu_best_path();
    for (int i = 0; i < 3; i++)
        if (strcmp(name, PATH_NAMES[i]) == 0) path = i;
    if (path < 0) {
        PyErr_Format(PyExc_ValueError,
                     "path: expected 'portable', 'avx2', 'avx512' or 'best', got %R", arg);
        return NULL;
    }
    if (rs_set_path(path) < 0) {
        PyErr_Format(PyExc_ValueError, "path: this CPU does not support %R (best: '%s')", arg,
                     rs_path_name(rs_cpu_best_path()));
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *py_available_simd_paths(PyObject *self, PyObject *noargs)
{
    (void)self; (void)noargs;
    int best = rs_cpu_best_path();
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (int i = 0; i <= best; i++) {
        PyObject *s = PyUnicode_FromString(PATH_NAMES[i]);
        if (!s || PyList_Append(list, s) < 0) { Py_XDECREF(s); Py_DECREF(list); return NULL; }
        Py_DECREF(s);
    }
    return list;
}

/* an int argument (not a bool) named `name`, as a C long; -1 with an error set */
static int long_arg(PyObject *arg, const char *name, long *out)
{
    if (!PyLong_Check(arg) || PyBool_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "%s: expected an int, got %s", name, Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow;
    *out = PyLong_AsLongAndOverflow(arg, &overflow);
    if (overflow) {
        PyErr_Format(PyExc_ValueError, "%s: %R is out of range", name, arg);
        return -1;
    }
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg)
{
    (void)self;
    long n;
    if (long_arg(arg, "n", &n) < 0) return NULL;
    if (n < 1 || n > RS_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "n: expected a thread count from 1 to %d, got %R",
                     RS_MAX_THREADS, arg);
        return NULL;
    }
    rs_set_num_threads((int)n);
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *noargs)
{
    (void)self; (void)noargs;
    return PyLong_FromLong(rs_get_num_threads());
}

static PyObject *py_pool_selftest(PyObject *self, PyObject *arg)
{
    (void)self;
    long jobs;
    if (long_arg(arg, "jobs", &jobs) < 0) return NULL;
    if (jobs < 0) {
        PyErr_Format(PyExc_ValueError, "jobs: expected a count >= 0, got %ld", jobs);
        return NULL;
    }
    long bad;
    Py_BEGIN_ALLOW_THREADS
    bad = rs_pool_selftest(jobs);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(bad);
}

/* ------------------------------------------------------------------------ */
/* TEMPORARY: bindings of the gated layers (LSTM, GRU) in the old style, to  */
/* test the kernels until the argument machinery (csrc/args.h) lands; then   */
/* they move to csrc/bind_gated.c and this block and DIM_G / DIM_C go.       */

/* dims[k] must be mult*H: the error names the argument that fixed dims[k]. */
static int gated_check_cols(const Dims *dims, int k, int mult)
{
    npy_intp H = dims->size[DIM_H], G = dims->size[k];
    if (G < 0 || H < 0 || G == mult * H) return 0;
    PyErr_Format(PyExc_ValueError, "%s: expected %d*H = %zd columns (H=%zd from %s), got %zd",
                 dims->from[k], mult, (Py_ssize_t)(mult * H), (Py_ssize_t)H, dims->from[DIM_H],
                 (Py_ssize_t)G);
    return -1;
}

static int gated_check(Arg *args, int n, const Dims *dims, int gates, int cache)
{
    if (gated_check_cols(dims, DIM_G, gates) < 0 || gated_check_cols(dims, DIM_C, cache) < 0) {
        release_args(args, n);
        return -1;
    }
    return 0;
}

#define GATED_CALL(typenum, f32call, f64call) \
    do { Py_BEGIN_ALLOW_THREADS if ((typenum) == NPY_FLOAT) f32call; else f64call; Py_END_ALLOW_THREADS } while (0)
#define D_(a) PyArray_DATA(a)

PyDoc_STRVAR(lstm_forward_doc,
"lstm_forward(x, h_prev, c_prev, Wx, Wh, b=None) -> (h_next, c_next, cache)\n\n"
"One LSTM step (the book's gate order f, g, i, o): x (N,D), h_prev, c_prev (N,H)\n"
"or None (zeros), Wx (D,4H), Wh (H,4H), b (4H,) or None. cache (N,4H) holds the\n"
"gate activations f, g, i, o for lstm_backward.");

static PyObject *py_lstm_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"x", "h_prev", "c_prev", "Wx", "Wh", "b", NULL};
    PyObject *x, *h_prev, *c_prev, *Wx, *Wh, *b = NULL;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOO|O:lstm_forward", kwlist, &x, &h_prev,
                                     &c_prev, &Wx, &Wh, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("x", x, "ND"), OPT_INPUT("h_prev", h_prev, "NH"), OPT_INPUT("c_prev", c_prev, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 4, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *h = new_output(2, N, H, 0, typenum), *c = new_output(2, N, H, 0, typenum),
                  *cache = new_output(2, N, 4 * H, 0, typenum);
    Work work;
    if (!h || !c || !cache || work_alloc(&work, WORK_SIZE(lstm_forward, N, D, H), typenum) < 0) {
        Py_XDECREF(h); Py_XDECREF(c); Py_XDECREF(cache);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        lstm_forward_f32(D_(h), D_(c), D_(cache), work.data, P(3), P(4), P(5), P(0), P(1), P(2), N, D, H),
        lstm_forward_f64(D_(h), D_(c), D_(cache), work.data, P(3), P(4), P(5), P(0), P(1), P(2), N, D, H));
    work_free(&work);
    finish_args(args, n);
    return Py_BuildValue("(NNN)", h, c, cache);
}

PyDoc_STRVAR(lstm_backward_doc,
"lstm_backward(dh_next, dc_next, x, h_prev, c_prev, c_next, cache, Wx, Wh, dWx, dWh,\n"
"              db=None, accumulate=False, b=None) -> (dx, dh_prev, dc_prev)\n\n"
"Backward of one LSTM step. dc_next, h_prev, c_prev may be None (zeros); c_next\n"
"and cache are lstm_forward's outputs. Writes dWx (D,4H), dWh (H,4H), db (4H,)\n"
"(overwriting, or adding with accumulate=True). b only takes part in the dtype rule.");

static PyObject *py_lstm_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dh_next", "dc_next", "x", "h_prev", "c_prev", "c_next", "cache",
                             "Wx", "Wh", "dWx", "dWh", "db", "accumulate", "b", NULL};
    PyObject *dh_next, *dc_next, *x, *h_prev, *c_prev, *c_next, *cache, *Wx, *Wh, *dWx, *dWh,
             *db = NULL, *b = NULL;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOOOOO|OpO:lstm_backward", kwlist,
                                     &dh_next, &dc_next, &x, &h_prev, &c_prev, &c_next, &cache,
                                     &Wx, &Wh, &dWx, &dWh, &db, &accumulate, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("x", x, "ND"), OPT_INPUT("h_prev", h_prev, "NH"), OPT_INPUT("c_prev", c_prev, "NH"),
        INPUT("c_next", c_next, "NH"), INPUT("cache", cache, "NC"),
        INPUT("dh_next", dh_next, "NH"), OPT_INPUT("dc_next", dc_next, "NH"),
        OUTPUT("dWx", dWx, "DG"), OUTPUT("dWh", dWh, "HG"), OPT_OUTPUT("db", db, "G"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 4, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *dx = new_output(2, N, D, 0, typenum), *dh = new_output(2, N, H, 0, typenum),
                  *dc = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dx || !dh || !dc || work_alloc(&work, WORK_SIZE(lstm_backward, N, D, H), typenum) < 0) {
        Py_XDECREF(dx); Py_XDECREF(dh); Py_XDECREF(dc);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dx); Py_DECREF(dh); Py_DECREF(dc); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        lstm_backward_f32(D_(dx), D_(dh), D_(dc), P(10), P(11), P(12), work.data, P(8), P(9), P(3),
                          P(4), P(5), P(6), P(7), P(0), P(1), N, D, H),
        lstm_backward_f64(D_(dx), D_(dh), D_(dc), P(10), P(11), P(12), work.data, P(8), P(9), P(3),
                          P(4), P(5), P(6), P(7), P(0), P(1), N, D, H));
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dx); Py_DECREF(dh); Py_DECREF(dc); return NULL; }
    return Py_BuildValue("(NNN)", dx, dh, dc);
}

PyDoc_STRVAR(time_lstm_forward_doc,
"time_lstm_forward(xs, h0, c0, Wx, Wh, b=None) -> (hs, cs, cache)\n\n"
"A whole LSTM sequence from h0, c0 (N,H) or None (zeros): xs (N,T,D) -> hs, cs\n"
"(N,T,H) and cache (N,T,4H), the gate activations f, g, i, o of every step.");

static PyObject *py_time_lstm_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"xs", "h0", "c0", "Wx", "Wh", "b", NULL};
    PyObject *xs, *h0, *c0, *Wx, *Wh, *b = NULL;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOO|O:time_lstm_forward", kwlist, &xs, &h0,
                                     &c0, &Wx, &Wh, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("xs", xs, "NTD"), OPT_INPUT("h0", h0, "NH"), OPT_INPUT("c0", c0, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 4, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *hs = new_output(3, N, T, H, typenum), *cs = new_output(3, N, T, H, typenum),
                  *cache = new_output(3, N, T, 4 * H, typenum);
    Work work;
    if (!hs || !cs || !cache ||
        work_alloc(&work, WORK_SIZE(time_lstm_forward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(hs); Py_XDECREF(cs); Py_XDECREF(cache);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        time_lstm_forward_f32(D_(hs), D_(cs), D_(cache), work.data, P(3), P(4), P(5), P(0), P(1),
                              P(2), N, T, D, H),
        time_lstm_forward_f64(D_(hs), D_(cs), D_(cache), work.data, P(3), P(4), P(5), P(0), P(1),
                              P(2), N, T, D, H));
    work_free(&work);
    finish_args(args, n);
    return Py_BuildValue("(NNN)", hs, cs, cache);
}

PyDoc_STRVAR(time_lstm_backward_doc,
"time_lstm_backward(dhs, dcT, xs, h0, c0, hs, cs, cache, Wx, Wh, dWx, dWh, db=None,\n"
"                   accumulate=False, b=None) -> (dxs, dh0, dc0)\n\n"
"Backpropagation through time of time_lstm_forward. dhs (N,T,H) is the upstream\n"
"gradient of hs, dcT (N,H) that of the last cell state (None = zeros); h0, c0\n"
"None = zeros. Writes the sums over time of dWx (D,4H), dWh (H,4H), db (4H,)\n"
"(overwriting, or adding with accumulate=True). b only takes part in the dtype rule.");

static PyObject *py_time_lstm_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dhs", "dcT", "xs", "h0", "c0", "hs", "cs", "cache", "Wx", "Wh",
                             "dWx", "dWh", "db", "accumulate", "b", NULL};
    PyObject *dhs, *dcT, *xs, *h0, *c0, *hs, *cs, *cache, *Wx, *Wh, *dWx, *dWh, *db = NULL,
             *b = NULL;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOOOOOO|OpO:time_lstm_backward", kwlist,
                                     &dhs, &dcT, &xs, &h0, &c0, &hs, &cs, &cache, &Wx, &Wh, &dWx,
                                     &dWh, &db, &accumulate, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("xs", xs, "NTD"), OPT_INPUT("h0", h0, "NH"), OPT_INPUT("c0", c0, "NH"),
        INPUT("hs", hs, "NTH"), INPUT("cs", cs, "NTH"), INPUT("cache", cache, "NTC"),
        INPUT("dhs", dhs, "NTH"), OPT_INPUT("dcT", dcT, "NH"),
        OUTPUT("dWx", dWx, "DG"), OUTPUT("dWh", dWh, "HG"), OPT_OUTPUT("db", db, "G"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 4, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *dxs = new_output(3, N, T, D, typenum), *dh0 = new_output(2, N, H, 0, typenum),
                  *dc0 = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dxs || !dh0 || !dc0 ||
        work_alloc(&work, WORK_SIZE(time_lstm_backward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(dxs); Py_XDECREF(dh0); Py_XDECREF(dc0);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dxs); Py_DECREF(dh0); Py_DECREF(dc0); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        time_lstm_backward_f32(D_(dxs), D_(dh0), D_(dc0), P(11), P(12), P(13), work.data, P(9),
                               P(10), P(3), P(4), P(5), P(6), P(7), P(8), P(0), P(1), N, T, D, H),
        time_lstm_backward_f64(D_(dxs), D_(dh0), D_(dc0), P(11), P(12), P(13), work.data, P(9),
                               P(10), P(3), P(4), P(5), P(6), P(7), P(8), P(0), P(1), N, T, D, H));
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dxs); Py_DECREF(dh0); Py_DECREF(dc0); return NULL; }
    return Py_BuildValue("(NNN)", dxs, dh0, dc0);
}

PyDoc_STRVAR(gru_forward_doc,
"gru_forward(x, h_prev, Wx, Wh, b=None) -> (h_next, cache)\n\n"
"One GRU step (the book's blocks z, r, h~): x (N,D), h_prev (N,H) or None (zeros),\n"
"Wx (D,3H), Wh (H,3H), b (3H,) or None. cache (N,4H) holds z, r, h~, r*h_prev\n"
"for gru_backward.");

static PyObject *py_gru_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"x", "h_prev", "Wx", "Wh", "b", NULL};
    PyObject *x, *h_prev, *Wx, *Wh, *b = NULL;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|O:gru_forward", kwlist, &x, &h_prev, &Wx,
                                     &Wh, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("x", x, "ND"), OPT_INPUT("h_prev", h_prev, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 3, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *h = new_output(2, N, H, 0, typenum), *cache = new_output(2, N, 4 * H, 0, typenum);
    Work work;
    if (!h || !cache || work_alloc(&work, WORK_SIZE(gru_forward, N, D, H), typenum) < 0) {
        Py_XDECREF(h); Py_XDECREF(cache);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        gru_forward_f32(D_(h), D_(cache), work.data, P(3), P(4), P(0), P(1), P(2), N, D, H),
        gru_forward_f64(D_(h), D_(cache), work.data, P(3), P(4), P(0), P(1), P(2), N, D, H));
    work_free(&work);
    finish_args(args, n);
    return Py_BuildValue("(NN)", h, cache);
}

PyDoc_STRVAR(gru_backward_doc,
"gru_backward(dh_next, x, h_prev, cache, Wx, Wh, dWx, dWh, db=None, accumulate=False,\n"
"             b=None) -> (dx, dh_prev)\n\n"
"Backward of one GRU step; cache is gru_forward's. Writes dWx (D,3H), dWh (H,3H),\n"
"db (3H,) (overwriting, or adding with accumulate=True).");

static PyObject *py_gru_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dh_next", "x", "h_prev", "cache", "Wx", "Wh", "dWx", "dWh", "db",
                             "accumulate", "b", NULL};
    PyObject *dh_next, *x, *h_prev, *cache, *Wx, *Wh, *dWx, *dWh, *db = NULL, *b = NULL;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOO|OpO:gru_backward", kwlist, &dh_next,
                                     &x, &h_prev, &cache, &Wx, &Wh, &dWx, &dWh, &db, &accumulate,
                                     &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("x", x, "ND"), OPT_INPUT("h_prev", h_prev, "NH"), INPUT("cache", cache, "NC"),
        INPUT("dh_next", dh_next, "NH"),
        OUTPUT("dWx", dWx, "DG"), OUTPUT("dWh", dWh, "HG"), OPT_OUTPUT("db", db, "G"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 3, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], D = dims.size[DIM_D], H = dims.size[DIM_H];
    PyArrayObject *dx = new_output(2, N, D, 0, typenum), *dh = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dx || !dh || work_alloc(&work, WORK_SIZE(gru_backward, N, D, H), typenum) < 0) {
        Py_XDECREF(dx); Py_XDECREF(dh);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dx); Py_DECREF(dh); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        gru_backward_f32(D_(dx), D_(dh), P(7), P(8), P(9), work.data, P(6), P(3), P(4), P(5), P(0),
                         P(1), N, D, H),
        gru_backward_f64(D_(dx), D_(dh), P(7), P(8), P(9), work.data, P(6), P(3), P(4), P(5), P(0),
                         P(1), N, D, H));
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dx); Py_DECREF(dh); return NULL; }
    return Py_BuildValue("(NN)", dx, dh);
}

PyDoc_STRVAR(time_gru_forward_doc,
"time_gru_forward(xs, h0, Wx, Wh, b=None) -> (hs, cache)\n\n"
"A whole GRU sequence from h0 (N,H) or None (zeros): xs (N,T,D) -> hs (N,T,H) and\n"
"cache (N,T,4H): z, r, h~, r*h_prev of every step.");

static PyObject *py_time_gru_forward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"xs", "h0", "Wx", "Wh", "b", NULL};
    PyObject *xs, *h0, *Wx, *Wh, *b = NULL;
    int typenum;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOO|O:time_gru_forward", kwlist, &xs, &h0, &Wx,
                                     &Wh, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("xs", xs, "NTD"), OPT_INPUT("h0", h0, "NH"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 3, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *hs = new_output(3, N, T, H, typenum),
                  *cache = new_output(3, N, T, 4 * H, typenum);
    Work work;
    if (!hs || !cache || work_alloc(&work, WORK_SIZE(time_gru_forward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(hs); Py_XDECREF(cache);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        time_gru_forward_f32(D_(hs), D_(cache), work.data, P(3), P(4), P(0), P(1), P(2), N, T, D, H),
        time_gru_forward_f64(D_(hs), D_(cache), work.data, P(3), P(4), P(0), P(1), P(2), N, T, D, H));
    work_free(&work);
    finish_args(args, n);
    return Py_BuildValue("(NN)", hs, cache);
}

PyDoc_STRVAR(time_gru_backward_doc,
"time_gru_backward(dhs, xs, h0, hs, cache, Wx, Wh, dWx, dWh, db=None, accumulate=False,\n"
"                  b=None) -> (dxs, dh0)\n\n"
"Backpropagation through time of time_gru_forward. Writes the sums over time of\n"
"dWx (D,3H), dWh (H,3H), db (3H,) (overwriting, or adding with accumulate=True).");

static PyObject *py_time_gru_backward(PyObject *self, PyObject *pargs, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"dhs", "xs", "h0", "hs", "cache", "Wx", "Wh", "dWx", "dWh", "db",
                             "accumulate", "b", NULL};
    PyObject *dhs, *xs, *h0, *hs, *cache, *Wx, *Wh, *dWx, *dWh, *db = NULL, *b = NULL;
    int typenum, accumulate = 0;
    Dims dims;
    if (!PyArg_ParseTupleAndKeywords(pargs, kw, "OOOOOOOOO|OpO:time_gru_backward", kwlist, &dhs,
                                     &xs, &h0, &hs, &cache, &Wx, &Wh, &dWx, &dWh, &db,
                                     &accumulate, &b))
        return NULL;
    Arg args[] = {
        PARAM("Wx", Wx, "DG"), PARAM("Wh", Wh, "HG"), OPT_PARAM("b", b, "G"),
        INPUT("xs", xs, "NTD"), OPT_INPUT("h0", h0, "NH"), INPUT("hs", hs, "NTH"),
        INPUT("cache", cache, "NTC"), INPUT("dhs", dhs, "NTH"),
        OUTPUT("dWx", dWx, "DG"), OUTPUT("dWh", dWh, "HG"), OPT_OUTPUT("db", db, "G"),
    };
    const int n = (int)(sizeof(args) / sizeof(args[0]));
    if (prepare_args(args, n, &dims, &typenum) < 0) return NULL;
    if (gated_check(args, n, &dims, 3, 4) < 0) return NULL;
    npy_intp N = dims.size[DIM_N], T = dims.size[DIM_T], D = dims.size[DIM_D],
             H = dims.size[DIM_H];
    PyArrayObject *dxs = new_output(3, N, T, D, typenum), *dh0 = new_output(2, N, H, 0, typenum);
    Work work;
    if (!dxs || !dh0 || work_alloc(&work, WORK_SIZE(time_gru_backward, N, T, D, H), typenum) < 0) {
        Py_XDECREF(dxs); Py_XDECREF(dh0);
        release_args(args, n);
        return NULL;
    }
    if (start_outputs(args, n, accumulate) < 0) {
        Py_DECREF(dxs); Py_DECREF(dh0); work_free(&work);
        release_args(args, n);
        return NULL;
    }
    GATED_CALL(typenum,
        time_gru_backward_f32(D_(dxs), D_(dh0), P(8), P(9), P(10), work.data, P(7), P(3), P(4),
                              P(5), P(6), P(0), P(1), N, T, D, H),
        time_gru_backward_f64(D_(dxs), D_(dh0), P(8), P(9), P(10), work.data, P(7), P(3), P(4),
                              P(5), P(6), P(0), P(1), N, T, D, H));
    work_free(&work);
    if (finish_args(args, n) < 0) { Py_DECREF(dxs); Py_DECREF(dh0); return NULL; }
    return Py_BuildValue("(NN)", dxs, dh0);
}
#undef GATED_CALL
#undef D_
/* end of TEMPORARY gated bindings */

static PyMethodDef core_methods[] = {
    {"_pool_selftest", py_pool_selftest, METH_O,
     "_pool_selftest(jobs) -> int: for the tests. Runs `jobs` thread-pool jobs of "
     "alternating sizes; returns how many tasks ran twice, not at all, or after "
     "their job ended (0 when the pool is sound). Not for concurrent use."},
    {"matmul", (PyCFunction)(void (*)(void))py_matmul, METH_VARARGS | METH_KEYWORDS, matmul_doc},
    {"sgd_update", (PyCFunction)(void (*)(void))py_sgd_update, METH_VARARGS | METH_KEYWORDS,
     sgd_update_doc},
    {"set_num_threads", py_set_num_threads, METH_O,
     "set_num_threads(n): use at most n threads in the kernels (results do not depend on n)."},
    {"get_num_threads", py_get_num_threads, METH_NOARGS,
     "get_num_threads() -> int: the current thread limit."},
    {"rnn_forward", (PyCFunction)(void (*)(void))py_rnn_forward, METH_VARARGS | METH_KEYWORDS,
     rnn_forward_doc},
    {"rnn_backward", (PyCFunction)(void (*)(void))py_rnn_backward, METH_VARARGS | METH_KEYWORDS,
     rnn_backward_doc},
    {"time_rnn_forward", (PyCFunction)(void (*)(void))py_time_rnn_forward,
     METH_VARARGS | METH_KEYWORDS, time_rnn_forward_doc},
    {"time_rnn_backward", (PyCFunction)(void (*)(void))py_time_rnn_backward,
     METH_VARARGS | METH_KEYWORDS, time_rnn_backward_doc},
    /* Language-model layers (issue 4) */
    {"embedding_forward", (PyCFunction)(void (*)(void))py_embedding_forward,
     METH_VARARGS | METH_KEYWORDS, embedding_forward_doc},
    {"embedding_backward", (PyCFunction)(void (*)(void))py_embedding_backward,
     METH_VARARGS | METH_KEYWORDS, embedding_backward_doc},
    {"time_affine_forward", (PyCFunction)(void (*)(void))py_time_affine_forward,
     METH_VARARGS | METH_KEYWORDS, time_affine_forward_doc},
    {"time_affine_backward", (PyCFunction)(void (*)(void))py_time_affine_backward,
     METH_VARARGS | METH_KEYWORDS, time_affine_backward_doc},
    {"softmax_cross_entropy_forward", (PyCFunction)(void (*)(void))py_softmax_cross_entropy_forward,
     METH_VARARGS | METH_KEYWORDS, softmax_cross_entropy_forward_doc},
    {"softmax_cross_entropy_backward",
     (PyCFunction)(void (*)(void))py_softmax_cross_entropy_backward, METH_VARARGS | METH_KEYWORDS,
     softmax_cross_entropy_backward_doc},
    {"affine_softmax_cross_entropy",
     (PyCFunction)(void (*)(void))py_affine_softmax_cross_entropy, METH_VARARGS | METH_KEYWORDS,
     affine_softmax_cross_entropy_doc},
    /* TEMPORARY: gated layers (to bind_gated.c with the args machinery) */
    {"lstm_forward", (PyCFunction)(void (*)(void))py_lstm_forward, METH_VARARGS | METH_KEYWORDS,
     lstm_forward_doc},
    {"lstm_backward", (PyCFunction)(void (*)(void))py_lstm_backward, METH_VARARGS | METH_KEYWORDS,
     lstm_backward_doc},
    {"time_lstm_forward", (PyCFunction)(void (*)(void))py_time_lstm_forward, METH_VARARGS | METH_KEYWORDS,
     time_lstm_forward_doc},
    {"time_lstm_backward", (PyCFunction)(void (*)(void))py_time_lstm_backward, METH_VARARGS | METH_KEYWORDS,
     time_lstm_backward_doc},
    {"gru_forward", (PyCFunction)(void (*)(void))py_gru_forward, METH_VARARGS | METH_KEYWORDS,
     gru_forward_doc},
    {"gru_backward", (PyCFunction)(void (*)(void))py_gru_backward, METH_VARARGS | METH_KEYWORDS,
     gru_backward_doc},
    {"time_gru_forward", (PyCFunction)(void (*)(void))py_time_gru_forward, METH_VARARGS | METH_KEYWORDS,
     time_gru_forward_doc},
    {"time_gru_backward", (PyCFunction)(void (*)(void))py_time_gru_backward, METH_VARARGS | METH_KEYWORDS,
     time_gru_backward_doc},
    {"get_simd_path", py_get_simd_path, METH_NOARGS,
     "get_simd_path() -> str: the kernel path in use ('portable', 'avx2' or 'avx512')."},
    {"set_simd_path", py_set_simd_path, METH_O,
     "set_simd_path(name): force a kernel path ('portable', 'avx2', 'avx512' or 'best')."},
    {"available_simd_paths", py_available_simd_paths, METH_NOARGS,
     "available_simd_paths() -> list of the kernel paths this CPU supports."},
    {NULL, NULL, 0, NULL}};

static int core_exec(PyObject *m)
{
    (void)rs_par_min_flops(); /* read RNNSCRATCH_PAR_FLOPS now, before any kernel runs */
    if (_import_array() < 0) return -1;
    (void)rs_cpu_best_path();
    if (PyModule_AddStringConstant(m, "compiler",
#if defined(__clang__)
                                   "clang " __clang_version__
#elif defined(__GNUC__)
                                   "gcc " __VERSION__
#elif defined(_MSC_VER)
                                   "msvc"
#else
                                   "unknown"
#endif
                                   ) < 0)
        return -1;
#ifndef RS_BUILD_FLAGS
#define RS_BUILD_FLAGS ""
#endif
    if (PyModule_AddStringConstant(m, "build_flags", RS_BUILD_FLAGS) < 0) return -1;
    if (PyModule_AddIntConstant(m, "max_threads", RS_MAX_THREADS) < 0) return -1;
    return 0;
}

static PyModuleDef_Slot core_slots[] = {{Py_mod_exec, (void *)core_exec}, {0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "rnnscratch._core",
    "C kernels of rnnscratch: vanilla RNN forward and backward, one step and whole sequences.",
    0, core_methods, core_slots, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&core_module); }
