/* args.h -- the argument machinery every binding uses (args.c).
 *
 * Each _core function is one table, its arguments in Python order, and one
 * body (bind_rnn.c):
 *
 *     CORE_FN(time_rnn_forward,
 *         .kernel = "time_rnn_forward",
 *         .args = {
 *             INPUT("xs", "N T D"),
 *             OPT_INPUT("h0", "N H"),
 *             PARAM("Wx", "D H"),
 *             PARAM("Wh", "H H"),
 *             OPT_PARAM("b", "H"),
 *             ACTIVATION,
 *         },
 *         .results = {RESULT("hs", "N T H")},
 *         .doc = "time_rnn_forward(xs, h0, Wx, Wh, b=None, activation='tanh') -> hs\n\n...");
 *
 *     static PyObject *time_rnn_forward_body(Call *c)
 *     {
 *         const npy_intp N = call_dim(c, 'N'), ...;            the sizes the shapes fixed
 *         void *work = call_results(c) < 0 ? NULL              the table's results
 *                    : call_work(c, WORK_SIZE(c, ...));        a 64-byte aligned workspace
 *         if (!work || call_ready(c) < 0) return NULL;         gradients zeroed (or kept with
 *                                                              accumulate), all verified again
 *         -- no Python code runs from call_ready to the kernel's return --
 *         Py_BEGIN_ALLOW_THREADS
 *         CALL_KERNEL(c, time_rnn_forward, call_data(c, "hs"), work, call_data(c, "xs"), ...);
 *         Py_END_ALLOW_THREADS
 *         return call_finish(c);                               write gradients back, all or
 *     }                                                        nothing; the results
 *
 * Before the body runs (call_run), the generic parser has matched positional
 * and keyword arguments against the table (CPython's checks and messages:
 * too many, given twice, missing, unknown keyword), converted the scalars in
 * Python order, and prepared the arrays: converted, the dtype rule, shapes,
 * overlaps. Each step that can fail has set the Python error and released
 * everything when it returns NULL / -1. The module gets the function from
 * the family's list of tables (bindings.h), checks every table at import,
 * and hands them to Python as _core._signatures() (the contract test checks
 * _core.pyi and the docstrings against it).
 *
 * Shape specs: dimensions separated by spaces, each an uppercase letter
 * naming a size, optionally after a positive multiplier: "N T D", "D 4H",
 * "H" (1-d), "" (0-d). A letter means the same size everywhere in one call;
 * the first argument in check order that shows a letter fixes it (a "4H"
 * dimension fixes H to a quarter of itself, and must be a multiple of 4).
 * Legend: N batch, T time steps, S source (encoder) steps, D input features,
 * H hidden units, V vocabulary; a binding may use any other letter. The
 * arrays are checked PARAMs first, then the others in Python order, unless
 * the table's `order` says otherwise (the backward functions: the forward's
 * order, so a size is blamed on the same argument).
 *
 * Roles: PARAM arguments decide the compute dtype (float32 when their
 * np.result_type is float16 or float32, float64 otherwise; any number of
 * them) and are read; INPUT ones are read; IDS ones are integer indices
 * (converted to intp, in a private copy); OUTPUT ones are gradient arrays the
 * caller owns, written in place (any floating dtype and layout, through a
 * C-contiguous buffer written back by call_finish; the table macro is GRAD).
 * OPT_ ones may be None.
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

/* What an argument is. Arrays (ARG_ARRAY) go through the machinery below;
 * the other kinds are converted by the parser, in Python order, before any
 * array is touched. */
enum {
    ARG_ARRAY,      /* an array with a shape spec and a role (ROLE_*) */
    ARG_ANY_ARRAY,  /* any object, handed to the binding as it is (it checks it);
                       spec "*", any shape; role for the documentation */
    ARG_ACTIVATION, /* 'tanh' (the default), 'relu', 'sigmoid' -> RS_ACT_* */
    ARG_BOOL,       /* any object, by its truth value */
    ARG_FLOAT,      /* a real number (float(), as PyArg's "d") */
    ARG_INDEX,      /* an int (not a bool) that fits in a Py_ssize_t; None = the default */
    ARG_BUFFER,     /* out=: None or an array a result is written into (see ResultSpec) */
};
enum { ROLE_PARAM, ROLE_INPUT, ROLE_IDS, ROLE_OUTPUT };

typedef struct {
    const char *name; /* the Python argument's name, used in every message */
    int kind;         /* ARG_* */
    const char *spec; /* arrays: the shape, e.g. "N T D" (see above) */
    int role;         /* arrays: ROLE_* */
    int nullable;     /* None is accepted (arrays: absent; ARG_INDEX: the default) */
    int has_default;  /* may be left out: arrays and out= default to None */
    double dflt;      /* ARG_BOOL, ARG_FLOAT, ARG_INDEX: the default's value */
} ArgSpec;

/* Arrays. OPT_INPUT: None accepted but passed (h_prev, h0: None = zeros);
   OPT_PARAM, OPT_GRAD: None accepted and the default (b=None, db=None). */
#define ARRAY_(nm, sp, role, nullable, dflt) {nm, ARG_ARRAY, sp, role, nullable, dflt, 0}
#define PARAM(nm, sp) ARRAY_(nm, sp, ROLE_PARAM, 0, 0)
#define OPT_PARAM(nm, sp) ARRAY_(nm, sp, ROLE_PARAM, 1, 1)
#define INPUT(nm, sp) ARRAY_(nm, sp, ROLE_INPUT, 0, 0)
#define OPT_INPUT(nm, sp) ARRAY_(nm, sp, ROLE_INPUT, 1, 0)
#define IDS(nm, sp) ARRAY_(nm, sp, ROLE_IDS, 0, 0)
#define GRAD(nm, sp) ARRAY_(nm, sp, ROLE_OUTPUT, 0, 0)
#define OPT_GRAD(nm, sp) ARRAY_(nm, sp, ROLE_OUTPUT, 1, 1)
#define ANY_ARRAY(nm, role) {nm, ARG_ANY_ARRAY, "*", role, 0, 0, 0}
/* The rest. */
#define ACTIVATION {"activation", ARG_ACTIVATION, NULL, 0, 0, 1, 0}
#define ACCUMULATE {"accumulate", ARG_BOOL, NULL, 0, 0, 1, 0}
#define IGNORE_LABEL {"ignore_label", ARG_INDEX, NULL, 0, 1, 1, -1}
#define BOOL_ARG(nm, dflt) {nm, ARG_BOOL, NULL, 0, 0, 1, dflt}
#define FLOAT_ARG(nm) {nm, ARG_FLOAT, NULL, 0, 0, 0, 0}
#define FLOAT_DEFAULT(nm, dflt) {nm, ARG_FLOAT, NULL, 0, 0, 1, dflt}
#define OUT_BUFFER(nm) {nm, ARG_BUFFER, NULL, 0, 1, 1, 0}

/* What a function returns, in order: arrays shaped by the call's sizes (made
 * by call_results, C-contiguous, the compute dtype), written into the
 * caller's out= array when `into` names one and it is not None; or the loss,
 * a float the binding computes (spec NULL). */
typedef struct {
    const char *name;
    const char *spec;
    const char *into;
} ResultSpec;
#define RESULT(nm, sp) {nm, sp, NULL}
#define RESULT_INTO(nm, sp, arg) {nm, sp, arg}
#define LOSS(nm) {nm, NULL, NULL}

#define RS_MAX_ARGS 20 /* arguments of one function */
#define RS_MAX_OUTS 4  /* results of one function */
#define RS_MAX_ND 8    /* dimensions of one spec */

typedef struct Call Call;

/* One _core function: the one place its arguments are written. */
typedef struct {
    const char *name;
    PyObject *(*body)(Call *c); /* dims -> results -> ready -> kernel -> finish */
    PyMethodDef def;            /* its method entry (set by CORE_FN; ml_doc at import) */
    const char *doc;            /* what it does: its docstring after the signature line,
                                   which is made from the table at import */
    const char *returns_text;   /* the signature's "-> ..." when no result is in the table */
    const char *kernel;         /* the kernel it runs (kernel_f32 / kernel_f64) */
    /* The arrays in the order they are checked: the first that shows a letter
       fixes it, so this order decides which argument an error blames. NULL:
       the PARAMs, then the other arrays, each in Python order; else these
       names (space-separated) first, then that default order for the rest. */
    const char *order;
    ArgSpec args[RS_MAX_ARGS];  /* in Python order, up to the first {NULL} */
    ResultSpec results[RS_MAX_OUTS];
    /* filled at import by args_check_tables */
    int nargs, nres, narrays;
    signed char check[RS_MAX_ARGS]; /* check[k]: the Python index of the k-th array checked */
    signed char slot[RS_MAX_ARGS];  /* slot[p]: where argument p is checked (-1: not an array) */
} CoreFn;

/* A _core function `fname`: its table (fname_fn, the designated initializers
 * after the name), the C function Python calls (parse, prepare, then the
 * body), and the body's declaration; the binding then defines
 *     static PyObject *fname_body(Call *c) { ... }
 */
#define CORE_FN(fname, ...) \
    static PyObject *fname##_body(Call *c); \
    static CoreFn fname##_fn; \
    static PyObject *py_##fname(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
                                PyObject *kwnames) \
    { \
        return call_run(&fname##_fn, args, nargs, kwnames); \
    } \
    static CoreFn fname##_fn = { \
        .name = #fname, \
        .body = fname##_body, \
        .def = {#fname, (PyCFunction)(void (*)(void))py_##fname, \
                METH_FASTCALL | METH_KEYWORDS, NULL}, \
        __VA_ARGS__}

struct Call {
    CoreFn *fn;
    const char *function;
    const ArgSpec *spec[RS_MAX_ARGS]; /* the arrays, in check order */
    int n;
    PyObject *given[RS_MAX_ARGS];     /* borrowed, by Python position; NULL = left out */
    Py_ssize_t ival[RS_MAX_ARGS];     /* the converted scalars, by Python position: */
    double num[RS_MAX_ARGS];          /* ARG_FLOAT in num, the others in ival */
    PyObject *obj[RS_MAX_ARGS];       /* borrowed, by check order; NULL/None = absent */
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
    signed char res_out[RS_MAX_OUTS]; /* result r of the table is out[res_out[r]] */
    void *work;                       /* from rs_ws_get */
    ptrdiff_t count;                  /* a loss kernel's count of labels */
};

/* A call of fn: parse (positional and keyword, CPython's messages), the
   scalars converted, the arrays prepared (call_prepare), then fn->body. */
PyObject *call_run(CoreFn *fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
npy_intp call_dim(const Call *c, char letter);
/* The kernel's pointer for the array argument or result `name` (NULL when
   absent). Plain C: may be called without the GIL. A name the table does not
   have is a bug of the binding: a fatal error on its first call. */
void *call_data(const Call *c, const char *name);
/* the converted array of argument `name` (C-contiguous, compute dtype or intp) and the
   array as the caller's object converted (call_prepare's step 1); NULL when absent */
PyArrayObject *call_conv(const Call *c, const char *name);
PyArrayObject *call_array(const Call *c, const char *name);
/* a scalar argument: ARG_ACTIVATION, ARG_BOOL, ARG_INDEX as an integer, ARG_FLOAT as is */
Py_ssize_t call_int(const Call *c, const char *name);
double call_float(const Call *c, const char *name);
/* the object the caller passed for `name` (borrowed; NULL when left out) */
PyObject *call_object(const Call *c, const char *name);
/* the results of the table (call_output / call_output_into for each array
   result, in order); 0, or -1 with everything released */
int call_results(Call *c);
/* `count` elements of the compute dtype, 64-byte aligned; NULL (MemoryError,
   everything released) when count < 0 (the work-size functions' overflow) or
   memory is short */
void *call_work(Call *c, ptrdiff_t count);
/* gradients zeroed, or kept when the table has `accumulate` and it is true;
   then everything verified once more. 0, or -1 with everything released */
int call_ready(Call *c);
PyObject *call_finish(Call *c);
/* release everything; returns NULL (for `return call_fail(&c);`) */
PyObject *call_fail(Call *c);

/* The float or double kernel, by the compute dtype; every array argument is
   a void * (call_data), so one call serves both. */
#define CALL_KERNEL(c, kernel, ...) \
    ((c)->typenum == NPY_FLOAT ? kernel##_f32(__VA_ARGS__) : kernel##_f64(__VA_ARGS__))
/* a kernel's work size for the compute dtype: WORK_SIZE(c, time_rnn_backward, N, T, D, H) */
#define WORK_SIZE(c, kernel, ...) \
    ((c)->typenum == NPY_FLOAT ? (ptrdiff_t)kernel##_work_size_f32(__VA_ARGS__) \
                               : (ptrdiff_t)kernel##_work_size_f64(__VA_ARGS__))

/* ---- the body most functions have ----
 *
 *     KERNEL_BODY(time_rnn_forward, WORK_SIZE(c, time_rnn_forward, N, T, D, H),
 *                 time_rnn_forward, DATA("hs"), WORK, DATA("xs"), ..., N, T, D, H, ACT)
 *
 * defines time_rnn_forward_body: the sizes N, T, S, D, H, V (as the shapes
 * fixed them; -1 for a letter the table does not use), the table's results,
 * a workspace of `work` elements (0: none), call_ready, the kernel with these
 * arguments without the GIL, call_finish. LOSS_BODY: the same for a kernel
 * that returns the loss (a double; its count of labels in COUNT), returned
 * as (loss, the arrays). */
#define DATA(name) call_data(c, name)
#define WORK (c->work)
#define COUNT (&c->count)
#define ACT ((int)call_int(c, "activation"))
#define IGNORE ((npy_intp)call_int(c, "ignore_label"))
#define BODY_(fname, work_size, ...) \
    static PyObject *fname##_body(Call *c) \
    { \
        const npy_intp N = call_dim(c, 'N'), T = call_dim(c, 'T'), S = call_dim(c, 'S'), \
                       D = call_dim(c, 'D'), H = call_dim(c, 'H'), V = call_dim(c, 'V'); \
        (void)N, (void)T, (void)S, (void)D, (void)H, (void)V; \
        if (call_begin(c, (work_size)) < 0) return NULL; \
        double loss = 0; \
        Py_BEGIN_ALLOW_THREADS \
        __VA_ARGS__; \
        Py_END_ALLOW_THREADS \
        return call_end(c, loss); \
    }
#define KERNEL_BODY(fname, work_size, kernel, ...) \
    BODY_(fname, work_size, CALL_KERNEL(c, kernel, __VA_ARGS__))
#define LOSS_BODY(fname, work_size, kernel, ...) \
    BODY_(fname, work_size, loss = CALL_KERNEL(c, kernel, __VA_ARGS__))
/* call_results, a workspace of `count` elements when count != 0 (WORK),
   call_ready: 0, or -1 with everything released */
int call_begin(Call *c, ptrdiff_t count);
/* call_finish; with a LOSS result in the table, (loss, what it returns) */
PyObject *call_end(Call *c, double loss);

/* ---- small parsers shared by the bindings ---- */

/* an int (not a bool) named `name` that fits in a Py_ssize_t; -1 with the error set */
int parse_index(PyObject *obj, const char *name, Py_ssize_t *out);
/* the same, for a C long in [lo, hi] */
int parse_long(PyObject *obj, const char *name, long lo, long hi, long *out);
/* a tuple of an array's shape (new reference) */
PyObject *shape_tuple(PyArrayObject *a);
/* whether the byte ranges of two arrays' elements overlap */
int args_overlap(PyArrayObject *a, PyArrayObject *b);

/* At import: every table's specs parse, letters are A-Z, no name repeats,
   `order` names arrays, results are fixed by the arguments' letters; fills
   the computed fields. -1 with a SystemError naming the function otherwise. */
int args_check_tables(CoreFn *const *fns);
/* _core._signatures(): every table, for the contract test and the .pyi */
PyObject *args_signatures(CoreFn *const *fns);
/* At import: what the machinery needs from NumPy (cached, so nothing is
   looked up at call time). */
int args_init(void);

#endif
