/*
 * edgeq_kernels.h -- part of edgeq; copied unchanged into generated engines.
 *
 * The int8 kernel library of the edgeq compiled engine. Plain C99: no malloc,
 * no printf, no recursion, no float in the int8 path. Every kernel computes
 * exactly what TensorFlow Lite Micro's reference kernels compute (the integer
 * rules of shared/specs/int8-arithmetic.md), so outputs are bit-identical.
 *
 * Layouts: activations NHWC with batch 1 unless a kernel says otherwise;
 * CONV_2D weights [out_c][k_h][k_w][in_c]; DEPTHWISE_CONV_2D weights
 * [k_h][k_w][out_c]; FULLY_CONNECTED weights [out][in].
 * Requantization: real multiplier = mult * 2^(shift - 31), shift > 0 is a
 * left shift (TFLite's convention); per-channel kernels take arrays.
 * Parameters come in `static const` structs the generator fills with literals.
 */
#ifndef EDGEQ_KERNELS_H
#define EDGEQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EQ_ALIGN16 __attribute__((aligned(16)))
#else
#define EQ_ALIGN16
#endif

/* ---- fixed-point helpers (edgeq_requant.c) ---- */
int32_t eq_srdhm(int32_t a, int32_t b);                       /* SaturatingRoundingDoublingHighMul */
int32_t eq_rdbpot(int32_t x, int exponent);                   /* RoundingDivideByPOT, exponent 0..31 */
int32_t eq_mbqm(int32_t x, int32_t multiplier, int32_t shift); /* MultiplyByQuantizedMultiplier */
/* Fixed-point helpers of the SOFTMAX / LOGISTIC / TANH kernels (gemmlowp's algorithms). */
int32_t eq_fp_shl_sat(int32_t x, int e);                          /* x * 2^e, e in 1..30, saturating */
int32_t eq_fp_exp_on_negative_values(int32_t a, int integer_bits); /* exp(a), a <= 0; Q0.31 result */
int32_t eq_fp_reciprocal_q2(int32_t a);                           /* 1 / (1 + a), a in [0, 1): Q2.29 */

/* ---- convolution family (edgeq_conv.c) ---- */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_offset;   /* -input zero point */
    int32_t out_offset;  /* output zero point */
    int32_t act_min, act_max;
    int32_t depth_multiplier; /* depthwise only */
} eq_conv_params;

/* bias may be NULL; mult/shift have out_c entries (per-tensor: the same value repeated). */
void eq_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int8_t *out);
void eq_depthwise_conv2d_s8(const eq_conv_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int8_t *out);
/* 1x1 CONV_2D without padding: weights transposed to [in_c][out_c], and bias[oc] holding
   bias + in_offset * sum(w[oc]) (the generator prepares both); in_offset is not read. */
void eq_conv1x1_s8(const eq_conv_params *p, const int8_t *in, const int8_t *wt, const int32_t *bias,
                   const int32_t *mult, const int32_t *shift, int8_t *out);


typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t in_offset;     /* -input zero point */
    int32_t weight_offset; /* -weight zero point (0 for int8 symmetric weights) */
    int32_t out_offset;
    int32_t act_min, act_max;
    int32_t per_channel;   /* 0: mult[0]/shift[0] for every output */
} eq_fc_params;

void eq_fully_connected_s8(const eq_fc_params *p, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, int8_t *out);

/* ---- pooling (edgeq_pool.c) ---- */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
} eq_pool_params;

void eq_avg_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out);
void eq_max_pool_s8(const eq_pool_params *p, const int8_t *in, int8_t *out);

/* ---- elementwise (edgeq_elementwise.c) ---- */
typedef struct {
    int32_t size;            /* elements of the output */
    int32_t left_shift;      /* 20 for int8 ADD */
    int32_t in1_offset, in2_offset, out_offset;
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t act_min, act_max;
    /* broadcasting: for each output element the index of each input is computed from these
       4-D shapes and strides (stride 0 on broadcast axes); rank padded to 4. */
    int32_t broadcast;
    int32_t out_shape[4];
    int32_t in1_strides[4], in2_strides[4];
} eq_binary_params;

void eq_add_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);
/* One element of int8 ADD (a is input 1, b input 2), clamped: what eq_add_s8 stores. */
int8_t eq_add_value_s8(const eq_binary_params *p, int32_t a, int32_t b);

/* CONV_2D followed by an ADD of its output and a residual tensor of the same shape, computed
   in place: each output element is written over the residual element it was added to (read
   first), so the residual buffer becomes the output and the conv output never exists. The
   bytes are those of the two separate ops. conv_is_in1: the conv output is ADD's input 1. */
void eq_conv2d_add_s8(const eq_conv_params *p, const eq_binary_params *add, int32_t conv_is_in1, const int8_t *in,
                      const int8_t *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int8_t *residual_inout); /* edgeq_conv.c */
void eq_mul_s8(const eq_binary_params *p, const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- activations (edgeq_activations.c) ---- */
typedef struct {
    int32_t size;
    int32_t in_offset, out_offset;   /* -in zp, out zp */
    int32_t mult, shift;             /* identity rescale in -> out (RELU family, LEAKY_RELU x >= 0) */
    int32_t alpha_mult, alpha_shift; /* LEAKY_RELU x < 0 */
    int32_t act_min, act_max;
} eq_unary_params;

void eq_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);       /* RELU, RELU6, RELU_N1_TO_1 via act_min/act_max */
void eq_leaky_relu_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);

/* Softmax, logistic, tanh and hard swish follow TFLM's fixed-point algorithms; their
   parameter structs hold the values TFLM's Prepare computes, precomputed by edgeq. */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
} eq_softmax_params;
void eq_softmax_s8(const eq_softmax_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t size;
    int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift;
} eq_sigmoid_params;
void eq_logistic_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out);
void eq_tanh_s8(const eq_sigmoid_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t size;
    int32_t input_zero_point, output_zero_point;
    int32_t reluish_multiplier_fixedpoint_int16, reluish_multiplier_exponent;
    int32_t output_multiplier_fixedpoint_int16, output_multiplier_exponent;
} eq_hard_swish_params;
void eq_hard_swish_s8(const eq_hard_swish_params *p, const int8_t *in, int8_t *out);

/* ---- data movement (edgeq_data.c) ---- */
void eq_copy(const void *in, void *out, size_t bytes); /* RESHAPE / SQUEEZE / EXPAND_DIMS when not aliased */

typedef struct {
    int32_t in_shape[4], out_shape[4];
    int32_t before[4];       /* padding before each axis (after) implied by out_shape */
    int32_t pad_value;       /* the output zero point for PAD, or the constant of PADV2 */
} eq_pad_params;
void eq_pad_s8(const eq_pad_params *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t outer, inner_out;   /* product of dims before the axis; out axis size * inner */
    int32_t inputs;
    const int32_t *inner_in;    /* per input: its axis size * inner */
    const int32_t *mult, *shift, *in_offset; /* per input requantization (mult 0: plain copy) */
    int32_t out_offset;
} eq_concat_params;
void eq_concat_s8(const eq_concat_params *p, const int8_t *const *inputs, int8_t *out);

typedef struct {
    int32_t in_shape[4];       /* rank padded to 4 */
    int32_t start[4], stop[4], step[4];
    int32_t out_size;
} eq_slice_params;
void eq_strided_slice_s8(const eq_slice_params *p, const int8_t *in, int8_t *out);

/* MEAN over spatial axes (H, W) of an NHWC tensor, keep_dims or not (same data layout). TFLM
   requantizes sum - in_zp * count even when input and output quantization are equal. */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t in_zero_point, out_zero_point;
    int32_t mult, shift;  /* in_scale / out_scale with 1 / (in_h * in_w) folded in, as TFLM folds it */
} eq_mean_params;
void eq_mean_hw_s8(const eq_mean_params *p, const int8_t *in, int8_t *out);

/* ---- edges of float-I/O models (edgeq_quant.c; the only float code, outside the int8 path) ---- */
typedef struct {
    int32_t size;
    float scale;       /* quantize: 1/scale is NOT used; TFLM divides */
    int32_t zero_point;
    int32_t qmin, qmax;
} eq_quant_params;
void eq_quantize_f32_s8(const eq_quant_params *p, const float *in, int8_t *out);
void eq_dequantize_s8_f32(const eq_quant_params *p, const int8_t *in, float *out);
/* int8 -> int8 QUANTIZE (requantization) */
void eq_requantize_s8(const eq_unary_params *p, const int8_t *in, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* EDGEQ_KERNELS_H */
