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
#include "lm.h"
#include "threads.h"

static PyObject *np_shares_memory; /* numpy's C function, cached by args_init */
static int parse_activation(PyObject *obj, int *act);
static int call_prepare(Call *c);
static void *call_output(Call *c, const char *name, const char *spec);
static void *call_output_into(Call *c, PyObject *obj, const char *result, const char *name,
                              const char *spec);

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
    char want[64]; /* "(N, T, D)": written only for an error message */
    Shape s;
    parse_spec(spec, &s); /* valid: args_check_tables */
    if (PyArray_NDIM(a) != s.nd) {
        spec_str(want, sizeof want, spec);
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
                spec_str(want, sizeof want, spec);
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
            spec_str(want, sizeof want, spec);
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

static int present(const Call *c, int i) { return c->obj[i] != NULL && c->obj[i] != Py_None; }

PyObject *call_fail(Call *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->conv[i] && c->spec[i]->role == ROLE_OUTPUT && !c->add_back[i])
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

/* ------------------------------------------------------------------------ */
/* The tables                                                                 */

static int find_arg(const CoreFn *fn, const char *name)
{
    for (int p = 0; p < fn->nargs; p++)
        if (fn->args[p].name == name || strcmp(fn->args[p].name, name) == 0) return p;
    return -1;
}

static int find_result(const CoreFn *fn, const char *name)
{
    for (int r = 0; r < fn->nres; r++)
        if (fn->results[r].name == name || strcmp(fn->results[r].name, name) == 0) return r;
    return -1;
}

static int has_arg(const CoreFn *fn, const char *name) { return find_arg(fn, name) >= 0; }

static int table_error(const CoreFn *fn, const char *what, const char *name)
{
    PyErr_Format(PyExc_SystemError, "%s: %s%s%s (bad table entry)", fn->name, what,
                 name ? ": " : "", name ? name : "");
    return -1;
}

/* the letters of a spec, as a bit mask; -1 when malformed */
static long spec_letters(const char *spec)
{
    Shape s;
    if (!spec || parse_spec(spec, &s) < 0) return -1;
    long m = 0;
    for (int i = 0; i < s.nd; i++) m |= 1L << s.letter[i];
    return m;
}

static PyObject *default_value(const ArgSpec *a);

/* The docstring: the signature from the table ("name(x, h0, b=None) -> (hs, cs)",
   as help() and the README write it), a blank line, then fn->doc. Made once,
   at import, and kept for the life of the process. */
static int make_doc(CoreFn *fn)
{
    PyObject *parts = PyList_New(0), *s = NULL;
    int ok = parts != NULL;
    for (int p = 0; ok && p < fn->nargs; p++) {
        const ArgSpec *a = &fn->args[p];
        PyObject *dv = a->has_default ? default_value(a) : NULL;
        PyObject *part = !a->has_default ? PyUnicode_FromString(a->name)
                         : dv ? PyUnicode_FromFormat("%s=%R", a->name, dv) : NULL;
        Py_XDECREF(dv);
        ok = part && PyList_Append(parts, part) == 0;
        Py_XDECREF(part);
    }
    PyObject *sep = ok ? PyUnicode_FromString(", ") : NULL;
    PyObject *args = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_XDECREF(parts);
    if (args) {
        char ret[256];
        size_t k = 0;
        int nres = fn->nres;
        if (fn->returns_text) snprintf(ret, sizeof ret, "%s", fn->returns_text);
        else if (nres == 0) snprintf(ret, sizeof ret, "None");
        else {
            for (int r = 0; r < nres && k < sizeof ret; r++)
                k += (size_t)snprintf(ret + k, sizeof ret - k, "%s%s%s",
                                      r == 0 && nres > 1 ? "(" : r ? ", " : "",
                                      fn->results[r].name, r == nres - 1 && nres > 1 ? ")" : "");
        }
        s = PyUnicode_FromFormat("%s(%U) -> %s\n\n%s", fn->name, args, ret, fn->doc);
        Py_DECREF(args);
    }
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    char *doc = u ? PyMem_RawMalloc(strlen(u) + 1) : NULL;
    if (doc) strcpy(doc, u);
    else if (u) PyErr_NoMemory();
    Py_XDECREF(s);
    if (!doc) return -1;
    fn->def.ml_doc = doc; /* the module's functions point at it as long as they live */
    return 0;
}

static int check_table(CoreFn *fn)
{
    if (fn->def.ml_doc) return 0; /* checked (and its fields filled) at an earlier import:
                                     calls of the first module may be running */
    long fixed = 0; /* letters the array arguments show */
    int ids = 0;
    fn->nargs = fn->narrays = fn->nres = 0;
    for (int p = 0; p < RS_MAX_ARGS && fn->args[p].name; p++) {
        const ArgSpec *a = &fn->args[p];
        fn->nargs = p + 1;
        fn->slot[p] = -1;
        if (a->kind < ARG_ARRAY || a->kind > ARG_BUFFER) return table_error(fn, "kind", a->name);
        if (a->kind == ARG_ARRAY) {
            long m = spec_letters(a->spec);
            if (m < 0 || a->role < ROLE_PARAM || a->role > ROLE_OUTPUT)
                return table_error(fn, "spec or role", a->name);
            fixed |= m;
            fn->narrays++;
            if (a->role == ROLE_IDS) ids = 1;
        }
        if (p > 0 && fn->args[p - 1].has_default && !a->has_default)
            return table_error(fn, "an argument without a default after one with", a->name);
        if (find_arg(fn, a->name) != p) return table_error(fn, "a name twice", a->name);
    }
    if (ids && !(fixed & (1L << ('V' - 'A'))))
        return table_error(fn, "word ids without a V (vocabulary) to check them against", NULL);
    if (fn->nargs == RS_MAX_ARGS || !fn->body || !fn->doc || !fn->kernel)
        return table_error(fn, "too many arguments, or no body, doc or kernel", NULL);
    /* the check order: `order` first, then the PARAMs, then the other arrays */
    int k = 0;
    const char *o = fn->order ? fn->order : "";
    while (*o) {
        char name[64];
        size_t len = strcspn(o, " ");
        if (len == 0) { o++; continue; }
        if (len >= sizeof name) return table_error(fn, "order", o);
        memcpy(name, o, len);
        name[len] = 0;
        o += len;
        int p = find_arg(fn, name);
        if (p < 0 || fn->args[p].kind != ARG_ARRAY || fn->slot[p] >= 0)
            return table_error(fn, "order names an unknown, non-array or repeated argument", name);
        fn->slot[p] = (signed char)k;
        fn->check[k++] = (signed char)p;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int p = 0; p < fn->nargs; p++)
            if (fn->args[p].kind == ARG_ARRAY && fn->slot[p] < 0 &&
                (fn->args[p].role == ROLE_PARAM) == (pass == 0)) {
                fn->slot[p] = (signed char)k;
                fn->check[k++] = (signed char)p;
            }
    for (int r = 0; r < RS_MAX_OUTS && fn->results[r].name; r++) {
        const ResultSpec *res = &fn->results[r];
        fn->nres = r + 1;
        if (res->spec) {
            long m = spec_letters(res->spec);
            if (m < 0 || (m & ~fixed))
                return table_error(fn, "a result's shape not fixed by the arguments", res->name);
        }
        if (!res->spec && r != 0) return table_error(fn, "the loss must come first", res->name);
        if (res->into) {
            int p = find_arg(fn, res->into);
            if (p < 0 || fn->args[p].kind != ARG_BUFFER || !res->spec)
                return table_error(fn, "`into` names no out= argument", res->name);
        }
        if (find_arg(fn, res->name) >= 0 || find_result(fn, res->name) != r)
            return table_error(fn, "a result named like another name", res->name);
    }
    return make_doc(fn);
}

int args_check_tables(CoreFn *const *fns)
{
    for (CoreFn *const *f = fns; *f; f++)
        if (check_table(*f) < 0) return -1;
    return 0;
}

static const char *const ROLE_CODES[] = {"P", "I", "ids", "O"};
static const char *const KIND_NAMES[] = {"array", "array", "activation", "bool",
                                         "float", "int", "out"};

/* the default as Python writes it (a new reference) */
static PyObject *default_value(const ArgSpec *a)
{
    switch (a->kind) {
    case ARG_ACTIVATION: return PyUnicode_FromString("tanh");
    case ARG_BOOL: return PyBool_FromLong(a->dflt != 0);
    case ARG_FLOAT: return PyFloat_FromDouble(a->dflt);
    case ARG_INDEX: return PyLong_FromDouble(a->dflt);
    default: return Py_NewRef(Py_None);
    }
}

/* {name: {"args": [(name, kind, shape, role, nullable, default or absent)], "returns":
   [(name, shape)], "kernel": str, "order": [names]}} */
PyObject *args_signatures(CoreFn *const *fns)
{
    PyObject *all = PyDict_New();
    for (CoreFn *const *f = fns; all && *f; f++) {
        const CoreFn *fn = *f;
        PyObject *args = PyList_New(0), *rets = PyList_New(0), *order = PyList_New(0), *d = NULL;
        int ok = args && rets && order;
        for (int p = 0; ok && p < fn->nargs; p++) {
            const ArgSpec *a = &fn->args[p];
            const char *spec = a->spec; /* out=: the shape of the result it receives */
            for (int r = 0; r < fn->nres; r++)
                if (fn->results[r].into && strcmp(fn->results[r].into, a->name) == 0)
                    spec = fn->results[r].spec;
            PyObject *dv = a->has_default ? default_value(a) : Py_NewRef(Py_None);
            PyObject *t = dv ? Py_BuildValue("(sszsOO)", a->name, KIND_NAMES[a->kind],
                                             spec, a->kind == ARG_ARRAY || a->kind ==
                                             ARG_ANY_ARRAY ? ROLE_CODES[a->role]
                                             : a->kind == ARG_BUFFER ? "R" : "S",
                                             a->nullable ? Py_True : Py_False, dv)
                             : NULL;
            Py_XDECREF(dv);
            if (t && !a->has_default) { /* required: no default in the tuple */
                PyObject *u = PyTuple_GetSlice(t, 0, 5);
                Py_SETREF(t, u);
            }
            ok = t && PyList_Append(args, t) == 0;
            Py_XDECREF(t);
        }
        for (int r = 0; ok && r < fn->nres; r++) {
            PyObject *t = Py_BuildValue("(sz)", fn->results[r].name, fn->results[r].spec);
            ok = t && PyList_Append(rets, t) == 0;
            Py_XDECREF(t);
        }
        for (int k = 0; ok && k < fn->narrays; k++) {
            PyObject *s = PyUnicode_FromString(fn->args[fn->check[k]].name);
            ok = s && PyList_Append(order, s) == 0;
            Py_XDECREF(s);
        }
        if (ok)
            d = Py_BuildValue("{sOsOsssOsz}", "args", args, "returns", rets, "kernel",
                              fn->kernel, "order", order, "returns_text", fn->returns_text);
        Py_XDECREF(args);
        Py_XDECREF(rets);
        Py_XDECREF(order);
        if (!d || PyDict_SetItemString(all, fn->name, d) < 0) Py_CLEAR(all);
        Py_XDECREF(d);
    }
    return all;
}

/* ------------------------------------------------------------------------ */
/* Parsing: positional and keyword arguments, with CPython's messages         */

static int convert_scalar(Call *c, int p)
{
    const ArgSpec *a = &c->fn->args[p];
    PyObject *obj = c->given[p];
    c->num[p] = a->dflt;
    c->ival[p] = (Py_ssize_t)a->dflt;
    if (a->kind == ARG_ACTIVATION) {
        int act;
        if (parse_activation(obj, &act) < 0) return -1;
        c->ival[p] = act;
    } else if (!obj) {
        return 0;
    } else if (a->kind == ARG_BOOL) {
        int v = PyObject_IsTrue(obj);
        if (v < 0) return -1;
        c->ival[p] = v;
    } else if (a->kind == ARG_FLOAT) {
        double v = PyFloat_AsDouble(obj);
        if (v == -1.0 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_TypeError)) return -1;
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s: expected a real number, got %s", a->name,
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
        c->num[p] = v;
    } else if (a->kind == ARG_INDEX && obj != Py_None) {
        if (parse_index(obj, a->name, &c->ival[p]) < 0) return -1;
    }
    return 0;
}

/* keyword i of kwnames equal to `name`, or -1 */
static Py_ssize_t find_keyword(PyObject *kwnames, const char *name)
{
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, name) == 0) return i;
    }
    return -1;
}

/* The checks and messages of CPython's PyArg_ParseTupleAndKeywords, in its order. */
static int call_parse(Call *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    const CoreFn *fn = c->fn;
    const char *f = fn->name;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > fn->nargs) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d %sargument%s (%zd given)", f,
                     fn->nargs, nargs == 0 ? "keyword " : "", fn->nargs == 1 ? "" : "s",
                     nargs + nkw);
        return -1;
    }
    Py_ssize_t matched = 0;
    for (int p = 0; p < fn->nargs; p++) {
        const char *name = fn->args[p].name;
        Py_ssize_t k = nkw ? find_keyword(kwnames, name) : -1;
        matched += k >= 0;
        if (p < nargs) {
            if (k >= 0) {
                PyErr_Format(PyExc_TypeError,
                             "argument for %s() given by name ('%s') and position (%d)", f, name,
                             p + 1);
                return -1;
            }
            c->given[p] = args[p];
        } else if (k >= 0) {
            c->given[p] = args[nargs + k];
        } else if (!fn->args[p].has_default) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %d)", f, name,
                         p + 1);
            return -1;
        }
    }
    for (Py_ssize_t i = 0; matched < nkw && i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "keywords must be strings");
            return -1;
        }
        const char *k = PyUnicode_AsUTF8(key);
        if (!k) return -1;
        if (find_arg(fn, k) < 0) {
            PyErr_Format(PyExc_TypeError, "'%U' is an invalid keyword argument for %s()", key, f);
            return -1;
        }
    }
    /* the scalars, in Python order, before any array is converted */
    for (int p = 0; p < fn->nargs; p++)
        if (fn->args[p].kind >= ARG_ACTIVATION && fn->args[p].kind != ARG_BUFFER &&
            convert_scalar(c, p) < 0)
            return -1;
    for (int k = 0; k < fn->narrays; k++) {
        c->spec[k] = &fn->args[fn->check[k]];
        c->obj[k] = c->given[fn->check[k]];
    }
    c->n = fn->narrays;
    return 0;
}

/* Word ids (IDS arrays) must lie in [0, V) (or equal ignore_label, when the
   function has one): checked before any kernel runs, naming the argument,
   the position and where V came from. -1 (everything released) otherwise. */
static int check_ids(Call *c)
{
    const int allow_ignore = has_arg(c->fn, "ignore_label");
    const npy_intp ignore = allow_ignore ? call_int(c, "ignore_label") : 0;
    const npy_intp V = c->dim['V' - 'A'];
    for (int i = 0; i < c->n; i++) {
        PyArrayObject *ids = c->conv[i];
        if (!ids || c->spec[i]->role != ROLE_IDS) continue;
        const npy_intp *p = PyArray_DATA(ids);
        ptrdiff_t bad = lm_first_bad_id(p, PyArray_SIZE(ids), V, allow_ignore, ignore);
        if (bad < 0) continue;
        npy_intp T = PyArray_NDIM(ids) == 2 ? PyArray_DIM(ids, 1) : 1;
        npy_intp row = T ? bad / T : 0, col = T ? bad % T : 0;
        const char *name = c->spec[i]->name, *vfrom = c->dim_from['V' - 'A'];
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
    return 0;
}

PyObject *call_run(CoreFn *fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Call c;
    memset(&c, 0, sizeof c);
    c.fn = fn;
    c.function = fn->name;
    for (int k = 0; k < 26; k++) c.dim[k] = -1;
    memset(c.res_out, -1, sizeof c.res_out);
    if (call_parse(&c, args, nargs, kwnames) < 0) return NULL;
    if (c.n && (call_prepare(&c) < 0 || check_ids(&c) < 0)) return NULL;
    return fn->body(&c);
}

/* ------------------------------------------------------------------------ */
/* What the bindings read                                                     */

static int arg_index(const Call *c, const char *name)
{
    int p = find_arg(c->fn, name);
    if (p < 0) Py_FatalError("rnnscratch._core: a binding asked for an argument its table lacks");
    return p;
}

void *call_data(const Call *c, const char *name)
{
    int p = find_arg(c->fn, name);
    if (p >= 0 && c->fn->args[p].kind == ARG_ARRAY) {
        PyArrayObject *a = c->conv[c->fn->slot[p]];
        return a ? PyArray_DATA(a) : NULL;
    }
    int r = p < 0 ? find_result(c->fn, name) : -1;
    if (r >= 0 && c->fn->results[r].spec) {
        int k = c->res_out[r];
        return k >= 0 && k < c->nout ? PyArray_DATA(c->out[k]) : NULL;
    }
    Py_FatalError("rnnscratch._core: a binding asked for data its table lacks");
    return NULL;
}

PyArrayObject *call_conv(const Call *c, const char *name)
{
    int p = arg_index(c, name);
    return c->fn->slot[p] >= 0 ? c->conv[c->fn->slot[p]] : NULL;
}

PyArrayObject *call_array(const Call *c, const char *name)
{
    int p = arg_index(c, name);
    return c->fn->slot[p] >= 0 ? c->arr[c->fn->slot[p]] : NULL;
}

Py_ssize_t call_int(const Call *c, const char *name) { return c->ival[arg_index(c, name)]; }

double call_float(const Call *c, const char *name) { return c->num[arg_index(c, name)]; }

PyObject *call_object(const Call *c, const char *name) { return c->given[arg_index(c, name)]; }

int call_results(Call *c)
{
    for (int r = 0; r < c->fn->nres; r++) {
        const ResultSpec *res = &c->fn->results[r];
        if (!res->spec) continue; /* the loss: the binding's */
        void *d = res->into ? call_output_into(c, call_object(c, res->into), res->name,
                                               res->into, res->spec)
                            : call_output(c, res->name, res->spec);
        if (!d) return -1;
        c->res_out[r] = (signed char)(c->nout - 1);
    }
    return 0;
}


static int call_prepare(Call *c)
{
    const int n = c->n;

    /* 1. arrays of numbers; outputs must be writeable float ndarrays. The
          only step where a caller's Python code can run. */
    for (int i = 0; i < n; i++) {
        const ArgSpec *s = c->spec[i];
        if (!present(c, i)) {
            if (s->nullable) continue;
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
        const ArgSpec *s = c->spec[i];
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
            if (c->spec[i]->role == ROLE_PARAM && c->arr[i]) params[np_++] = c->arr[i];
        PyArray_Descr *rt = PyArray_ResultType(np_, params, 0, NULL);
        if (!rt) goto fail;
        c->typenum = (rt->type_num == NPY_FLOAT || rt->type_num == NPY_HALF) ? NPY_FLOAT
                                                                             : NPY_DOUBLE;
        Py_DECREF(rt);
    }

    /* 3. shapes, in table order: the first argument that shows a letter fixes it */
    for (int i = 0; i < n; i++)
        if (c->arr[i] && check_shape(c, c->arr[i], c->spec[i]->name, c->spec[i]->spec) < 0)
            goto fail;

    /* 4. outputs must not share memory with each other */
    for (int i = 0; i < n; i++) {
        if (!c->arr[i] || c->spec[i]->role != ROLE_OUTPUT) continue;
        for (int j = i + 1; j < n; j++) {
            if (!c->arr[j] || c->spec[j]->role != ROLE_OUTPUT ||
                !args_overlap(c->arr[i], c->arr[j]))
                continue;
            int sh = shares_memory(c->arr[i], c->arr[j]); /* interleaved views: no */
            if (sh < 0) goto fail;
            if (!sh) continue;
            PyErr_Format(PyExc_ValueError, "%s: shares memory with %s; pass separate arrays",
                         c->spec[j]->name, c->spec[i]->name);
            goto fail;
        }
    }

    /* 5. base-class, C-contiguous arrays of the compute dtype (ids: intp) */
    for (int i = 0; i < n; i++) {
        if (!c->arr[i]) continue;
        const int role = c->spec[i]->role;
        int flags = NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST | NPY_ARRAY_ENSUREARRAY;
        if (role == ROLE_OUTPUT) {
            c->base[i] = base_view(c->arr[i]);
            if (!c->base[i]) goto fail;
            flags = NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST | NPY_ARRAY_WRITEBACKIFCOPY;
            for (int j = 0; j < n; j++)
                if (j != i && c->arr[j] && c->spec[j]->role != ROLE_OUTPUT &&
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

static void *call_output(Call *c, const char *name, const char *spec)
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
    return add_output(c, a, NULL, name, spec);
}

static void *call_output_into(Call *c, PyObject *obj, const char *result, const char *name,
                              const char *spec)
{
    if (!obj || obj == Py_None) return call_output(c, result, spec);
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
            PyErr_Format(PyExc_ValueError, "%s: shares memory with %s", name, c->spec[i]->name);
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
        const char *name = is_arg ? c->spec[i]->name : c->out_name[i - c->n];
        const char *spec = is_arg ? c->spec[i]->spec : c->out_spec[i - c->n];
        const int role = is_arg ? c->spec[i]->role : ROLE_OUTPUT;
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
                             j < c->n ? c->spec[j]->name : c->out_name[j - c->n]);
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
int call_ready(Call *c)
{
    const int accumulate = has_arg(c->fn, "accumulate") && call_int(c, "accumulate");
    for (int i = 0; i < c->n; i++) {
        PyArrayObject *a = c->conv[i];
        if (!a || c->spec[i]->role != ROLE_OUTPUT) continue;
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
        if (c->conv[i] && c->spec[i]->role == ROLE_OUTPUT && !accumulate)
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
        } else if (c->conv[i] && c->spec[i]->role == ROLE_OUTPUT) {
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

int call_begin(Call *c, ptrdiff_t count)
{
    if (call_results(c) < 0 || (count != 0 && !call_work(c, count))) return -1;
    return call_ready(c);
}

PyObject *call_end(Call *c, double loss)
{
    PyObject *r = call_finish(c);
    if (!r || c->fn->nres == 0 || c->fn->results[0].spec) return r;
    return Py_BuildValue("(dN)", loss, r); /* the loss first (the one table rule) */
}

/* ------------------------------------------------------------------------ */
/* Parsers                                                                    */

static int parse_activation(PyObject *obj, int *act)
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
