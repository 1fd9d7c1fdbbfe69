/* module.c -- rnnscratch._core: assembles the module from the binding files.
 *
 * The layers of the C side:
 *   kernels   rnn.c, lstm.c, gru.c, lm.c, gemm.c, act.c, sgd.c, threads.c (plain C, no Python.h)
 *   machinery args.h/args.c: argument tables, conversion, dtype rule, shapes,
 *             overlaps, write-back (the only other file that knows NumPy)
 *   bindings  bind_<family>.c: one per layer family, each function one table
 *             (CoreFn: arguments, results, kernel) and one body
 *   module    this file: the module definition, its constants, the check of
 *             every table at import, and _signatures(), the tables for Python
 *
 * Adding a layer family: a kernel file (and its template), a bind_<family>.c,
 * one line in bindings.h and one in FAMILIES below.
 */
#define RS_NO_IMPORT_ARRAY /* this file owns NumPy's API table */
#include "args.h"
#include "bindings.h"
#include "compat.h"
#include "threads.h"
#include "blas.h"
#include "gemm.h"

static CoreFn *const *const FAMILIES[] = {
    rs_rnn_fns, rs_gated_fns, rs_lm_fns, rs_attention_fns, rs_util_fns,
};
#define NFAMILIES (sizeof(FAMILIES) / sizeof(FAMILIES[0]))

static PyObject *py_signatures(PyObject *self, PyObject *noargs)
{
    PyObject *all = PyDict_New();
    for (size_t i = 0; all && i < NFAMILIES; i++) {
        PyObject *d = args_signatures(FAMILIES[i]);
        if (!d || PyDict_Update(all, d) < 0) Py_CLEAR(all);
        Py_XDECREF(d);
    }
    return all;
}

static PyMethodDef module_methods[] = {
    {"_signatures", py_signatures, METH_NOARGS,
     "_signatures() -> dict: every table of the module's functions (csrc/bind_*.c), for\n"
     "the contract test and _core.pyi: {name: {'args': [(name, kind, shape, role,\n"
     "nullable[, default])], 'returns': [(name, shape)], 'kernel': str, 'order': [the\n"
     "arrays in the order they are checked]}}."},
    {NULL, NULL, 0, NULL},
};

static int add_functions(PyObject *m, CoreFn *const *fns)
{
    PyObject *modname = PyModule_GetNameObject(m);
    if (!modname) return -1;
    int rc = args_check_tables(fns);
    for (CoreFn *const *f = fns; rc == 0 && *f; f++) {
        PyObject *func = PyCFunction_NewEx(&(*f)->def, m, modname);
        if (!func || PyModule_AddObject(m, (*f)->name, func) < 0) {
            Py_XDECREF(func);
            rc = -1;
        }
    }
    Py_DECREF(modname);
    return rc;
}

static int core_exec(PyObject *m)
{
    (void)rs_par_min_flops(); /* read RNNSCRATCH_PAR_FLOPS now, before any kernel runs */
    if (_import_array() < 0) return -1;
    if (args_init() < 0) return -1;
    (void)rs_cpu_best_path();
    for (size_t i = 0; i < NFAMILIES; i++)
        if (add_functions(m, FAMILIES[i]) < 0) return -1;
    if (PyModule_AddFunctions(m, rs_util_methods) < 0) return -1;
    if (PyModule_AddFunctions(m, module_methods) < 0) return -1;
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
    rs_blas_init();
    rs_gemm_init();
    if (PyModule_AddStringConstant(m, "blas", rs_blas_name()) < 0) return -1;
    if (PyModule_AddObject(m, "blas_min_flops", PyFloat_FromDouble(RS_BLAS_MIN_FLOPS)) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot core_slots[] = {{Py_mod_exec, (void *)core_exec}, {0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "rnnscratch._core",
    "C kernels of rnnscratch: the recurrent layers of the 'from scratch' courses and the "
    "language-model layers around them.",
    0, NULL, core_slots, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&core_module); }
