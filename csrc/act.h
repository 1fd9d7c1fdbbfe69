/* act.h -- elementwise activations over arrays, float and double.
 * y and x may be the same pointer (in place). n may be 0.
 *   tanh:    y = tanh(x)
 *   sigmoid: y = 1 / (1 + exp(-x))
 *   relu:    y = max(x, 0)   (NaN stays NaN)
 */
#ifndef RNNSCRATCH_ACT_H
#define RNNSCRATCH_ACT_H

#include <stddef.h>

enum rs_act { RS_ACT_TANH = 0, RS_ACT_RELU = 1, RS_ACT_SIGMOID = 2 };

void rs_tanh_f32(float *y, const float *x, ptrdiff_t n);
void rs_tanh_f64(double *y, const double *x, ptrdiff_t n);
void rs_sigmoid_f32(float *y, const float *x, ptrdiff_t n);
void rs_sigmoid_f64(double *y, const double *x, ptrdiff_t n);
void rs_relu_f32(float *y, const float *x, ptrdiff_t n);
void rs_relu_f64(double *y, const double *x, ptrdiff_t n);

#endif
