/* bind_attention.c -- _core bindings of the attention (chapter 8): the
 * attention weight, the weight sum, and both over a decoder sequence.
 * Kernels: attention.h. Machinery and the table format: args.h.
 *
 * The encoder and decoder states choose the compute dtype (they are PARAMs in
 * the tables: float32 when both are float16/float32, else float64); the
 * weights and upstream gradients are cast to it. S is the encoder's length,
 * T the decoder's. */
#include "args.h"
#include "bindings.h"
#include "attention.h"

CORE_FN(attention_weight_forward,
    .kernel = "attention_weight_forward",
    .args = {HS_ENC, HS_DEC},
    .results = {RESULT("a", "N T S")},
    .doc = "a (N,T,S)[n,t,:] = softmax over i of sum_h hs_enc (N,S,H)[n,i,h] * hs_dec (N,T,H)[n,t,h].");

KERNEL_BODY(attention_weight_forward, 0, attention_weight_forward,
            DATA("a"), DATA("hs_enc"), DATA("hs_dec"), N, S, T, H)

CORE_FN(weight_sum_forward,
    .kernel = "weight_sum_forward",
    .args = {HS_ENC, INPUT("a", "N T S")},
    .results = {RESULT("c", "N T H")},
    .doc = "c (N,T,H)[n,t,:] = sum_i a (N,T,S)[n,t,i] * hs_enc (N,S,H)[n,i,:].\n"
           "hs_enc chooses the compute dtype; a is cast to it.");

KERNEL_BODY(weight_sum_forward, 0, weight_sum_forward,
            DATA("c"), DATA("hs_enc"), DATA("a"), N, S, T, H)

CORE_FN(time_attention_forward,
    .kernel = "time_attention_forward",
    .args = {HS_ENC, HS_DEC},
    .results = {RESULT("c", "N T H"), RESULT("a", "N T S")},
    .doc = "Attention of every decoder step at once: a (N,T,S) as attention_weight_forward,\n"
           "c (N,T,H) = weight_sum_forward(hs_enc, a); the same numbers as the two calls.\n"
           "hs_enc (N,S,H) the encoder's states, hs_dec (N,T,H) the decoder's.");

KERNEL_BODY(time_attention_forward, 0, time_attention_forward,
            DATA("c"), DATA("a"), DATA("hs_enc"),
            DATA("hs_dec"), N, S, T, H)

CORE_FN(weight_sum_backward,
    .kernel = "weight_sum_backward",
    .args = {INPUT("dc", "N T H"), HS_ENC, INPUT("a", "N T S")},
    .results = {RESULT("dhs_enc", "N S H"), RESULT("da", "N T S")},
    .doc = "Backward of weight_sum_forward: dhs_enc (N,S,H)[n,i,:] = sum_t a[n,t,i] * dc[n,t,:],\n"
           "da (N,T,S)[n,t,i] = sum_h dc (N,T,H)[n,t,h] * hs_enc[n,i,h].");

KERNEL_BODY(weight_sum_backward, 0, weight_sum_backward,
            DATA("dhs_enc"), DATA("da"), DATA("dc"),
            DATA("hs_enc"), DATA("a"), N, S, T, H)

CORE_FN(attention_weight_backward,
    .kernel = "attention_weight_backward",
    .args = {INPUT("da", "N T S"), HS_ENC, HS_DEC, INPUT("a", "N T S")},
    .results = {RESULT("dhs_enc", "N S H"), RESULT("dhs_dec", "N T H")},
    .doc = "Backward of attention_weight_forward, a (N,T,S) its output, da (N,T,S) the\n"
           "upstream gradient: ds = a*da - a*sum_i(a*da) (the softmax's backward), then\n"
           "dhs_enc (N,S,H) = sum_t ds[:,t,:,None] * hs_dec[:,t,None,:], dhs_dec (N,T,H) = ds @ hs_enc.");

KERNEL_BODY(attention_weight_backward, WORK_SIZE(c, time_attention_backward, N, S, T, H),
            attention_weight_backward,
            DATA("dhs_enc"), DATA("dhs_dec"), WORK, DATA("da"),
            DATA("hs_enc"), DATA("hs_dec"), DATA("a"), N, S, T, H)

CORE_FN(time_attention_backward,
    .kernel = "time_attention_backward",
    .args = {INPUT("dc", "N T H"), HS_ENC, HS_DEC, INPUT("a", "N T S")},
    .results = {RESULT("dhs_enc", "N S H"), RESULT("dhs_dec", "N T H")},
    .doc = "Backward of time_attention_forward, a (N,T,S) the weights it returned, dc (N,T,H)\n"
           "the upstream gradient of c. dhs_enc (N,S,H) is summed over the decoder's steps\n"
           "(the weight sum's part plus the weights' part), dhs_dec (N,T,H) per step.");

KERNEL_BODY(time_attention_backward, WORK_SIZE(c, time_attention_backward, N, S, T, H),
            time_attention_backward,
            DATA("dhs_enc"), DATA("dhs_dec"), WORK, DATA("dc"),
            DATA("hs_enc"), DATA("hs_dec"), DATA("a"), N, S, T, H)

CoreFn *const rs_attention_fns[] = {
    &attention_weight_forward_fn,
    &weight_sum_forward_fn,
    &time_attention_forward_fn,
    &weight_sum_backward_fn,
    &attention_weight_backward_fn,
    &time_attention_backward_fn,
    NULL,
};
