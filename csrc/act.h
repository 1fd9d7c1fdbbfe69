/* act.h -- elementwise activations over arrays, float and double.
 * y and x may be the same pointer (in place). n may be 0.
 *   tanh:    y = tanh(x)
 *   sigmoid: y = 1 / (1 + exp(-x))
 *   relu:    y = max(x, 0)   (NaN stays NaN, -0 gives +0)
 *
 * Vectorized: AVX-512 / AVX2+FMA paths chosen at run time (rs_get_path(), read
 * on every call), and a portable branch-free C path for any CPU. Whole range:
 * tanh(+-0) = +-0, tanh(x) = x for tiny x, exact saturation to +-1 (tanh) and
 * 0 / 1 (sigmoid), +-inf, NaN in -> NaN out. Max error measured against a
 * correctly rounded reference (float: all 2^32 inputs; double: 1e8 samples),
 * any path: tanh 1.54 ulp (float), 1.52 (double), sigmoid 1.48 ulp (float),
 * 1.37 ulp (double); glibc's own tanhf is 2.19 ulp on the same measure.
 * The paths may differ from each other in the last bit; each is deterministic
 * (no dependence on n, alignment or the position of an element).
 */
#ifndef RNNSCRATCH_ACT_H
#define RNNSCRATCH_ACT_H

#include <stddef.h>

/* Activation kinds. Any other value is treated as the identity. */
enum rs_act { RS_ACT_TANH = 0, RS_ACT_RELU = 1, RS_ACT_SIGMOID = 2,
              RS_ACT_EXP_NONPOS = 3 /* e^x for x <= 0: not an RNN activation */ };

void rs_tanh_f32(float *y, const float *x, ptrdiff_t n);
void rs_tanh_f64(double *y, const double *x, ptrdiff_t n);
void rs_sigmoid_f32(float *y, const float *x, ptrdiff_t n);
void rs_sigmoid_f64(double *y, const double *x, ptrdiff_t n);
void rs_relu_f32(float *y, const float *x, ptrdiff_t n);
void rs_relu_f64(double *y, const double *x, ptrdiff_t n);

/* y = e^x for x <= 0 (x > 0 gives 1; NaN stays NaN), <= 2 ulp: the exponential
   of softmax's x - max. Same vector paths as tanh and sigmoid. */
void rs_exp_nonpos_f32(float *y, const float *x, ptrdiff_t n);
void rs_exp_nonpos_f64(double *y, const double *x, ptrdiff_t n);

/* Softmax rows, in place (n >= 1 for the max). Sums and maxima run over 16
 * fixed lanes (element j in lane j % 16, each lane in order) combined in a
 * fixed order: the same order on every path, and results that depend neither
 * on n's alignment nor on the thread that runs them (the exponentials, like
 * the activations, may differ between paths in the last bit).
 *   rs_row_max_bias:  x += b (b may be NULL); returns max_j x[j]
 *   rs_row_exp_sum:   x = e^(x - m); returns sum_j x[j]
 *   rs_row_div_scale: x = (x / s) * scale                                    */
float rs_row_max_bias_f32(float *x, const float *b, ptrdiff_t n);
double rs_row_max_bias_f64(double *x, const double *b, ptrdiff_t n);
float rs_row_exp_sum_f32(float *x, float m, ptrdiff_t n);
double rs_row_exp_sum_f64(double *x, double m, ptrdiff_t n);
void rs_row_div_scale_f32(float *x, float s, float scale, ptrdiff_t n);
void rs_row_div_scale_f64(double *x, double s, double scale, ptrdiff_t n);

/* y = f(x), f chosen by act (enum rs_act). y may equal x. */
void rs_act_f32(float *y, const float *x, ptrdiff_t n, int act);
void rs_act_f64(double *y, const double *x, ptrdiff_t n, int act);

/* In place, one row of pre-activations: y = f(y + b).
 *   y: (n,)  in: pre-activation without bias; out: activation
 *   b: (n,)  bias, or NULL for none (then y = f(y))              */
void rs_act_bias_row_f32(float *y, const float *b, ptrdiff_t n, int act);
void rs_act_bias_row_f64(double *y, const double *b, ptrdiff_t n, int act);

/* Backward through the activation, from its stored output h:
 *   da = (dh + dh2) * f'(h),  f' = 1 - h*h (tanh), (1 - h) * h (sigmoid),
 *                                  (h > 0) (relu), 1 (identity)
 *   da:  (n,)  out; may be the same pointer as dh, dh2 or h
 *   dh:  (n,)  upstream gradient
 *   dh2: (n,)  second upstream gradient (e.g. from the next time step), or NULL
 *   h:   (n,)  the activation's forward output
 * The operations are done in the order written (no fused multiply-add), so the
 * result is bitwise that of the NumPy expression (dh + dh2) * (1 - h**2).   */
void rs_act_backward_row_f32(float *da, const float *dh, const float *dh2,
                             const float *h, ptrdiff_t n, int act);
void rs_act_backward_row_f64(double *da, const double *dh, const double *dh2,
                             const double *h, ptrdiff_t n, int act);

#endif
