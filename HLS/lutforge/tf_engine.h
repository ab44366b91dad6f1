// The reused engines of a temporal transformer design (RTL/lf_tf_dsp_engine.v,
// RTL/lf_tf_lut_engine.v): one function serves every int8 DSP linear and one every LUT
// linear, reading the linear's words from off-chip memory through an m_axi port.
// tf_dsp_engine: The image (HardwareIR/TransformerEngine.swift) holds per
// output column its bias, its offset C, {S (bits 37:32), M (bits 31:0)}, then ceil(n_in/8)
// words of 8 int8 weights (weight i in bits 8*(i%8) of word i/8). Then, as every
// requantizer (docs/numerics.md): acc = bias + sum w*x, clamp(((acc*M + C) >> S), lo, hi)
// (>> floors; with half_even the shift rounds half to even), and the optional table.
#ifndef LUTFORGE_TF_ENGINE_H
#define LUTFORGE_TF_ENGINE_H

#include <vector>

#include <ap_int.h>

#include "lutforge/pragma.h"
#include "lutforge/transformer.h"

namespace lutforge {

inline tf_int tf_shift_round(tf_int v, int s, bool half_even) {
    if (s == 0) return v;
    tf_int q = v >> s;
    if (half_even) {
        const tf_int rem = v - q * (tf_int(1) << s), half = tf_int(1) << (s - 1);
        if (rem > half || (rem == half && (q & 1))) q += 1;
    }
    return q;
}

inline void tf_dsp_engine(const ap_uint<64> *mem, long long base, int n_in, int n_out, const tf_int *x, tf_int lo, tf_int hi,
                          bool half_even, const tf_int *table, tf_int *y) {
    LF_HLS(INTERFACE m_axi port = mem offset = slave bundle = gmem)
    const int wpc = (n_in + 7) / 8;
LF_LOOP(COLUMN)
    for (int n = 0; n < n_out; n++) {
        const ap_uint<64> *col = mem + base + (long long)n * (3 + wpc);
        tf_int acc = (tf_int)col[0].to_uint64();
        const tf_int c = (tf_int)col[1].to_uint64();
        const tf_int m = (tf_int)col[2].range(31, 0).to_uint64();
        const int s = (int)col[2].range(37, 32).to_uint();
    LF_LOOP(WORD)
        for (int j = 0; j < wpc; j++) {
            LF_HLS(PIPELINE II = 1)
            const ap_uint<64> word = col[3 + j];
        LF_LOOP(LANE)
            for (int l = 0; l < 8; l++) {
                LF_HLS(UNROLL)
                const int i = j * 8 + l;
                const ap_int<8> w = word.range(8 * l + 7, 8 * l);
                if (i < n_in) acc += tf_int(w.to_int()) * x[i];
            }
        }
        const tf_int r = tf_clamp(tf_shift_round(acc * m + c, s, half_even), lo, hi);
        y[n] = table ? table[r - lo] : r;
    }
}

// The reused LUT-linear engine (RTL/lf_tf_lut_engine.v) on the image's LUTEngineLayout region:
// per position the activation centroids (16-bit elements, 4 per word), the nearest by L-inf or
// squared L2 distance (ties to the lowest index); per column group that centroid's table row
// (16-bit entries, 4 per word) and the group's 8-bit codes (8 per word); acc[n] = bias +
// sum of entries; then the requantizer (floor shift) and the optional table.
inline void tf_lut_engine(const ap_uint<64> *mem, int n_in, int n_out, int v, int ka, int kw, int cols, bool l2, long long cbase,
                          long long kbase, long long rbase, long long qbase, const tf_int *x, tf_int lo, tf_int hi, const tf_int *table,
                          tf_int *y) {
    LF_HLS(INTERFACE m_axi port = mem offset = slave bundle = gmem)
    const int positions = (n_in + v - 1) / v, groups = (n_out + cols - 1) / cols;
    const int cwords = (ka * v + 3) / 4, rwords = (kw + 3) / 4, kwords = (cols + 7) / 8;
    std::vector<tf_int> acc(n_out, 0);
LF_LOOP(POSITION)
    for (int p = 0; p < positions; p++) {
        int best = 0;
        tf_int best_d = 0;
    LF_LOOP(SEARCH)
        for (int k = 0; k < ka; k++) {
            tf_int dist = 0;
            for (int e = 0; e < v; e++) {
                const int i = k * v + e;
                const ap_int<16> c = mem[cbase + (long long)p * cwords + i / 4].range(16 * (i % 4) + 15, 16 * (i % 4));
                const tf_int xi = p * v + e < n_in ? x[p * v + e] : 0;
                const tf_int diff = xi - c.to_int(), mag = diff < 0 ? -diff : diff;
                if (l2) dist += diff * diff;
                else if (mag > dist) dist = mag;
            }
            if (k == 0 || dist < best_d) {
                best = k;
                best_d = dist;
            }
        }
    LF_LOOP(GROUP)
        for (int g = 0; g < groups; g++) {
            const long long row = rbase + ((long long)(p * groups + g) * ka + best) * rwords;
            const long long codes = kbase + (long long)(p * groups + g) * kwords;
            const int count = n_out - g * cols < cols ? n_out - g * cols : cols;
        LF_LOOP(CODE)
            for (int j = 0; j < count; j++) {
                const int code = mem[codes + j / 8].range(8 * (j % 8) + 7, 8 * (j % 8)).to_int();
                const ap_int<16> entry = mem[row + code / 4].range(16 * (code % 4) + 15, 16 * (code % 4));
                acc[g * cols + j] += entry.to_int();
            }
        }
    }
LF_LOOP(COLUMN)
    for (int n = 0; n < n_out; n++) {
        const ap_uint<64> *q = mem + qbase + 3LL * n;
        const tf_int a = acc[n] + (tf_int)q[0].to_uint64();
        const tf_int c = (tf_int)q[1].to_uint64();
        const tf_int m = (tf_int)q[2].range(31, 0).to_uint64();
        const int s = (int)q[2].range(37, 32).to_uint();
        const tf_int r = tf_clamp(tf_shift_round(a * m + c, s, false), lo, hi);
        y[n] = table ? table[r - lo] : r;
    }
}

}  // namespace lutforge

#endif
