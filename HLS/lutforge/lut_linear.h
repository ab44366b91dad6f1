// LUT-based vector-quantized linear layer (after LUT-LLM): nearest-centroid
// search over the activations, then table lookups and additions, no
// multiplier. Driven by a generated config struct; arithmetic in docs/numerics.md.
#ifndef LUTFORGE_LUT_LINEAR_H
#define LUTFORGE_LUT_LINEAR_H

#include <ap_int.h>

#include "lutforge/pragma.h"
#include "lutforge/requant.h"

namespace lutforge {

// Fields every generated LUT config provides:
//   n_in, n_out, v, positions, ka, kw, group_columns, groups, distance_l2,
//   search_lanes, column_lanes, position_lanes, outlier_count;
//   outlier_weight_t, outlier_accum_t (any type when outlier_count is 0);
//   input_t, dist_t, index_t, code_t, entry_t, accum_t, scaled_t, requant_t;
//   requant_min, requant_max.
struct lut_linear_config {
    static const bool distance_l2 = false;
};

// Distance from position p of x (zero past n_in) to centroid k: L-inf or squared L2.
template <class X_T, class CONFIG_T, class C_T>
typename CONFIG_T::dist_t distance(const X_T x[CONFIG_T::n_in], const C_T *centroid, unsigned p) {
    typename CONFIG_T::dist_t d = 0;
LF_LOOP(ELEMENT)
    for (unsigned e = 0; e < CONFIG_T::v; e++) {
        LF_HLS(UNROLL)
        const unsigned i = p * CONFIG_T::v + e;
        const ap_int<CONFIG_T::input_bits + 2> xe = i < CONFIG_T::n_in ? ap_int<CONFIG_T::input_bits + 2>(x[i]) : ap_int<CONFIG_T::input_bits + 2>(0);
        const ap_int<CONFIG_T::input_bits + 2> diff = xe - ap_int<CONFIG_T::input_bits + 2>(typename CONFIG_T::input_t(centroid[e]));
        const ap_uint<CONFIG_T::input_bits + 1> mag = diff < 0 ? ap_uint<CONFIG_T::input_bits + 1>(-diff) : ap_uint<CONFIG_T::input_bits + 1>(diff);
        if (CONFIG_T::distance_l2) {
            d += typename CONFIG_T::dist_t(mag) * typename CONFIG_T::dist_t(mag);
        } else if (typename CONFIG_T::dist_t(mag) > d) {
            d = mag;
        }
    }
    return d;
}

// centroids: [positions][ka][v]; codes: [positions][n_out]; tables:
// [positions][groups][ka][kw]; bias, left shift l, right shift s and offset c per output column.
// Dense-and-sparse (outlier_count > 0): ovalues/oindices [n_out][outlier_count] and
// the multiplier m2 per column add acc_outlier * m2 before the shift.
template <class X_T, class CONFIG_T, class C_T, class W_T, class T_T, class B_T, class L_T, class S_T, class R_T, class OV_T,
          class OI_T, class M2_T>
void lut_linear(const X_T x[CONFIG_T::n_in], typename CONFIG_T::requant_t y[CONFIG_T::n_out], const C_T *centroids,
                const W_T *codes, const T_T *tables, const B_T *bias, const L_T *lshift, const S_T *shift, const R_T *roff,
                const OV_T *ovalues, const OI_T *oindices, const M2_T *m2) {
    typename CONFIG_T::index_t a[CONFIG_T::positions];
    LF_HLS(ARRAY_PARTITION variable = a complete)
LF_LOOP(SEARCH)
    for (unsigned p = 0; p < CONFIG_T::positions; p++) {
        typename CONFIG_T::dist_t best = 0;
        typename CONFIG_T::index_t best_k = 0;
    LF_LOOP(CENTROID)
        for (unsigned k = 0; k < CONFIG_T::ka; k++) {
            LF_HLS(PIPELINE II = 1)
            LF_HLS(UNROLL factor = CONFIG_T::search_lanes)
            const typename CONFIG_T::dist_t d = distance<X_T, CONFIG_T>(x, centroids + (p * CONFIG_T::ka + k) * CONFIG_T::v, p);
            // Strictly smaller wins, so ties keep the lowest index.
            if (k == 0 || d < best) {
                best = d;
                best_k = k;
            }
        }
        a[p] = best_k;
    }
LF_LOOP(COLUMN)
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        LF_HLS(UNROLL factor = CONFIG_T::column_lanes)
        const unsigned g = n / CONFIG_T::group_columns;
        typename CONFIG_T::accum_t acc = typename CONFIG_T::accum_t(bias[n]);
    LF_LOOP(POSITION)
        for (unsigned p = 0; p < CONFIG_T::positions; p++) {
            LF_HLS(PIPELINE II = 1)
            LF_HLS(UNROLL factor = CONFIG_T::position_lanes)
            const unsigned w = unsigned(codes[p * CONFIG_T::n_out + n]);
            const unsigned row = (p * CONFIG_T::groups + g) * CONFIG_T::ka + a[p].to_uint();
            acc += typename CONFIG_T::entry_t(tables[row * CONFIG_T::kw + w]);
        }
        typename CONFIG_T::scaled_t v = acc;
        v <<= unsigned(lshift[n]);
        if (CONFIG_T::outlier_count > 0) {
            typename CONFIG_T::outlier_accum_t oacc = 0;
        LF_LOOP(OUTLIER)
            for (unsigned j = 0; j < CONFIG_T::outlier_count; j++) {
                LF_HLS(PIPELINE II = 1)
                const unsigned at = n * CONFIG_T::outlier_count + j;
                oacc += typename CONFIG_T::outlier_weight_t(ovalues[at]) * x[unsigned(oindices[at])];
            }
            const typename CONFIG_T::scaled_t term = typename CONFIG_T::scaled_t(oacc) * typename CONFIG_T::scaled_t(m2[n]);
            LF_HLS(BIND_OP variable = term op = mul impl = fabric)
            v += term;
        }
        y[n] = round_clamp<CONFIG_T>(v, typename CONFIG_T::scaled_t(roff[n]), unsigned(shift[n]));
    }
}

}  // namespace lutforge

#endif
