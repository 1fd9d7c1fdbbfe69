/* bind_util.c -- _core functions around the layers: the gemm itself (for
 * tests and benchmarks), the SGD and Adam steps, the thread count, the SIMD paths. */
#include "args.h"
#include "bindings.h"

#include <limits.h>
#include <string.h>

#include "compat.h"
#include "gemm.h"
#include "lstm.h"
#include "sgd.h"
#include "threads.h"
#include "blas.h"

CORE_FN(matmul,
    .kernel = "rs_gemm",
    .args = {PARAM("a", "M K"), PARAM("b", "K N"), BOOL_ARG("packed", 0)},
    .results = {RESULT("c", "M N")},
    .doc = "c (M,N) = a (M,K) @ b (K,N) with the package's own gemm. An operand that\n"
           "already has the compute dtype is read through its strides (transposed and\n"
           "sliced views exercise the gemm's strided paths). The\n"
           "dtype is float32 when both are float32 (or float16), else float64.\n"
           "packed=True packs b first and uses the pre-packed product the RNN uses per step.");

/* The operand the gemm reads: the caller's array through its strides when it
 * has the compute dtype, native order, aligned, whole-element strides and the
 * checked shape; else the C-contiguous copy. */
static PyArrayObject *operand(const Call *c, const char *name, npy_intp rows, npy_intp cols,
                              npy_intp *rs, npy_intp *cs)
{
    PyArrayObject *a = call_array(c, name);
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
    return call_conv(c, name);
}

static PyObject *matmul_body(Call *c)
{
    const npy_intp M = call_dim(c, 'M'), K = call_dim(c, 'K'), N = call_dim(c, 'N');
    const int packed = (int)call_int(c, "packed");
    if (call_results(c) < 0) return NULL;
    if (M == 0 || N == 0) return call_finish(c); /* nothing to compute, however large K */
    const ptrdiff_t wsize =
        !packed ? 0
                : (ptrdiff_t)(c->typenum == NPY_FLOAT ? rs_gemm_packed_size_f32(K, N)
                                                      : rs_gemm_packed_size_f64(K, N));
    void *work = call_work(c, wsize);
    if (!work || call_ready(c) < 0) return NULL;
    npy_intp rsa, csa, rsb, csb;
    const void *A = PyArray_DATA(operand(c, "a", M, K, &rsa, &csa));
    const void *B = PyArray_DATA(operand(c, "b", K, N, &rsb, &csb));
    void *C = call_data(c, "c");
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    if (packed) {
        CALL_KERNEL(c, rs_gemm_pack_b, work, K, N, B, rsb, csb);
        rc = CALL_KERNEL(c, rs_gemm_packed, M, N, K, A, rsa, csa, work, C, N, 0, NULL, NULL);
    } else {
        CALL_KERNEL(c, rs_gemm, M, N, K, A, rsa, csa, B, rsb, csb, C, N, 0);
    }
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_SetString(PyExc_RuntimeError, "matmul: the packed buffer did not match (internal error)");
        return call_fail(c);
    }
    return call_finish(c);
}

/* ---- the in-place updates: arrays taken as they are, no conversion ---- */

/* The first n arguments: ndarrays of one float dtype (float32 or float64,
 * native order) and one shape, C-contiguous and aligned, into arr[]. Messages
 * name the argument. 0 or -1 with the error set. */
static int check_update_arrays(const Call *c, PyArrayObject **arr, int n)
{
    const CoreFn *fn = c->fn;
    for (int i = 0; i < n; i++) {
        const char *name = fn->args[i].name;
        PyObject *o = call_object(c, name);
        if (!PyArray_Check(o)) {
            PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray, got %s", name,
                         Py_TYPE(o)->tp_name);
            return -1;
        }
        PyArrayObject *a = arr[i] = (PyArrayObject *)o;
        int t = PyArray_TYPE(a);
        if ((t != NPY_FLOAT && t != NPY_DOUBLE) || !PyArray_ISNOTSWAPPED(a)) {
            PyErr_Format(PyExc_TypeError, "%s: expected a float32 or float64 array, got dtype %S",
                         name, (PyObject *)PyArray_DESCR(a));
            return -1;
        }
        if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
            PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous, aligned array", name);
            return -1;
        }
    }
    for (int i = 1; i < n; i++) {
        const char *name = fn->args[i].name;
        if (PyArray_TYPE(arr[i]) != PyArray_TYPE(arr[0])) {
            PyErr_Format(PyExc_TypeError, "%s: expected dtype %S (from param), got %S", name,
                         (PyObject *)PyArray_DESCR(arr[0]), (PyObject *)PyArray_DESCR(arr[i]));
            return -1;
        }
        if (!PyArray_SAMESHAPE(arr[0], arr[i])) {
            PyObject *ps = shape_tuple(arr[0]), *as = ps ? shape_tuple(arr[i]) : NULL;
            if (as)
                PyErr_Format(PyExc_ValueError, "%s: expected shape %R (from param), got %R",
                             name, ps, as);
            Py_XDECREF(ps);
            Py_XDECREF(as);
            return -1;
        }
    }
    return 0;
}

static int check_writeable(PyArrayObject *a, const char *name)
{
    if (PyArray_ISWRITEABLE(a)) return 0;
    PyErr_Format(PyExc_ValueError, "%s: the array is read-only", name);
    return -1;
}

CORE_FN(sgd_update,
    .kernel = "sgd_update",
    .args = {ANY_ARRAY("param", ROLE_OUTPUT), ANY_ARRAY("grad", ROLE_INPUT), FLOAT_ARG("lr"),
             FLOAT_DEFAULT("scale", 1.0)},
    .doc = "param -= lr * grad, in place, in one pass: the same numbers as NumPy's\n"
           "`param -= lr * grad` with lr a Python float (lr rounded to the arrays' dtype,\n"
           "the product rounded, then the difference). With scale != 1 (a gradient\n"
           "clip's rate), grad *= scale first, in place, in the same pass: NumPy's\n"
           "`grad *= scale; param -= lr * grad` for scale of the arrays' dtype. param\n"
           "and grad: C-contiguous float32 or float64 arrays of the same shape and\n"
           "dtype; param (and grad when scaled) writeable; grad may be param itself\n"
           "but must not partly overlap it.");

static PyObject *sgd_update_body(Call *c)
{
    /* lr was converted first (its __float__ may run code); then the arrays are
       checked, and nothing else runs before the kernel */
    PyArrayObject *a[2];
    const double scale = call_float(c, "scale");
    if (check_update_arrays(c, a, 2) < 0 || check_writeable(a[0], "param") < 0 ||
        (scale != 1.0 && check_writeable(a[1], "grad") < 0))
        return NULL;
    if (PyArray_DATA(a[0]) != PyArray_DATA(a[1]) && args_overlap(a[0], a[1])) {
        PyErr_SetString(PyExc_ValueError, "grad: partly overlaps param");
        return NULL;
    }
    const npy_intp n = PyArray_SIZE(a[0]);
    void *pp = PyArray_DATA(a[0]), *gg = PyArray_DATA(a[1]);
    const double lr = call_float(c, "lr");
    const int f32 = PyArray_TYPE(a[0]) == NPY_FLOAT;
    Py_BEGIN_ALLOW_THREADS
    if (f32) sgd_update_f32(pp, gg, lr, scale, n);
    else sgd_update_f64(pp, gg, lr, scale, n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

CORE_FN(adam_update,
    .kernel = "adam_update",
    .args = {
        ANY_ARRAY("param", ROLE_OUTPUT),
        ANY_ARRAY("grad", ROLE_INPUT),
        ANY_ARRAY("m", ROLE_OUTPUT),
        ANY_ARRAY("v", ROLE_OUTPUT),
        FLOAT_ARG("c1"),
        FLOAT_ARG("c2"),
        FLOAT_ARG("lr_t"),
        FLOAT_DEFAULT("scale", 1.0),
    },
    .doc = "The book's Adam step for one array, in place, in one pass:\n"
           "m += c1 * (grad - m); v += c2 * (grad**2 - v);\n"
           "param -= lr_t * m / (sqrt(v) + 1e-7), with NumPy's numbers for those\n"
           "expressions when c1, c2 are Python floats and lr_t a NumPy float64 (the\n"
           "moments in the arrays' dtype, the step in float64 rounded into param).\n"
           "With scale != 1 (a gradient clip's rate), grad *= scale first, in place,\n"
           "in the same pass (NumPy's numbers for scale of the arrays' dtype).\n"
           "The four arrays: C-contiguous, aligned, float32 or float64 of one dtype and\n"
           "shape; param, m, v writeable; no two of them overlapping.");

static PyObject *adam_update_body(Call *c)
{
    PyArrayObject *a[4];
    const double scale = call_float(c, "scale");
    if (check_update_arrays(c, a, 4) < 0) return NULL;
    for (int i = 0; i < 4; i++) {
        const char *name = c->fn->args[i].name;
        if ((i != 1 || scale != 1.0) && check_writeable(a[i], name) < 0) return NULL;
        for (int j = 0; j < i; j++)
            if (PyArray_SIZE(a[0]) > 0 && args_overlap(a[i], a[j])) {
                PyErr_Format(PyExc_ValueError, "%s: overlaps %s", name, c->fn->args[j].name);
                return NULL;
            }
    }
    const npy_intp n = PyArray_SIZE(a[0]);
    void *pp = PyArray_DATA(a[0]), *mm = PyArray_DATA(a[2]), *vv = PyArray_DATA(a[3]);
    void *gg = PyArray_DATA(a[1]);
    const double c1 = call_float(c, "c1"), c2 = call_float(c, "c2"), lr_t = call_float(c, "lr_t");
    const int f32 = PyArray_TYPE(a[0]) == NPY_FLOAT;
    Py_BEGIN_ALLOW_THREADS
    if (f32) adam_update_f32(pp, gg, mm, vv, c1, c2, lr_t, scale, n);
    else adam_update_f64(pp, gg, mm, vv, c1, c2, lr_t, scale, n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

CORE_FN(sum_squares,
    .kernel = "sum_squares",
    .returns_text = "numpy scalar",
    .args = {ANY_ARRAY("x", ROLE_INPUT)},
    .doc = "np.sum(x ** 2) as a scalar of x's dtype, bit for bit (the squares rounded to\n"
           "the dtype, NumPy's pairwise summation), without the array of squares. x: a\n"
           "C-contiguous, aligned float32 or float64 array.");

static PyObject *sum_squares_body(Call *c)
{
    PyArrayObject *a;
    if (check_update_arrays(c, &a, 1) < 0) return NULL;
    const int t = PyArray_TYPE(a);
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

static PyObject *py_cpu_topology(PyObject *self, PyObject *noargs)
{
    int logical, cores;
    rs_cpu_topology(&logical, &cores);
    return Py_BuildValue("(ii)", logical, cores);
}

/* _pool_timing(jobs, gap_us) -> (threads, wake_us, trip_us) */
static PyObject *py_pool_timing(PyObject *self, PyObject *args)
{
    PyObject *ojobs, *ogap;
    if (!PyArg_UnpackTuple(args, "_pool_timing", 2, 2, &ojobs, &ogap)) return NULL;
    long jobs;
    if (parse_long(ojobs, "jobs", LONG_MIN, LONG_MAX, &jobs) < 0) return NULL;
    if (jobs < 0 || jobs > 1000000) {
        PyErr_Format(PyExc_ValueError, "jobs: expected a count from 0 to 1000000, got %ld", jobs);
        return NULL;
    }
    const double gap = PyFloat_AsDouble(ogap);
    if (gap == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "gap_us: expected a number, got %s", Py_TYPE(ogap)->tp_name);
        return NULL;
    }
    if (!(gap >= 0 && gap <= 1e6)) {
        PyErr_Format(PyExc_ValueError, "gap_us: expected microseconds from 0 to 1e6, got %R", ogap);
        return NULL;
    }
    double *buf = PyMem_Malloc((size_t)(jobs ? jobs : 1) * 2 * sizeof(double));
    if (!buf) return PyErr_NoMemory();
    int nt;
    Py_BEGIN_ALLOW_THREADS
    nt = rs_pool_timing(jobs, (long long)(gap * 1e3), buf, buf + jobs);
    Py_END_ALLOW_THREADS
    PyObject *wake = PyList_New(jobs), *trip = PyList_New(jobs), *res = NULL;
    if (wake && trip) {
        long j = 0;
        for (; j < jobs; j++) {
            PyObject *a = PyFloat_FromDouble(buf[j] / 1e3), *b = PyFloat_FromDouble(buf[jobs + j] / 1e3);
            if (!a || !b) { Py_XDECREF(a); Py_XDECREF(b); break; }
            PyList_SET_ITEM(wake, j, a);
            PyList_SET_ITEM(trip, j, b);
        }
        if (j == jobs)
            res = Py_BuildValue("(iOO)", nt, wake, trip);
    }
    Py_XDECREF(wake);
    Py_XDECREF(trip);
    PyMem_Free(buf);
    return res;
}

/* _gemm_blocking() -> dict: the cache sizes and each dtype's blocks (this path) */
static PyObject *py_gemm_blocking(PyObject *self, PyObject *noargs)
{
    long c[3];
    ptrdiff_t f[3], d[3];
    rs_gemm_cache_sizes(c);
    rs_gemm_blocking(rs_get_path(), 4, f);
    rs_gemm_blocking(rs_get_path(), 8, d);
    return Py_BuildValue("{s:l,s:l,s:l,s:(nnn),s:(nnn)}", "l1d", c[0], "l2", c[1], "l3", c[2],
                         "float32", f[0], f[1], f[2], "float64", d[0], d[1], d[2]);
}

/* _set_gemm_blocking(kc, mc, nc): 0 = from the caches */
static PyObject *py_set_gemm_blocking(PyObject *self, PyObject *args)
{
    static const char *const names[3] = {"kc", "mc", "nc"};
    PyObject *o[3];
    long v[3];
    if (!PyArg_UnpackTuple(args, "_set_gemm_blocking", 3, 3, &o[0], &o[1], &o[2])) return NULL;
    for (int i = 0; i < 3; i++) {
        if (parse_long(o[i], names[i], LONG_MIN, LONG_MAX, &v[i]) < 0) return NULL;
        if (v[i] < 0 || v[i] > 65536) {
            PyErr_Format(PyExc_ValueError, "%s: expected 0 (from the caches) to 65536, got %ld",
                         names[i], v[i]);
            return NULL;
        }
    }
    rs_gemm_force_blocking(v[0], v[1], v[2]);
    Py_RETURN_NONE;
}

/* _set_recurrence_split(mode): "auto", "rows" or "columns"; returns the old one */
static const char *const SPLIT_NAMES[3] = {"auto", "rows", "columns"};

static PyObject *py_set_recurrence_split(PyObject *self, PyObject *arg)
{
    int mode = -1;
    if (PyUnicode_Check(arg))
        for (int i = 0; i < 3; i++)
            if (PyUnicode_CompareWithASCIIString(arg, SPLIT_NAMES[i]) == 0) mode = i;
    if (mode < 0) {
        PyErr_Format(PyExc_ValueError,
                     "mode: expected 'auto', 'rows' or 'columns', got %R", arg);
        return NULL;
    }
    int old = rs_get_recurrence_split();
    rs_set_recurrence_split(mode);
    return PyUnicode_FromString(SPLIT_NAMES[old]);
}

/* _recurrence_split(N, H, dtype_is_double) -> ("rows", 0) or ("columns", tasks):
   how TimeLSTM would split a batch of N rows of H units now */
static PyObject *py_recurrence_split(PyObject *self, PyObject *args)
{
    Py_ssize_t N, H;
    int dbl;
    if (!PyArg_ParseTuple(args, "nnp:_recurrence_split", &N, &H, &dbl)) return NULL;
    if (N < 0 || H < 0 || H > PY_SSIZE_T_MAX / 8) {
        PyErr_Format(PyExc_ValueError, "N, H: expected sizes >= 0, got %zd, %zd", N, H);
        return NULL;
    }
    int k = dbl ? time_lstm_column_tasks_f64(N, H) : time_lstm_column_tasks_f32(N, H);
    return Py_BuildValue("(si)", k ? "columns" : "rows", k);
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

CoreFn *const rs_util_fns[] = {
    &matmul_fn, &sgd_update_fn, &adam_update_fn, &sum_squares_fn, NULL,
};

/* the functions of one argument or none (METH_O, METH_NOARGS) */
PyMethodDef rs_util_methods[] = {
    {"set_num_threads", py_set_num_threads, METH_O,
     "set_num_threads(n): use at most n threads in the kernels (results do not depend on n)."},
    {"get_num_threads", py_get_num_threads, METH_NOARGS,
     "get_num_threads() -> int: the current thread limit."},
    {"_pool_selftest", py_pool_selftest, METH_O,
     "_pool_selftest(jobs) -> int: for the tests. Runs `jobs` thread-pool jobs of "
     "alternating sizes; returns how many tasks ran twice, not at all, or after "
     "their job ended (0 when the pool is sound). Not for concurrent use."},
    {"_cpu_topology", py_cpu_topology, METH_NOARGS,
     "_cpu_topology() -> tuple: (logical, cores), the CPUs this process may run on and the "
     "physical cores among them (the default thread count is the cores)."},
    {"_pool_timing", py_pool_timing, METH_VARARGS,
     "_pool_timing(jobs, gap_us) -> tuple: (threads, wake_us, trip_us), for the benchmark. Runs "
     "`jobs` empty thread-pool jobs (one task per thread) gap_us apart; per job how late "
     "the slowest worker started and the fork/join round trip, in microseconds. Not for "
     "concurrent use."},
    {"_set_recurrence_split", py_set_recurrence_split, METH_O,
     "_set_recurrence_split(mode) -> str: how TimeLSTM's recurrence is split over the "
     "threads: 'auto' (the default), 'rows' (batch rows) or 'columns' (hidden units, "
     "whenever H allows); returns the previous mode. The results never change."},
    {"_recurrence_split", py_recurrence_split, METH_VARARGS,
     "_recurrence_split(N, H, double) -> tuple: ('rows', 0) or ('columns', tasks), how "
     "TimeLSTM would split the recurrence of N rows and H units now."},
    {"_gemm_blocking", py_gemm_blocking, METH_NOARGS,
     "_gemm_blocking() -> dict: the cache sizes read at import (l1d, l2 per core, l3; bytes) "
     "and the gemm's blocks (kc, mc, nc) for float32 and float64 on the current SIMD path."},
    {"_set_gemm_blocking", py_set_gemm_blocking, METH_VARARGS,
     "_set_gemm_blocking(kc, mc, nc) -> None: for the tests and the benchmark. Use these "
     "blocks (0: the ones from the cache sizes); the results never change. Not while a "
     "product runs."},
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
