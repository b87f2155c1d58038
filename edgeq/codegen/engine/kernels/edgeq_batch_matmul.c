/*
 * edgeq_batch_matmul.c -- part of edgeq; copied unchanged into generated engines.
 *
 * BATCH_MATMUL of two int8 tensors as TFLM's reference kernel computes it:
 * output[b][i][j] = sum over k of (lhs[b][i][k] - lhs zero point) *
 * (rhs[b][k][j] - rhs zero point), requantized with one per-tensor multiplier
 * (MultiplyByQuantizedMultiplier), plus the output zero point, clamped to int8
 * (the op has no fused activation). adj_x / adj_y and broadcast batch
 * dimensions are strides and per-batch offsets the generator computes, so the
 * kernel reads the operands where they are, without transposing them.
 */
#include "edgeq_kernels.h"

static int32_t eq_bmm_dot(const eq_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs) {
    int32_t acc = 0;
    int32_t k;
    for (k = 0; k < p->depth; ++k) {
        const int32_t a = (int32_t)lhs[(size_t)k * (size_t)p->lhs_depth_stride] + p->lhs_offset;
        const int32_t b = (int32_t)rhs[(size_t)k * (size_t)p->rhs_depth_stride] + p->rhs_offset;
        acc += a * b;
    }
    return acc;
}

void eq_batch_matmul_s8(const eq_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out) {
    int32_t b, i, j;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *l = lhs + p->lhs_batch[b];
        const int8_t *r = rhs + p->rhs_batch[b];
        for (i = 0; i < p->rows; ++i) {
            for (j = 0; j < p->cols; ++j) {
                const int32_t acc =
                    eq_bmm_dot(p, l + (size_t)i * (size_t)p->lhs_row_stride, r + (size_t)j * (size_t)p->rhs_col_stride);
                int32_t y = eq_mul_by_quantized_mult_fast(acc, p->mult, p->shift) + p->out_offset;
                y = y < -128 ? -128 : (y > 127 ? 127 : y);
                *out++ = (int8_t)y;
            }
        }
    }
}
