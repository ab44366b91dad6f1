// Transformer nonlinear kernels in integers: RMSNorm/LayerNorm with an integer reciprocal
// square root, fixed-point RoPE, softmax attention by exp table, integer sum and one
// reciprocal per row, the SiLU-gated product and residual requantizers
// (docs/numerics.md, "Transformer integer numerics"). Every intermediate is proven below
// 2^62 at compile time, so these C-simulation kernels carry values in `long long`; the
// linears around them are the dsp_chain and lut_linear kernels.
#ifndef LUTFORGE_TRANSFORMER_H
#define LUTFORGE_TRANSFORMER_H

namespace lutforge {

typedef long long tf_int;

inline tf_int tf_clamp(tf_int v, tf_int lo, tf_int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// floor(sqrt(t)) by the bitwise method, exact for every t >= 0.
inline tf_int tf_isqrt(tf_int t) {
    tf_int r = 0, bit = tf_int(1) << 62;
    while (bit > t) bit >>= 2;
    while (bit != 0) {
        if (t >= r + bit) {
            t -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

// 1/sqrt(m) ~ r * 2^-(40 + half): m is shifted by an even 2*half into [2^30, 2^32)
// (flooring), u = isqrt of that, r = floor(2^40 / u).
inline void tf_reciprocal_sqrt(tf_int m, tf_int &r, int &half) {
    int length = 0;
    for (tf_int v = m; v != 0; v >>= 1) length++;
    int sh = length - 32;
    if (sh & 1) sh++;
    const tf_int t = sh >= 0 ? (m >> sh) : (m << -sh);
    r = (tf_int(1) << 40) / tf_isqrt(t);
    half = sh / 2;
}

inline tf_int tf_floor_div(tf_int a, tf_int n) { return a >= 0 ? a / n : -((-a + n - 1) / n); }

// One output of a norm over n integers: layer != 0 centres on the rounded mean first;
// y_i = clamp(((c_i * G_i * r + 2^(T-1)) >> T) + B_i), T = gshift + 40 + half.
inline void tf_norm(int layer, int n, const tf_int *x, tf_int eps, const tf_int *gains, const tf_int *biases, int gshift, tf_int lo,
                    tf_int hi, tf_int *y) {
    tf_int mean = 0;
    if (layer) {
        tf_int sum = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        mean = tf_floor_div(sum + n / 2, n);
    }
    tf_int m = eps;
    for (int i = 0; i < n; i++) m += (x[i] - mean) * (x[i] - mean);
    tf_int r;
    int half;
    tf_reciprocal_sqrt(m, r, half);
    const int t = gshift + 40 + half;
    const tf_int round = tf_int(1) << (t - 1);
    for (int i = 0; i < n; i++) y[i] = tf_clamp((((x[i] - mean) * gains[i] * r + round) >> t) + biases[i], lo, hi);
}

// RoPE (rotate-half) of `heads` heads of hd at position pos, in place; tables [pos][hd/2] at 2^14.
inline void tf_rope(tf_int *x, int heads, int hd, int pos, const tf_int *cos_t, const tf_int *sin_t, tf_int lo, tf_int hi) {
    const int half = hd / 2;
    for (int h = 0; h < heads; h++) {
        for (int i = 0; i < half; i++) {
            const tf_int a = x[h * hd + i], b = x[h * hd + half + i];
            const tf_int c = cos_t[pos * half + i], s = sin_t[pos * half + i];
            x[h * hd + i] = tf_clamp((a * c - b * s + (1 << 13)) >> 14, lo, hi);
            x[h * hd + half + i] = tf_clamp((b * c + a * s + (1 << 13)) >> 14, lo, hi);
        }
    }
}

// Parameters of one attention kernel.
struct tf_attention {
    int heads, kv_heads, hd;
    tf_int score_mult;
    int score_shift;
    const tf_int *exp_table;
    int exp_count;
    tf_int ctx_mult, ctx_offset;
    int ctx_shift;
    tf_int ctx_lo, ctx_hi;
};

// The context of query q over the cached keys/values ([pos][kv_heads*hd]) at the `count`
// positions `visible`: exp-table softmax with an integer sum, r = floor(2^31 / Z),
// p = (e*r + 2^15) >> 16, then sum p*v requantized.
inline void tf_attend(const tf_attention &a, const tf_int *q, const tf_int *keys, const tf_int *values, const int *visible, int count,
                      tf_int *scores, tf_int *e, tf_int *out) {
    const int hd = a.hd, group = a.heads / a.kv_heads, width = a.kv_heads * hd;
    const tf_int round = a.score_shift > 0 ? tf_int(1) << (a.score_shift - 1) : 0;
    for (int h = 0; h < a.heads; h++) {
        const int kh = h / group;
        tf_int best = 0;
        for (int n = 0; n < count; n++) {
            tf_int s = 0;
            for (int d = 0; d < hd; d++) s += q[h * hd + d] * keys[visible[n] * width + kh * hd + d];
            scores[n] = s;
            if (n == 0 || s > best) best = s;
        }
        tf_int z = 0;
        for (int n = 0; n < count; n++) {
            tf_int index = ((best - scores[n]) * a.score_mult + round) >> a.score_shift;
            if (index > a.exp_count - 1) index = a.exp_count - 1;
            e[n] = a.exp_table[index];
            z += e[n];
        }
        const tf_int r = (tf_int(1) << 31) / z;
        for (int n = 0; n < count; n++) e[n] = (e[n] * r + (1 << 15)) >> 16;
        for (int d = 0; d < hd; d++) {
            tf_int acc = 0;
            for (int n = 0; n < count; n++) acc += e[n] * values[visible[n] * width + kh * hd + d];
            out[h * hd + d] = tf_clamp((acc * a.ctx_mult + a.ctx_offset) >> a.ctx_shift, a.ctx_lo, a.ctx_hi);
        }
    }
}

// y = clamp((a*b*M + C) >> S): the SiLU-gated product.
inline void tf_gated(int n, const tf_int *a, const tf_int *b, tf_int m, tf_int c, int s, tf_int lo, tf_int hi, tf_int *y) {
    for (int i = 0; i < n; i++) y[i] = tf_clamp((a[i] * b[i] * m + c) >> s, lo, hi);
}

// y = clamp((a*M1 + b*M2 + C) >> S): a residual add with one requantizer per input.
inline void tf_residual(int n, const tf_int *a, const tf_int *b, tf_int m1, tf_int m2, tf_int c, int s, tf_int lo, tf_int hi, tf_int *y) {
    for (int i = 0; i < n; i++) y[i] = tf_clamp((a[i] * m1 + b[i] * m2 + c) >> s, lo, hi);
}

}  // namespace lutforge

#endif
