/* attention.h -- the attention of chapter 8 (seq2seq with attention), float
 * and double: a decoder attends to the encoder's hidden states.
 *
 * Shapes: N batch, S encoder (source) steps, T decoder steps, H hidden units.
 * Layout batch-first, C-contiguous: hs_enc (N,S,H), hs_dec (N,T,H),
 * a (N,T,S), c (N,T,H). For every batch row n and decoder step t:
 *
 *   attention weight:  s[n,t,i] = Σ_h hs_enc[n,i,h] · hs_dec[n,t,h]
 *                      a[n,t,:] = softmax over i of s[n,t,:]   (max-subtracted)
 *   weight sum:        c[n,t,:] = Σ_i a[n,t,i] · hs_enc[n,i,:]
 *
 * Backward, the book's per-step arithmetic summed over t (its TimeAttention
 * adds the encoder gradient of every step):
 *
 *   weight sum:        da[n,t,i]      = Σ_h dc[n,t,h] · hs_enc[n,i,h]
 *                      dhs_enc[n,i,:] = Σ_t a[n,t,i] · dc[n,t,:]
 *   attention weight:  ds[n,t,i]      = a·da - a · Σ_i' a·da      (softmax backward)
 *                      dhs_enc[n,i,:] = Σ_t ds[n,t,i] · hs_dec[n,t,:]
 *                      dhs_dec[n,t,:] = Σ_i ds[n,t,i] · hs_enc[n,i,:]
 *   time attention:    both, dhs_enc the sum of the two.
 *
 * Outputs first, then the workspace, then inputs, then sizes. Every output is
 * written (not accumulated). Each batch row is computed by one thread (its
 * products: (T,H)·(H,S) as row-by-row dots, the others with the package gemm),
 * rows split over the thread pool: results do not depend on the thread count.
 * They do depend on the SIMD path (fused multiply-adds on AVX2/AVX-512, as in
 * the gemm). The softmax rows use act.h's fixed-order row helpers. Any size may be 0 (S = 0:
 * a and c are empty / zero; H = 0: a is uniform, 1/S).
 */
#ifndef RNNSCRATCH_ATTENTION_H
#define RNNSCRATCH_ATTENTION_H

#include <stddef.h>

#define RS_TEMPLATE "attention_decl.h"
#include "template.h"

#endif
