/* sgd.c -- float and double instances of sgd_impl.h. */
#include "compat.h"
#include "sgd.h"

/* lr*grad must be rounded before the subtraction, as NumPy does (gcc does not
   contract a*b+c in ISO C mode; clang does unless told not to). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define RS_TEMPLATE "sgd_impl.h"
#include "template.h"
