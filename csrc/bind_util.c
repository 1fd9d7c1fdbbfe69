/* bind_util.c -- _core functions around the layers: the gemm itself (for
 * tests and benchmarks), the SGD and Adam steps, the thread count, the SIMD paths. */
#include "args.h"
#include "bindings.h"

#include <limits.h>
#include <string.h>

#include "compat.h"
#include "gemm.h"
#include "sgd.h"
#include "threads.h"
#include "blas.h"

/* ---- matmul ---- */

enum { MM_a, MM_b, MM_COUNT };
static const ArgSpec matmul_args[MM_COUNT] = {
    [MM_a] = PARAM("a", "M K"),
    [MM_b] = PARAM("b", "K N"),
};

PyDoc_STRVAR(matmul_doc,
"matmul(a, b, packed=False) -> c\n\n"
"c (M,N) = a (M,K) @ b (K,N) with the package's own gemm. An operand that\n"
"already has the compute dtype is read through its strides (transposed and\n"
"sliced views exercise the gemm's strided paths). The\n"
"dtype is float32 when both are float32 (or float16), else float64.\n"
"packed=True packs b first and uses the pre-packed product the RNN uses per step.");

/* The operand the gemm reads: the caller's array through its strides when it
 * has the compute dtype, native order, aligned, whole-element strides and the
 * checked shape; else the C-contiguous copy. */
static PyArrayObject *operand(const Call *c, int i, npy_intp rows, npy_intp cols, npy_intp *rs,
                              npy_intp *cs)
{
    PyArrayObject *a = c->arr[i];
    const npy_intp item = PyArray_ITEMSIZE(a);
    if (PyArray_TYPE(a) == c->typenum && PyArray_ISNOTSWAPPED(a) && PyArray_ISALIGNED(a) &&
        PyArray_NDIM(a) == 2 && PyArray_DIM(a, 0) == rows && PyArray_DIM(a, 1) == cols &&
        PyArray_STRIDE(a, 0) % item == 0 && PyArray_STRIDE(a, 1) % item == 0) {
        *rs = PyArray_STRIDE(a, 0) / item;
        *cs = PyArray_STRIDE(a, 1) / item;
        return a;
    }
    *rs = cols;
    *cs = 1;
    return c->conv[i];
}

static PyObject *py_matmul(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "packed", NULL};
    int packed = 0;
    Call c;
    call_init(&c, "matmul", matmul_args, MM_COUNT);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|p:matmul", kwlist, &c.obj[MM_a], &c.obj[MM_b],
                                     &packed))
        return NULL;
    if (call_prepare(&c) < 0) return NULL;
    const npy_intp M = call_dim(&c, 'M'), K = call_dim(&c, 'K'), N = call_dim(&c, 'N');
    void *C = call_output(&c, "M N");
    if (!C) return NULL;
    if (M == 0 || N == 0) return call_finish(&c); /* nothing to compute, however large K */
    const ptrdiff_t wsize =
        !packed ? 0
                : (ptrdiff_t)(c.typenum == NPY_FLOAT ? rs_gemm_packed_size_f32(K, N)
                                                     : rs_gemm_packed_size_f64(K, N));
    void *work = call_work(&c, wsize);
    if (!work || call_ready(&c, 0) < 0) return NULL;
    npy_intp rsa, csa, rsb, csb;
    const void *A = PyArray_DATA(operand(&c, MM_a, M, K, &rsa, &csa));
    const void *B = PyArray_DATA(operand(&c, MM_b, K, N, &rsb, &csb));
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    if (packed) {
        CALL_KERNEL(&c, rs_gemm_pack_b, work, K, N, B, rsb, csb);
        rc = CALL_KERNEL(&c, rs_gemm_packed, M, N, K, A, rsa, csa, work, C, N, 0, NULL, NULL);
    } else {
        CALL_KERNEL(&c, rs_gemm, M, N, K, A, rsa, csa, B, rsb, csb, C, N, 0);
    }
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_SetString(PyExc_RuntimeError, "matmul: the packed buffer did not match (internal error)");
        return call_fail(&c);
    }
    return call_finish(&c);
}

/* ---- sgd_update ---- */

PyDoc_STRVAR(sgd_update_doc,
"sgd_update(param, grad, lr) -> None\n\n"
"param -= lr * grad, in place, in one pass: the same numbers as NumPy's\n"
"`param -= lr * grad` with lr a Python float (lr rounded to the arrays' dtype,\n"
"the product rounded, then the difference). param and grad: C-contiguous\n"
"float32 or float64 arrays of the same shape and dtype; param writeable;\n"
"grad may be param itself but must not partly overlap it.");

static PyObject *py_sgd_update(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "lr", NULL};
    PyObject *po, *go;
    double lr;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOd:sgd_update", kwlist, &po, &go, &lr))
        return NULL;
    /* lr is converted first (its __float__ may run code); then the arrays are
       checked, and nothing else runs before the kernel */
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
    if (PyArray_DATA(p) != PyArray_DATA(g) && args_overlap(p, g)) {
        PyErr_SetString(PyExc_ValueError, "grad: partly overlaps param");
        return NULL;
    }
    const npy_intp n = PyArray_SIZE(p);
    void *pp = PyArray_DATA(p);
    const void *gg = PyArray_DATA(g);
    const int f32 = PyArray_TYPE(p) == NPY_FLOAT;
    Py_BEGIN_ALLOW_THREADS
    if (f32) sgd_update_f32(pp, gg, lr, n);
    else sgd_update_f64(pp, gg, lr, n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ---- adam_update ---- */

PyDoc_STRVAR(adam_update_doc,
"adam_update(param, grad, m, v, c1, c2, lr_t) -> None\n\n"
"The book's Adam step for one array, in place, in one pass:\n"
"m += c1 * (grad - m); v += c2 * (grad**2 - v);\n"
"param -= lr_t * m / (sqrt(v) + 1e-7), with NumPy's numbers for those\n"
"expressions when c1, c2 are Python floats and lr_t a NumPy float64 (the\n"
"moments in the arrays' dtype, the step in float64 rounded into param).\n"
"The four arrays: C-contiguous, aligned, float32 or float64 of one dtype and\n"
"shape; param, m, v writeable; no two of them overlapping.");

static PyObject *py_adam_update(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"param", "grad", "m", "v", "c1", "c2", "lr_t", NULL};
    PyObject *objs[4];
    double c1, c2, lr_t;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOddd:adam_update", kwlist, &objs[0],
                                     &objs[1], &objs[2], &objs[3], &c1, &c2, &lr_t))
        return NULL;
    const char *names[4] = {"param", "grad", "m", "v"};
    for (int i = 0; i < 4; i++) {
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
    PyArrayObject *p = (PyArrayObject *)objs[0];
    for (int i = 1; i < 4; i++) {
        PyArrayObject *a = (PyArrayObject *)objs[i];
        if (PyArray_TYPE(a) != PyArray_TYPE(p)) {
            PyErr_Format(PyExc_TypeError, "%s: expected dtype %S (from param), got %S", names[i],
                         (PyObject *)PyArray_DESCR(p), (PyObject *)PyArray_DESCR(a));
            return NULL;
        }
        if (!PyArray_SAMESHAPE(p, a)) {
            PyObject *ps = shape_tuple(p), *as = ps ? shape_tuple(a) : NULL;
            if (as)
                PyErr_Format(PyExc_ValueError, "%s: expected shape %R (from param), got %R",
                             names[i], ps, as);
            Py_XDECREF(ps);
            Py_XDECREF(as);
            return NULL;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (i != 1 && !PyArray_ISWRITEABLE((PyArrayObject *)objs[i])) {
            PyErr_Format(PyExc_ValueError, "%s: the array is read-only", names[i]);
            return NULL;
        }
        for (int j = 0; j < i; j++)
            if (PyArray_SIZE(p) > 0 &&
                args_overlap((PyArrayObject *)objs[i], (PyArrayObject *)objs[j])) {
                PyErr_Format(PyExc_ValueError, "%s: overlaps %s", names[i], names[j]);
                return NULL;
            }
    }
    const npy_intp n = PyArray_SIZE(p);
    void *pp = PyArray_DATA(p), *mm = PyArray_DATA((PyArrayObject *)objs[2]);
    void *vv = PyArray_DATA((PyArrayObject *)objs[3]);
    const void *gg = PyArray_DATA((PyArrayObject *)objs[1]);
    const int f32 = PyArray_TYPE(p) == NPY_FLOAT;
    Py_BEGIN_ALLOW_THREADS
    if (f32) adam_update_f32(pp, gg, mm, vv, c1, c2, lr_t, n);
    else adam_update_f64(pp, gg, mm, vv, c1, c2, lr_t, n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ---- sum_squares ---- */

PyDoc_STRVAR(sum_squares_doc,
"sum_squares(x) -> numpy scalar (of x's dtype)\n\n"
"np.sum(x ** 2) bit for bit (the squares rounded to the dtype, NumPy's pairwise\n"
"summation), without the array of squares. x: a C-contiguous, aligned float32\n"
"or float64 array.");

static PyObject *py_sum_squares(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"x", NULL};
    PyObject *arg;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:sum_squares", kwlist, &arg))
        return NULL;
    if (!PyArray_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "x: expected a numpy.ndarray, got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)arg;
    const int t = PyArray_TYPE(a);
    if ((t != NPY_FLOAT && t != NPY_DOUBLE) || !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_TypeError, "x: expected a float32 or float64 array, got dtype %S",
                     (PyObject *)PyArray_DESCR(a));
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
        PyErr_SetString(PyExc_ValueError, "x: expected a C-contiguous, aligned array");
        return NULL;
    }
    const npy_intp n = PyArray_SIZE(a);
    const void *x = PyArray_DATA(a);
    float r32 = 0;
    double r64 = 0;
    Py_BEGIN_ALLOW_THREADS
    if (t == NPY_FLOAT) r32 = sum_squares_f32(x, n);
    else r64 = sum_squares_f64(x, n);
    Py_END_ALLOW_THREADS
    PyArray_Descr *d = PyArray_DescrFromType(t);
    if (!d) return NULL;
    PyObject *res = PyArray_Scalar(t == NPY_FLOAT ? (void *)&r32 : (void *)&r64, d, NULL);
    Py_DECREF(d);
    return res;
}

/* ---- threads ---- */

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg)
{
    long n;
    if (parse_long(arg, "n", LONG_MIN, LONG_MAX, &n) < 0) return NULL;
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
    return PyLong_FromLong(rs_get_num_threads());
}

static PyObject *py_pool_selftest(PyObject *self, PyObject *arg)
{
    long jobs;
    if (parse_long(arg, "jobs", LONG_MIN, LONG_MAX, &jobs) < 0) return NULL;
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

/* ---- kernel paths (for tests and benchmarks) ---- */

/* indexed by enum rs_path */
static const char *const PATH_NAMES[RS_PATH_COUNT] = {"portable", "avx2", "avx512", "neon"};

static PyObject *py_get_simd_path(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(rs_path_name(rs_get_path()));
}

static PyObject *py_set_simd_path(PyObject *self, PyObject *arg)
{
    Py_ssize_t len = 0;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &len) : NULL;
    if (name && (size_t)len != strlen(name))
        name = ""; /* an embedded NUL: no path has that name */
    if (!name) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "path: expected a str, got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    int path = -1;
    if (strcmp(name, "best") == 0) path = rs_cpu_best_path();
    for (int i = 0; i < RS_PATH_COUNT; i++)
        if (strcmp(name, PATH_NAMES[i]) == 0) path = i;
    if (path < 0) {
        PyErr_Format(PyExc_ValueError,
                     "path: expected 'portable', 'avx2', 'avx512', 'neon' or 'best', got %R",
                     arg);
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
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (int i = 0; i < RS_PATH_COUNT; i++) {
        if (!rs_path_available(i))
            continue;
        PyObject *s = PyUnicode_FromString(PATH_NAMES[i]);
        if (!s || PyList_Append(list, s) < 0) { Py_XDECREF(s); Py_DECREF(list); return NULL; }
        Py_DECREF(s);
    }
    return list;
}

/* ---- the CBLAS backend switch (for tests and benchmarks) ---- */

static PyObject *py_set_blas(PyObject *self, PyObject *arg)
{
    if (!PyBool_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "on: expected True or False, got %s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    const int before = rs_blas_get();
    if (rs_blas_set(arg == Py_True) < 0 && arg == Py_True) {
        PyErr_SetString(PyExc_ValueError,
                        "on: this build has no CBLAS backend (built with RNNSCRATCH_BLAS=none)");
        return NULL;
    }
    return PyBool_FromLong(before);
}

/* ---- the family's tables ---- */

PyMethodDef rs_util_methods[] = {
    METHOD(matmul),
    METHOD(sgd_update),
    METHOD(adam_update),
    METHOD(sum_squares),
    {"set_num_threads", py_set_num_threads, METH_O,
     "set_num_threads(n): use at most n threads in the kernels (results do not depend on n)."},
    {"get_num_threads", py_get_num_threads, METH_NOARGS,
     "get_num_threads() -> int: the current thread limit."},
    {"_pool_selftest", py_pool_selftest, METH_O,
     "_pool_selftest(jobs) -> int: for the tests. Runs `jobs` thread-pool jobs of "
     "alternating sizes; returns how many tasks ran twice, not at all, or after "
     "their job ended (0 when the pool is sound). Not for concurrent use."},
    {"get_simd_path", py_get_simd_path, METH_NOARGS,
     "get_simd_path() -> str: the kernel path in use ('portable', 'avx2', 'avx512' or 'neon')."},
    {"set_simd_path", py_set_simd_path, METH_O,
     "set_simd_path(name): force a kernel path ('portable', 'avx2', 'avx512', 'neon' or 'best')."},
    {"_set_blas", py_set_blas, METH_O,
     "_set_blas(on) -> bool: for tests and benchmarks. In a CBLAS build (_core.blas), "
     "whether the large products go to CBLAS (True, the default) or to our kernels; "
     "returns the previous setting."},
    {"available_simd_paths", py_available_simd_paths, METH_NOARGS,
     "available_simd_paths() -> list of the kernel paths this CPU supports."},
    {NULL, NULL, 0, NULL},
};

const ArgTable rs_util_tables[] = {
    ARG_TABLE("matmul", matmul_args),
    {NULL, NULL, 0},
};
