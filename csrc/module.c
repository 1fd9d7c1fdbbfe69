/* module.c -- rnnscratch._core: assembles the module from the binding files.
 *
 * The layers of the C side:
 *   kernels   rnn.c, lstm.c, gru.c, lm.c, gemm.c, act.c, sgd.c, threads.c (plain C, no Python.h)
 *   machinery args.h/args.c: argument tables, conversion, dtype rule, shapes,
 *             overlaps, write-back (the only other file that knows NumPy)
 *   bindings  bind_<family>.c: one per layer family, each with its method table
 *             and its argument tables (bindings.h lists them)
 *   module    this file: the module definition, its constants, and the check
 *             of every argument table at import
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

static const struct {
    PyMethodDef *methods;
    const ArgTable *tables;
} FAMILIES[] = {
    {rs_rnn_methods, rs_rnn_tables},
    {rs_gated_methods, rs_gated_tables},
    {rs_lm_methods, rs_lm_tables},
    {rs_attention_methods, rs_attention_tables},
    {rs_util_methods, rs_util_tables},
};

static int core_exec(PyObject *m)
{
    (void)rs_par_min_flops(); /* read RNNSCRATCH_PAR_FLOPS now, before any kernel runs */
    if (_import_array() < 0) return -1;
    if (args_init() < 0) return -1;
    (void)rs_cpu_best_path();
    for (size_t i = 0; i < sizeof(FAMILIES) / sizeof(FAMILIES[0]); i++) {
        if (args_check_tables(FAMILIES[i].tables) < 0) return -1;
        if (PyModule_AddFunctions(m, FAMILIES[i].methods) < 0) return -1;
    }
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
