/* args.c -- the argument machinery of the bindings (see args.h).
 *
 * Where Python code can run: converting an argument that is not already an
 * ndarray (its __array__, __len__, __getitem__, ...) in step 1 of
 * call_prepare. Everything after that is NumPy's C API on plain ndarrays:
 * conversions ask for base-class arrays (no subclass __array_finalize__), the
 * overlap test calls NumPy's C implementation cached at import (not a
 * function looked up at call time, which a caller could replace), and the
 * write-back works on base-class views (no subclass operator). So the checks
 * in call_prepare see the arrays the kernel gets; call_ready checks them once
 * more, in plain C, right before the kernel, as a second line of defence.
 */
#include "args.h"

#include <limits.h>
#include <string.h>

#include "act.h"
#include "threads.h"

static PyObject *np_shares_memory; /* numpy's C function, cached by args_init */

int args_init(void)
{
    PyObject *m = PyImport_ImportModule("numpy._core._multiarray_umath");
    if (!m) {
        PyErr_Clear();
        m = PyImport_ImportModule("numpy.core._multiarray_umath");
    }
    if (!m) return -1;
    np_shares_memory = PyObject_GetAttrString(m, "shares_memory");
    Py_DECREF(m);
    return np_shares_memory ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Shape specs                                                               */

typedef struct {
    int nd;
    int letter[RS_MAX_ND]; /* 0..25 */
    npy_intp mult[RS_MAX_ND];
} Shape;

/* "N T D", "D 4H", "" -> Shape; -1 when malformed */
static int parse_spec(const char *spec, Shape *s)
{
    s->nd = 0;
    const char *p = spec;
    for (;;) {
        while (*p == ' ') p++;
        if (!*p) return 0;
        if (s->nd == RS_MAX_ND) return -1;
        npy_intp m = 0;
        while (*p >= '0' && *p <= '9') {
            if (m > 1000000) return -1;
            m = m * 10 + (*p++ - '0');
        }
        if (m == 0 && p > spec && p[-1] == '0') return -1; /* "0H" */
        if (*p < 'A' || *p > 'Z') return -1;
        s->letter[s->nd] = *p++ - 'A';
        s->mult[s->nd] = m ? m : 1;
        s->nd++;
        if (*p && *p != ' ') return -1;
    }
}

/* "(N, T, D)", "(D, 4H)", "(H,)" */
static void spec_str(char *buf, size_t size, const char *spec)
{
    Shape s;
    size_t k = 0;
    if (parse_spec(spec, &s) < 0) { snprintf(buf, size, "(%s)", spec); return; }
    k += (size_t)snprintf(buf + k, size - k, "(");
    for (int i = 0; i < s.nd && k < size; i++) {
        if (s.mult[i] > 1)
            k += (size_t)snprintf(buf + k, size - k, "%s%zd%c", i ? ", " : "",
                                  (Py_ssize_t)s.mult[i], 'A' + s.letter[i]);
        else
            k += (size_t)snprintf(buf + k, size - k, "%s%c", i ? ", " : "", 'A' + s.letter[i]);
    }
    if (k < size) snprintf(buf + k, size - k, s.nd == 1 ? ",)" : ")");
}

int args_check_tables(const ArgTable *tables)
{
    for (const ArgTable *t = tables; t->function; t++) {
        if (t->nargs > RS_MAX_ARGS) {
            PyErr_Format(PyExc_SystemError, "%s: %d array arguments, at most %d", t->function,
                         t->nargs, RS_MAX_ARGS);
            return -1;
        }
        for (int i = 0; i < t->nargs; i++) {
            const ArgSpec *a = &t->args[i];
            Shape s;
            if (!a->name || !a->spec || parse_spec(a->spec, &s) < 0 || a->role < ROLE_PARAM ||
                a->role > ROLE_OUTPUT) {
                PyErr_Format(PyExc_SystemError, "%s: argument %d (%s): bad table entry (spec %s)",
                             t->function, i, a->name ? a->name : "?",
                             a->spec ? a->spec : "NULL");
                return -1;
            }
            for (int j = 0; j < i; j++)
                if (strcmp(t->args[j].name, a->name) == 0) {
                    PyErr_Format(PyExc_SystemError, "%s: argument %s appears twice",
                                 t->function, a->name);
                    return -1;
                }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */

PyObject *shape_tuple(PyArrayObject *a)
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

/* The byte range an array's elements occupy: [*lo, *hi). Empty -> lo == hi. */
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

int args_overlap(PyArrayObject *a, PyArrayObject *b)
{
    char *alo, *ahi, *blo, *bhi;
    byte_extent(a, &alo, &ahi);
    byte_extent(b, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

/* A base-class view of an array (new reference): no subclass code runs on it. */
static PyArrayObject *base_view(PyArrayObject *a)
{
    if (Py_IS_TYPE(a, &PyArray_Type)) {
        Py_INCREF(a);
        return a;
    }
    Py_INCREF(PyArray_DESCR(a));
    return (PyArrayObject *)PyArray_View(a, PyArray_DESCR(a), &PyArray_Type);
}

/* Whether two arrays whose byte ranges overlap really share an element
 * (exact): 1, 0, or -1 with an exception. NumPy's C function, on base views. */
static int shares_memory(PyArrayObject *a, PyArrayObject *b)
{
    PyArrayObject *va = base_view(a), *vb = va ? base_view(b) : NULL;
    PyObject *r = vb ? PyObject_CallFunctionObjArgs(np_shares_memory, (PyObject *)va,
                                                    (PyObject *)vb, NULL)
                     : NULL;
    Py_XDECREF(va);
    Py_XDECREF(vb);
    if (!r) return -1;
    int v = PyObject_IsTrue(r);
    Py_DECREF(r);
    return v;
}

/* obj -> array, numbers only. New reference or NULL with an exception naming `name`. */
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
        PyErr_Format(PyExc_TypeError, "%s: expected an array of numbers, got %s (%S)", name,
                     Py_TYPE(obj)->tp_name, value ? value : Py_None);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
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
static int check_ids_fit(PyArrayObject *arr, const char *name)
{
    PyArray_Descr *d = PyArray_DESCR(arr);
    if (d->kind != 'u' || PyArray_ITEMSIZE(arr) < (npy_intp)sizeof(npy_intp) ||
        PyArray_SIZE(arr) == 0)
        return 0;
    PyArrayObject *u = (PyArrayObject *)PyArray_FromArray(
        arr, PyArray_DescrFromType(NPY_UINT64),
        NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST | NPY_ARRAY_ENSUREARRAY);
    if (!u) return -1;
    const npy_uint64 *v = PyArray_DATA(u);
    npy_intp n = PyArray_SIZE(u), bad = -1;
    for (npy_intp i = 0; i < n && bad < 0; i++)
        if (v[i] > (npy_uint64)NPY_MAX_INTP) bad = i;
    if (bad >= 0)
        PyErr_Format(PyExc_ValueError, "%s: word id %llu (flat index %zd) is out of range", name,
                     (unsigned long long)v[bad], (Py_ssize_t)bad);
    Py_DECREF(u);
    return bad >= 0 ? -1 : 0;
}

static int check_output(PyObject *obj, const char *name)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected a numpy.ndarray to write the gradient into, got %s", name,
                     Py_TYPE(obj)->tp_name);
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

/* ------------------------------------------------------------------------ */
/* Shapes against the call's sizes                                            */

/* Check `a` against `spec`, fixing the letters it shows first. 0 or -1. */
static int check_shape(Call *c, PyArrayObject *a, const char *name, const char *spec)
{
    char want[64];
    Shape s;
    parse_spec(spec, &s); /* valid: args_check_tables */
    spec_str(want, sizeof want, spec);
    if (PyArray_NDIM(a) != s.nd) {
        PyObject *got = shape_tuple(a);
        if (got) {
            PyErr_Format(PyExc_ValueError,
                         "%s: expected a %d-d array of shape %s, got a %d-d array of shape %R",
                         name, s.nd, want, PyArray_NDIM(a), got);
            Py_DECREF(got);
        }
        return -1;
    }
    for (int i = 0; i < s.nd; i++) {
        const int k = s.letter[i];
        const npy_intp m = s.mult[i], size = PyArray_DIM(a, i);
        if (c->dim[k] < 0) {
            if (size % m) {
                PyObject *got = shape_tuple(a);
                if (got) {
                    PyErr_Format(PyExc_ValueError,
                                 "%s: expected shape %s, got %R: %zd is not a multiple of %zd",
                                 name, want, got, (Py_ssize_t)size, (Py_ssize_t)m);
                    Py_DECREF(got);
                }
                return -1;
            }
            c->dim[k] = size / m;
            c->dim_from[k] = name;
        } else if (c->dim[k] * m != size) {
            PyObject *got = shape_tuple(a);
            if (got) {
                PyErr_Format(PyExc_ValueError, "%s: expected shape %s with %c=%zd (from %s), got %R",
                             name, want, 'A' + k, (Py_ssize_t)c->dim[k], c->dim_from[k], got);
                Py_DECREF(got);
            }
            return -1;
        }
    }
    return 0;
}

/* the shape `spec` stands for in this call; -1 when a letter is not fixed or
   the size overflows (cannot happen for specs whose letters the arguments fix) */
static int spec_dims(const Call *c, const char *spec, npy_intp *dims, int *nd)
{
    Shape s;
    if (parse_spec(spec, &s) < 0) return -1;
    *nd = s.nd;
    for (int i = 0; i < s.nd; i++) {
        npy_intp d = c->dim[s.letter[i]];
        if (d < 0 || (d && s.mult[i] > NPY_MAX_INTP / d)) return -1;
        dims[i] = d * s.mult[i];
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The steps of a call                                                        */

void call_init(Call *c, const char *function, const ArgSpec *spec, int n)
{
    memset(c, 0, sizeof *c);
    c->function = function;
    c->spec = spec;
    c->n = n;
    for (int k = 0; k < 26; k++) c->dim[k] = -1;
}

static int present(const Call *c, int i) { return c->obj[i] != NULL && c->obj[i] != Py_None; }

PyObject *call_fail(Call *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->conv[i] && c->spec[i].role == ROLE_OUTPUT && !c->add_back[i])
            PyArray_DiscardWritebackIfCopy(c->conv[i]);
        Py_CLEAR(c->conv[i]);
        Py_CLEAR(c->arr[i]);
        Py_CLEAR(c->base[i]);
    }
    for (int k = 0; k < c->nout; k++) {
        Py_CLEAR(c->out[k]);
        Py_CLEAR(c->out_user[k]);
    }
    c->nout = 0;
    rs_ws_put(c->work);
    c->work = NULL;
    return NULL;
}

npy_intp call_dim(const Call *c, char letter) { return c->dim[letter - 'A']; }

void *call_data(const Call *c, int i) { return c->conv[i] ? PyArray_DATA(c->conv[i]) : NULL; }

int call_prepare(Call *c)
{
    const int n = c->n;

    /* 1. arrays of numbers; outputs must be writeable float ndarrays. The
          only step where a caller's Python code can run. */
    for (int i = 0; i < n; i++) {
        const ArgSpec *s = &c->spec[i];
        if (!present(c, i)) {
            if (s->optional) continue;
            PyErr_Format(PyExc_TypeError, "%s: expected an array, got None", s->name);
            goto fail;
        }
        if (s->role == ROLE_OUTPUT) {
            if (check_output(c->obj[i], s->name) < 0) goto fail;
            Py_INCREF(c->obj[i]);
            c->arr[i] = (PyArrayObject *)c->obj[i];
        } else {
            c->arr[i] = as_numeric_array(c->obj[i], s->name);
            if (!c->arr[i]) goto fail;
        }
    }
    for (int i = 0; i < n; i++) {
        const ArgSpec *s = &c->spec[i];
        if (!c->arr[i]) continue;
        if (s->role == ROLE_OUTPUT) { /* checked again: a later conversion may have run code */
            if (check_output((PyObject *)c->arr[i], s->name) < 0) goto fail;
        } else if (s->role == ROLE_IDS) {
            if (!strchr("iu", PyArray_DESCR(c->arr[i])->kind)) {
                PyErr_Format(PyExc_TypeError, "%s: expected an array of integer ids, got dtype %S",
                             s->name, (PyObject *)PyArray_DESCR(c->arr[i]));
                goto fail;
            }
            if (check_ids_fit(c->arr[i], s->name) < 0) goto fail;
        }
    }

    /* 2. compute dtype from the parameters */
    {
        PyArrayObject *params[RS_MAX_ARGS];
        npy_intp np_ = 0;
        for (int i = 0; i < n; i++)
            if (c->spec[i].role == ROLE_PARAM && c->arr[i]) params[np_++] = c->arr[i];
        PyArray_Descr *rt = PyArray_ResultType(np_, params, 0, NULL);
        if (!rt) goto fail;
        c->typenum = (rt->type_num == NPY_FLOAT || rt->type_num == NPY_HALF) ? NPY_FLOAT
                                                                             : NPY_DOUBLE;
        Py_DECREF(rt);
    }

    /* 3. shapes, in table order: the first argument that shows a letter fixes it */
    for (int i = 0; i < n; i++)
        if (c->arr[i] && check_shape(c, c->arr[i], c->spec[i].name, c->spec[i].spec) < 0)
            goto fail;

    /* 4. outputs must not share memory with each other */
    for (int i = 0; i < n; i++) {
        if (!c->arr[i] || c->spec[i].role != ROLE_OUTPUT) continue;
        for (int j = i + 1; j < n; j++) {
            if (!c->arr[j] || c->spec[j].role != ROLE_OUTPUT ||
                !args_overlap(c->arr[i], c->arr[j]))
                continue;
            int sh = shares_memory(c->arr[i], c->arr[j]); /* interleaved views: no */
            if (sh < 0) goto fail;
            if (!sh) continue;
            PyErr_Format(PyExc_ValueError, "%s: shares memory with %s; pass separate arrays",
                         c->spec[j].name, c->spec[i].name);
            goto fail;
        }
    }

    /* 5. base-class, C-contiguous arrays of the compute dtype (ids: intp) */
    for (int i = 0; i < n; i++) {
        if (!c->arr[i]) continue;
        const int role = c->spec[i].role;
        int flags = NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST | NPY_ARRAY_ENSUREARRAY;
        if (role == ROLE_OUTPUT) {
            c->base[i] = base_view(c->arr[i]);
            if (!c->base[i]) goto fail;
            flags = NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST | NPY_ARRAY_WRITEBACKIFCOPY;
            for (int j = 0; j < n; j++)
                if (j != i && c->arr[j] && c->spec[j].role != ROLE_OUTPUT &&
                    args_overlap(c->arr[i], c->arr[j]))
                    flags |= NPY_ARRAY_ENSURECOPY; /* inputs must not change under us */
        }
        if (role == ROLE_IDS)
            flags |= NPY_ARRAY_ENSURECOPY; /* checked once, then read without the GIL:
                                              no other thread may change them */
        int type = role == ROLE_IDS ? NPY_INTP : c->typenum;
        PyArrayObject *src = role == ROLE_OUTPUT ? c->base[i] : c->arr[i];
        c->conv[i] = (PyArrayObject *)PyArray_FromArray(src, PyArray_DescrFromType(type), flags);
        if (!c->conv[i]) goto fail;
    }
    return 0;

fail:
    call_fail(c);
    return -1;
}

/* a: what the kernel writes (owned); user: what the call returns for it
   (NULL: a itself; else a new reference to the caller's `out=` array) */
static void *add_output(Call *c, PyArrayObject *a, PyObject *user, const char *name,
                        const char *spec)
{
    if (c->nout == RS_MAX_OUTS) {
        Py_DECREF(a);
        Py_XDECREF(user);
        PyErr_SetString(PyExc_SystemError, "too many outputs (internal error)");
        call_fail(c);
        return NULL;
    }
    c->out[c->nout] = a;
    c->out_spec[c->nout] = spec;
    c->out_name[c->nout] = name;
    c->out_user[c->nout] = user;
    c->nout++;
    return PyArray_DATA(a);
}

void *call_output(Call *c, const char *spec)
{
    npy_intp dims[RS_MAX_ND];
    int nd;
    if (spec_dims(c, spec, dims, &nd) < 0) {
        PyErr_Format(PyExc_SystemError, "%s: output shape %s is not fixed by the arguments",
                     c->function, spec);
        call_fail(c);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(nd, dims, c->typenum);
    if (!a) { call_fail(c); return NULL; }
    return add_output(c, a, NULL, "result", spec);
}

void *call_output_into(Call *c, PyObject *obj, const char *name, const char *spec)
{
    if (!obj || obj == Py_None) return call_output(c, spec);
    npy_intp dims[RS_MAX_ND];
    int nd;
    if (spec_dims(c, spec, dims, &nd) < 0) {
        PyErr_Format(PyExc_SystemError, "%s: output shape %s is not fixed by the arguments",
                     c->function, spec);
        return call_fail(c);
    }
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray or None, got %s", name,
                     Py_TYPE(obj)->tp_name);
        return call_fail(c);
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_TYPE(a) != c->typenum || !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_TypeError, "%s: expected dtype %s (the compute dtype), got %S", name,
                     c->typenum == NPY_FLOAT ? "float32" : "float64", (PyObject *)PyArray_DESCR(a));
        return call_fail(c);
    }
    if (!PyArray_CompareLists(PyArray_DIMS(a), dims, nd) || PyArray_NDIM(a) != nd) {
        PyObject *want = PyTuple_New(nd), *got = want ? shape_tuple(a) : NULL;
        for (int i = 0; want && got && i < nd; i++)
            PyTuple_SET_ITEM(want, i, PyLong_FromSsize_t(dims[i]));
        if (got) PyErr_Format(PyExc_ValueError, "%s: expected shape %R, got %R", name, want, got);
        Py_XDECREF(want);
        Py_XDECREF(got);
        return call_fail(c);
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous, aligned, writeable array",
                     name);
        return call_fail(c);
    }
    for (int i = 0; i < c->n; i++) {
        if ((c->arr[i] && args_overlap(a, c->arr[i])) ||
            (c->conv[i] && args_overlap(a, c->conv[i]))) {
            PyErr_Format(PyExc_ValueError, "%s: shares memory with %s", name, c->spec[i].name);
            return call_fail(c);
        }
    }
    PyArrayObject *v = base_view(a);
    if (!v) return call_fail(c);
    return add_output(c, v, Py_NewRef(obj), name, spec);
}

void *call_work(Call *c, ptrdiff_t count)
{
    size_t item = c->typenum == NPY_FLOAT ? sizeof(float) : sizeof(double);
    if (count < 0 || (size_t)count > (PY_SSIZE_T_MAX - 128) / item) {
        PyErr_NoMemory();
        return call_fail(c);
    }
    rs_ws_put(c->work);
    c->work = rs_ws_get((size_t)count * item);
    if (!c->work) {
        PyErr_NoMemory();
        return call_fail(c);
    }
    return c->work;
}

/* What the kernel will touch, in plain C: every present argument's buffer
 * has exactly the shape the sizes say, the dtype, C order and alignment;
 * output buffers are writeable and overlap no other buffer. */
static int verify(Call *c)
{
    for (int i = 0; i < c->n + c->nout; i++) {
        const int is_arg = i < c->n;
        PyArrayObject *a = is_arg ? c->conv[i] : c->out[i - c->n];
        if (!a) continue;
        const char *name = is_arg ? c->spec[i].name : c->out_name[i - c->n];
        const char *spec = is_arg ? c->spec[i].spec : c->out_spec[i - c->n];
        const int role = is_arg ? c->spec[i].role : ROLE_OUTPUT;
        npy_intp dims[RS_MAX_ND];
        int nd;
        const int type = role == ROLE_IDS ? NPY_INTP : c->typenum;
        if (spec_dims(c, spec, dims, &nd) < 0 || PyArray_NDIM(a) != nd ||
            !PyArray_CompareLists(PyArray_DIMS(a), dims, nd) || PyArray_TYPE(a) != type ||
            !PyArray_ISNOTSWAPPED(a) || !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) ||
            (role == ROLE_OUTPUT && !PyArray_ISWRITEABLE(a))) {
            PyErr_Format(PyExc_ValueError,
                         "%s: changed while the call was checking its arguments; "
                         "pass arrays that nothing else modifies during the call",
                         name);
            return -1;
        }
        if (role != ROLE_OUTPUT) continue;
        for (int j = 0; j < c->n + c->nout; j++) {
            PyArrayObject *b = j < c->n ? c->conv[j] : c->out[j - c->n];
            if (j == i || !b) continue;
            if (args_overlap(a, b)) {
                PyErr_Format(PyExc_ValueError, "%s: shares memory with %s", name,
                             j < c->n ? c->spec[j].name : c->out_name[j - c->n]);
                return -1;
            }
        }
    }
    return 0;
}

/* Gradients ready for kernels that add into them: zeroed (overwrite), or,
 * with accumulate, left as they are, except that an output wider than the
 * compute dtype (float64 gradients of float32 parameters) gets a zeroed
 * scratch buffer instead of its write-back copy, added into it by
 * call_finish: the round trip through the narrower dtype would round every
 * element it holds. Then the verification. On failure nothing the caller
 * owns has been touched. */
int call_ready(Call *c, int accumulate)
{
    for (int i = 0; i < c->n; i++) {
        PyArrayObject *a = c->conv[i];
        if (!a || c->spec[i].role != ROLE_OUTPUT) continue;
        if (accumulate && PyArray_ITEMSIZE(c->arr[i]) > PyArray_ITEMSIZE(a)) {
            PyArrayObject *z = (PyArrayObject *)PyArray_ZEROS(PyArray_NDIM(a), PyArray_DIMS(a),
                                                              PyArray_TYPE(a), 0);
            if (!z) { call_fail(c); return -1; }
            PyArray_DiscardWritebackIfCopy(a);
            Py_DECREF(a);
            c->conv[i] = z;
            c->add_back[i] = 1;
        }
    }
    if (verify(c) < 0) { call_fail(c); return -1; }
    for (int i = 0; i < c->n; i++)
        if (c->conv[i] && c->spec[i].role == ROLE_OUTPUT && !accumulate)
            memset(PyArray_DATA(c->conv[i]), 0, (size_t)PyArray_NBYTES(c->conv[i]));
    return 0;
}

PyObject *call_finish(Call *c)
{
    rs_ws_put(c->work);
    c->work = NULL;
    /* a. the sums of the accumulated wider gradients, in new arrays: the one
          step that can fail (memory), before any caller's array changes */
    PyObject *sums[RS_MAX_ARGS] = {NULL};
    for (int i = 0; i < c->n; i++) {
        if (!c->add_back[i]) continue;
        sums[i] = PyNumber_Add((PyObject *)c->base[i], (PyObject *)c->conv[i]);
        if (!sums[i]) {
            for (int j = 0; j < i; j++) Py_XDECREF(sums[j]);
            return call_fail(c);
        }
    }
    /* b. commit: copies between arrays of known shapes and dtypes */
    int rc = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->add_back[i]) {
            if (PyArray_CopyInto(c->base[i], (PyArrayObject *)sums[i]) < 0) rc = -1;
            Py_DECREF(sums[i]);
        } else if (c->conv[i] && c->spec[i].role == ROLE_OUTPUT) {
            if (PyArray_ResolveWritebackIfCopy(c->conv[i]) < 0) rc = -1;
        }
        Py_CLEAR(c->conv[i]);
        Py_CLEAR(c->arr[i]);
        Py_CLEAR(c->base[i]);
    }
    if (rc < 0) return call_fail(c);
    /* c. the results: ours, or the caller's own `out=` arrays */
    for (int k = 0; k < c->nout; k++)
        if (c->out_user[k]) {
            Py_SETREF(c->out[k], (PyArrayObject *)c->out_user[k]);
            c->out_user[k] = NULL;
        }
    PyObject *r;
    if (c->nout == 0) {
        r = Py_NewRef(Py_None);
    } else if (c->nout == 1) {
        r = (PyObject *)c->out[0];
        c->out[0] = NULL;
    } else {
        r = PyTuple_New(c->nout);
        if (!r) return call_fail(c);
        for (int k = 0; k < c->nout; k++) {
            PyTuple_SET_ITEM(r, k, (PyObject *)c->out[k]);
            c->out[k] = NULL;
        }
    }
    c->nout = 0;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Parsers                                                                    */

int parse_activation(PyObject *obj, int *act)
{
    if (obj == NULL) { *act = RS_ACT_TANH; return 0; }
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "activation: expected 'tanh', 'relu' or 'sigmoid', got %s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(obj, "tanh") == 0) *act = RS_ACT_TANH;
    else if (PyUnicode_CompareWithASCIIString(obj, "relu") == 0) *act = RS_ACT_RELU;
    else if (PyUnicode_CompareWithASCIIString(obj, "sigmoid") == 0) *act = RS_ACT_SIGMOID;
    else {
        PyErr_Format(PyExc_ValueError, "activation: expected 'tanh', 'relu' or 'sigmoid', got %R",
                     obj);
        return -1;
    }
    return 0;
}

int parse_index(PyObject *obj, const char *name, Py_ssize_t *out)
{
    /* ints and integer scalars (__index__), not bools, floats or strings */
    PyObject *v = PyBool_Check(obj) ? NULL : PyNumber_Index(obj);
    if (!v) {
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_TypeError)) return -1;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: expected an int, got %s", name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    Py_DECREF(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    if (overflow || x < PY_SSIZE_T_MIN || x > PY_SSIZE_T_MAX) {
        PyErr_Format(PyExc_ValueError, "%s: %R is out of range", name, obj);
        return -1;
    }
    *out = (Py_ssize_t)x;
    return 0;
}

int parse_long(PyObject *obj, const char *name, long lo, long hi, long *out)
{
    Py_ssize_t v;
    if (parse_index(obj, name, &v) < 0) return -1;
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s: %R is out of range", name, obj);
        return -1;
    }
    *out = (long)v;
    return 0;
}
