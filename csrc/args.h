/* args.h -- the argument machinery every binding uses (args.c).
 *
 * A binding describes its array arguments in a table, indexed by names:
 *
 *     enum { A_Wx, A_Wh, A_b, A_xs, A_h0, A_COUNT };
 *     static const ArgSpec time_rnn_forward_args[A_COUNT] = {
 *         [A_Wx] = PARAM("Wx", "D H"),
 *         [A_Wh] = PARAM("Wh", "H H"),
 *         [A_b]  = OPT_PARAM("b", "H"),
 *         [A_xs] = INPUT("xs", "N T D"),
 *         [A_h0] = OPT_INPUT("h0", "N H"),
 *     };
 *
 * and runs one call through these steps (each one that can fail has set the
 * Python error and released everything when it returns NULL / -1):
 *
 *     Call c;
 *     call_init(&c, "time_rnn_forward", time_rnn_forward_args, A_COUNT);
 *     PyArg_ParseTupleAndKeywords(..., &c.obj[A_xs], &c.obj[A_h0], ...)
 *     call_prepare(&c)           convert, dtype rule, shapes, overlaps
 *     call_dim(&c, 'N') ...      the sizes the shapes fixed
 *     call_output(&c, "N T H")   a new result array (returned by call_finish)
 *     call_work(&c, count)       a 64-byte aligned workspace of `count` REALs
 *     call_ready(&c, accumulate) gradients zeroed (or kept), then everything
 *                                the kernel will touch verified once more
 *     -- no Python code runs from call_ready to the kernel's return --
 *     Py_BEGIN_ALLOW_THREADS  CALL_KERNEL(&c, time_rnn_forward, ...)  Py_END_ALLOW_THREADS
 *     return call_finish(&c);    write gradients back, all or nothing; the
 *                                outputs: None, the one array, or a tuple
 *
 * Shape specs: dimensions separated by spaces, each an uppercase letter
 * naming a size, optionally after a positive multiplier: "N T D", "D 4H",
 * "H" (1-d), "" (0-d). A letter means the same size everywhere in one call;
 * the first argument in table order that shows a letter fixes it (a "4H"
 * dimension fixes H to a quarter of itself, and must be a multiple of 4).
 * Legend: N batch, T time steps, S source (encoder) steps, D input features,
 * H hidden units, V vocabulary; a binding may use any other letter.
 *
 * Roles: PARAM arguments decide the compute dtype (float32 when their
 * np.result_type is float16 or float32, float64 otherwise; any number of
 * them) and are read; INPUT ones are read; IDS ones are integer indices
 * (converted to intp, in a private copy); OUTPUT ones are gradient arrays the
 * caller owns, written in place (any floating dtype and layout, through a
 * C-contiguous buffer written back by call_finish). OPT_ ones may be None.
 */
#ifndef RNNSCRATCH_ARGS_H
#define RNNSCRATCH_ARGS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#ifndef NPY_NO_DEPRECATED_API
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#endif
#ifndef RS_NO_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#define PY_ARRAY_UNIQUE_SYMBOL rnnscratch_ARRAY_API
#include <numpy/arrayobject.h>

#include <stddef.h>

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *rs_new_ref(PyObject *o) { Py_INCREF(o); return o; }
#  define Py_NewRef(o) rs_new_ref((PyObject *)(o))
#endif
#ifndef Py_SETREF
#  define Py_SETREF(dst, src) do { PyObject *rs_tmp_ = (PyObject *)(dst); (dst) = (src); Py_DECREF(rs_tmp_); } while (0)
#endif

enum { ROLE_PARAM, ROLE_INPUT, ROLE_IDS, ROLE_OUTPUT };

typedef struct {
    const char *name; /* the Python argument's name, used in every message */
    const char *spec; /* its shape, e.g. "N T D" (see above) */
    int role;         /* ROLE_* */
    int optional;     /* None (or leaving it out) is allowed */
} ArgSpec;

#define PARAM(nm, sp) {nm, sp, ROLE_PARAM, 0}
#define OPT_PARAM(nm, sp) {nm, sp, ROLE_PARAM, 1}
#define INPUT(nm, sp) {nm, sp, ROLE_INPUT, 0}
#define OPT_INPUT(nm, sp) {nm, sp, ROLE_INPUT, 1}
#define IDS(nm, sp) {nm, sp, ROLE_IDS, 0}
#define OUTPUT(nm, sp) {nm, sp, ROLE_OUTPUT, 0}
#define OPT_OUTPUT(nm, sp) {nm, sp, ROLE_OUTPUT, 1}

/* One function's table, for the check at import (args_check_tables). */
typedef struct {
    const char *function;
    const ArgSpec *args;
    int nargs;
} ArgTable;
#define ARG_TABLE(fname, table) {fname, table, (int)(sizeof(table) / sizeof((table)[0]))}

#define RS_MAX_ARGS 16 /* arrays in one table */
#define RS_MAX_OUTS 4  /* result arrays of one call */
#define RS_MAX_ND 8    /* dimensions of one spec */

typedef struct {
    const char *function;
    const ArgSpec *spec;
    int n;
    PyObject *obj[RS_MAX_ARGS];       /* borrowed, set by the binding's parser; NULL/None = absent */
    PyArrayObject *arr[RS_MAX_ARGS];  /* obj as an array (outputs: obj itself) */
    PyArrayObject *conv[RS_MAX_ARGS]; /* what the kernel reads/writes: C-contiguous, compute dtype */
    PyArrayObject *base[RS_MAX_ARGS]; /* outputs: a base-class view of obj, for the write-back */
    char add_back[RS_MAX_ARGS];       /* output: conv is a zeroed scratch added into obj at the end */
    npy_intp dim[26];                 /* by letter; -1 until fixed */
    const char *dim_from[26];
    int typenum;                      /* NPY_FLOAT or NPY_DOUBLE, after call_prepare */
    PyArrayObject *out[RS_MAX_OUTS];  /* results, in the order they were made */
    const char *out_spec[RS_MAX_OUTS];
    const char *out_name[RS_MAX_OUTS];
    PyObject *out_user[RS_MAX_OUTS];  /* the caller's `out=` array returned for out[k], or NULL */
    int nout;
    void *work;                       /* from rs_ws_get */
} Call;

void call_init(Call *c, const char *function, const ArgSpec *spec, int n);
int call_prepare(Call *c);
npy_intp call_dim(const Call *c, char letter);
/* the kernel's pointer for argument i (NULL when absent) */
void *call_data(const Call *c, int i);
/* a new C-contiguous array of the compute dtype, shaped by `spec` from the
   call's sizes; its data, or NULL (everything released) */
void *call_output(Call *c, const char *spec);
/* the caller's `out=` array (obj may be NULL/None: then a new one): an
   ndarray of exactly the compute dtype and shape, C-contiguous, aligned,
   writeable, sharing memory with no argument; its data, or NULL */
void *call_output_into(Call *c, PyObject *obj, const char *name, const char *spec);
/* `count` elements of the compute dtype, 64-byte aligned; NULL (MemoryError,
   everything released) when count < 0 (the work-size functions' overflow) or
   memory is short */
void *call_work(Call *c, ptrdiff_t count);
int call_ready(Call *c, int accumulate);
PyObject *call_finish(Call *c);
/* release everything; returns NULL (for `return call_fail(&c);`) */
PyObject *call_fail(Call *c);

/* The float or double kernel, by the compute dtype; every array argument is
   a void * (call_data, call_output), so one call serves both. */
#define CALL_KERNEL(c, kernel, ...) \
    ((c)->typenum == NPY_FLOAT ? kernel##_f32(__VA_ARGS__) : kernel##_f64(__VA_ARGS__))
/* a kernel's work size for the compute dtype: WORK_SIZE(&c, time_rnn_backward, N, T, D, H) */
#define WORK_SIZE(c, kernel, ...) \
    ((c)->typenum == NPY_FLOAT ? (ptrdiff_t)kernel##_work_size_f32(__VA_ARGS__) \
                               : (ptrdiff_t)kernel##_work_size_f64(__VA_ARGS__))

/* ---- small parsers shared by the bindings ---- */

/* 'tanh' (also for NULL), 'relu', 'sigmoid' -> RS_ACT_*; -1 with the error set */
int parse_activation(PyObject *obj, int *act);
/* an int (not a bool) named `name` that fits in a Py_ssize_t; -1 with the error set */
int parse_index(PyObject *obj, const char *name, Py_ssize_t *out);
/* the same, for a C long in [lo, hi] */
int parse_long(PyObject *obj, const char *name, long lo, long hi, long *out);
/* a tuple of an array's shape (new reference) */
PyObject *shape_tuple(PyArrayObject *a);
/* whether the byte ranges of two arrays' elements overlap */
int args_overlap(PyArrayObject *a, PyArrayObject *b);

/* At import: every table's specs parse, letters are A-Z, no name repeats;
   -1 with a SystemError naming the function otherwise. */
int args_check_tables(const ArgTable *tables);
/* At import: what the machinery needs from NumPy (cached, so nothing is
   looked up at call time). */
int args_init(void);

#endif
