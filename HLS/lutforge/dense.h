// Dense quantized fully connected layer on `lanes` multiply-accumulate lanes,
// driven by a generated config struct (see docs/numerics.md for the arithmetic).
#ifndef LUTFORGE_DENSE_H
#define LUTFORGE_DENSE_H

#include <ap_int.h>

#include "lutforge/pragma.h"
#include "lutforge/requant.h"

namespace lutforge {

// Fields every generated dense config provides:
//   n_in, n_out, lanes; weight_t, bias_t, accum_t, mult_t, shift_t, scaled_t,
//   requant_t; requant_min, requant_max.
struct dense_config {
    static const unsigned lanes = 1;
};

// y = clamp((acc * M + 2^(S-1)) >> S, requant_min, requant_max).
template <class CONFIG_T>
typename CONFIG_T::requant_t requantize(typename CONFIG_T::accum_t acc, typename CONFIG_T::mult_t m,
                                        typename CONFIG_T::shift_t s) {
    typedef typename CONFIG_T::scaled_t scaled_t;
    return round_clamp<CONFIG_T>(scaled_t(acc) * scaled_t(m), s.to_uint());
}

// Outputs are computed in passes of CONFIG_T::lanes; each pass streams the
// inputs once, one multiply-accumulate per lane per cycle.
// Constant arrays hold plain C integers (ROM contents); each value is converted
// to its proven ap type where it is used.
template <class X_T, class CONFIG_T, class W_T, class B_T, class M_T, class S_T>
void dense(const X_T x[CONFIG_T::n_in], typename CONFIG_T::requant_t y[CONFIG_T::n_out],
           const W_T w[CONFIG_T::n_out * CONFIG_T::n_in], const B_T b[CONFIG_T::n_out], const M_T m[CONFIG_T::n_out],
           const S_T s[CONFIG_T::n_out]) {
    const unsigned passes = (CONFIG_T::n_out + CONFIG_T::lanes - 1) / CONFIG_T::lanes;
LF_LOOP(PASS)
    for (unsigned p = 0; p < passes; p++) {
        typename CONFIG_T::accum_t acc[CONFIG_T::lanes];
        LF_HLS(ARRAY_PARTITION variable = acc complete)
    LF_LOOP(INIT)
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
            LF_HLS(UNROLL)
            const unsigned n = p * CONFIG_T::lanes + l;
            acc[l] = n < CONFIG_T::n_out ? typename CONFIG_T::accum_t(b[n]) : typename CONFIG_T::accum_t(0);
        }
    LF_LOOP(MAC)
        for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
            LF_HLS(PIPELINE II = 1)
        LF_LOOP(LANE)
            for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                LF_HLS(UNROLL)
                const unsigned n = p * CONFIG_T::lanes + l;
                if (n < CONFIG_T::n_out) acc[l] += typename CONFIG_T::weight_t(w[n * CONFIG_T::n_in + k]) * x[k];
            }
        }
    LF_LOOP(OUT)
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
            LF_HLS(UNROLL)
            const unsigned n = p * CONFIG_T::lanes + l;
            if (n < CONFIG_T::n_out)
                y[n] = requantize<CONFIG_T>(acc[l], typename CONFIG_T::mult_t(m[n]), typename CONFIG_T::shift_t(s[n]));
        }
    }
}

}  // namespace lutforge

#endif
