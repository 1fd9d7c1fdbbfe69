/* act_types.h -- what differs between float and double in act_impl.h:
 * constants, polynomial coefficients (see act.c for how they were computed),
 * and the names of the intrinsics (_ps/_pd, epi32/epi64). Included by
 * act_impl.h at its start, and again with RS_ACT_TYPES_UNDEF at its end. */
#ifndef RS_ACT_TYPES_UNDEF
#if !RS_F64
#define UREAL uint32_t                  /* unsigned integer of the same size */
#define RS_FABS fabsf
#define RS_COPYSIGN copysignf
#define RS_MANT_BITS 23
#define RS_MAGIC 0x1.8p23f              /* x + MAGIC rounds x to an integer */
#define RS_LOG2E 1.44269504088896341f
#define RS_LN2HI 0.693359375f           /* 9 significant bits: k*LN2HI exact */
#define RS_LN2LO (-2.12194440054690583e-4f)
#define RS_EXP_COEFS                    /* e^r = 1 + r + r^2 (c0 + c1 r + ...) */ \
    0.4999999345168878242f, 0.1666652068981918854f, 0.04166838736293359757f, \
    0.008368709826656567284f, 0.001381461327062845092f
#define RS_TANH_SMALL 0.55f             /* below: polynomial */
#define RS_TANH_CLAMP 10.0f             /* tanh(x) rounds to 1 beyond 9.02 */
#define RS_TANH_COEFS                   /* tanh a = a + a^3 (c0 + c1 a^2 + ...) */ \
    -0.3333331755966068909f, 0.1333258613834321246f, -0.05385230990763922125f, \
    0.02107167907647938893f, -0.006274239584466113741f
#define RS_SIG_CLAMP 104.0f             /* e^-104 rounds to 0 in float */
#if RS_X86_DISPATCH
#  define MM256(op) _mm256_##op##_ps
#  define MM512(op) _mm512_##op##_ps
#  define MM256I(op) _mm256_##op##_epi32
#  define MM512I(op) _mm512_##op##_epi32
#  define MM256_TOI _mm256_castps_si256
#  define MM256_TOV _mm256_castsi256_ps
#  define MM512_TOI _mm512_castps_si512
#  define MM512_TOV _mm512_castsi512_ps
#  define MM512_CMP _mm512_cmp_ps_mask
#  define MM512_SIGNS _mm512_movepi32_mask
#  define RS_M256 __m256
#  define RS_M512 __m512
#endif
#if RS_ARM_NEON
#  define NQF(op) op##q_f32                /* vaddq_f32 */
#  define NQU(op) op##q_u32
#  define N_DUP vdupq_n_f32
#  define N_F2U vreinterpretq_u32_f32
#  define N_U2F vreinterpretq_f32_u32
#  define N_SIGNS(x) vreinterpretq_u32_s32(vshrq_n_s32(vreinterpretq_s32_f32(x), 31))
#  define N_SHL_MANT(u) vshlq_n_u32(u, 23)
#  define RS_NV float32x4_t
#endif
#else /* double */
#define UREAL uint64_t
#define RS_FABS fabs
#define RS_COPYSIGN copysign
#define RS_MANT_BITS 52
#define RS_MAGIC 0x1.8p52
#define RS_LOG2E 1.44269504088896340736
#define RS_LN2HI 6.93147180369123816490e-01 /* 32 significant bits (fdlibm) */
#define RS_LN2LO 1.90821492927058770002e-10
#define RS_EXP_COEFS \
    0.500000000000001061681, 0.1666666666666641277208, 0.04166666666653026542658, \
    0.008333333333494335824038, 0.001388888894359785174024, \
    0.0001984126950677314791047, 0.00002480149313602288903358, \
    0.000002755758627246771078802, 2.763023397782975435608e-7, \
    2.50000703111893286556e-8
#define RS_TANH_SMALL 0.55
#define RS_TANH_CLAMP 20.0              /* tanh(x) rounds to 1 beyond 19.1 */
#define RS_TANH_COEFS \
    -0.333333333333332984148, 0.1333333333332662075703, -0.0539682539637605855436, \
    0.02186948838585532642491, -0.008863232601435028358885, \
    0.003592092030386677534239, -0.00145554284550120763681, \
    0.0005884444854066732872489, -0.0002333815637575807075277, \
    0.0000833164458669858246245, -0.00001949468689829133025717
#define RS_SIG_CLAMP 746.0              /* e^-746 rounds to 0 in double */
#if RS_X86_DISPATCH
#  define MM256(op) _mm256_##op##_pd
#  define MM512(op) _mm512_##op##_pd
#  define MM256I(op) _mm256_##op##_epi64
#  define MM512I(op) _mm512_##op##_epi64
#  define MM256_TOI _mm256_castpd_si256
#  define MM256_TOV _mm256_castsi256_pd
#  define MM512_TOI _mm512_castpd_si512
#  define MM512_TOV _mm512_castsi512_pd
#  define MM512_CMP _mm512_cmp_pd_mask
#  define MM512_SIGNS _mm512_movepi64_mask
#  define RS_M256 __m256d
#  define RS_M512 __m512d
#endif
#if RS_ARM_NEON
#  define NQF(op) op##q_f64
#  define NQU(op) op##q_u64
#  define N_DUP vdupq_n_f64
#  define N_F2U vreinterpretq_u64_f64
#  define N_U2F vreinterpretq_f64_u64
#  define N_SIGNS(x) vreinterpretq_u64_s64(vshrq_n_s64(vreinterpretq_s64_f64(x), 63))
#  define N_SHL_MANT(u) vshlq_n_u64(u, 52)
#  define RS_NV float64x2_t
#endif
#endif
#else /* RS_ACT_TYPES_UNDEF */
#undef UREAL
#undef RS_FABS
#undef RS_COPYSIGN
#undef RS_MANT_BITS
#undef RS_MAGIC
#undef RS_LOG2E
#undef RS_LN2HI
#undef RS_LN2LO
#undef RS_EXP_COEFS
#undef RS_TANH_SMALL
#undef RS_TANH_CLAMP
#undef RS_TANH_COEFS
#undef RS_SIG_CLAMP
#undef MM256
#undef MM512
#undef MM256I
#undef MM512I
#undef MM256_TOI
#undef MM256_TOV
#undef MM512_TOI
#undef MM512_TOV
#undef MM512_CMP
#undef MM512_SIGNS
#undef RS_M256
#undef RS_M512
#undef NQF
#undef NQU
#undef N_DUP
#undef N_F2U
#undef N_U2F
#undef N_SIGNS
#undef N_SHL_MANT
#undef RS_NV
#undef RS_ACT_TYPES_UNDEF
#endif
