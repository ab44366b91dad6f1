// Sparse DSP-chain fully connected layer (after FlightLLM): N:M-sparse weights
// stored as (value, offset) pairs, `lanes` chains of `chain_length` multiply-adds,
// dense as the N = M case. Driven by a generated config struct; arithmetic in
// docs/numerics.md.
#ifndef LUTFORGE_DSP_CHAIN_H
#define LUTFORGE_DSP_CHAIN_H

#include <ap_int.h>

#include "lutforge/pragma.h"
#include "lutforge/requant.h"

namespace lutforge {

// Fields every generated DSP-chain config provides:
//   n_in, n_out, lanes, m (block), kept (N), blocks, blocks_per_cycle, chain_length;
//   weight_t, accum_t, mult_t, shift_t, offset_t, scaled_t, requant_t; requant_min, requant_max.
struct dsp_chain_config {
    static const unsigned lanes = 1;
};

// y = clamp((acc * M + C) >> S, requant_min, requant_max); the multiplier
// is bound to fabric so DSP slices go to the multiply-add chains.
template <class CONFIG_T>
typename CONFIG_T::requant_t requantize(typename CONFIG_T::accum_t acc, typename CONFIG_T::mult_t m,
                                        typename CONFIG_T::shift_t s, typename CONFIG_T::offset_t c) {
    typedef typename CONFIG_T::scaled_t scaled_t;
    const scaled_t v = scaled_t(acc) * scaled_t(m);
    LF_HLS(BIND_OP variable = v op = mul impl = fabric)
    return round_clamp<CONFIG_T>(v, scaled_t(c), s.to_uint());
}

// values/offsets: [n_out][blocks][kept]; acc[n] = b[n] + sum value * x[block*m + offset];
// mult, shift, roff: the requantizer (M, S, C) of each output.
template <class X_T, class CONFIG_T, class W_T, class O_T, class B_T, class M_T, class S_T, class C_T>
void dsp_chain(const X_T x[CONFIG_T::n_in], typename CONFIG_T::requant_t y[CONFIG_T::n_out], const W_T *values,
               const O_T *offsets, const B_T *bias, const M_T *mult, const S_T *shift, const C_T *roff) {
    const unsigned passes = (CONFIG_T::n_out + CONFIG_T::lanes - 1) / CONFIG_T::lanes;
    const unsigned cycles = (CONFIG_T::blocks + CONFIG_T::blocks_per_cycle - 1) / CONFIG_T::blocks_per_cycle;
LF_LOOP(PASS)
    for (unsigned p = 0; p < passes; p++) {
        typename CONFIG_T::accum_t acc[CONFIG_T::lanes];
        LF_HLS(ARRAY_PARTITION variable = acc complete)
    LF_LOOP(INIT)
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
            LF_HLS(UNROLL)
            const unsigned n = p * CONFIG_T::lanes + l;
            acc[l] = n < CONFIG_T::n_out ? typename CONFIG_T::accum_t(bias[n]) : typename CONFIG_T::accum_t(0);
        }
    LF_LOOP(CYCLE)
        for (unsigned t = 0; t < cycles; t++) {
            LF_HLS(PIPELINE II = 1)
        LF_LOOP(LANE)
            for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                LF_HLS(UNROLL)
                const unsigned n = p * CONFIG_T::lanes + l;
            LF_LOOP(CHAIN)
                for (unsigned i = 0; i < CONFIG_T::chain_length; i++) {
                    LF_HLS(UNROLL)
                    const unsigned block = t * CONFIG_T::blocks_per_cycle + i / CONFIG_T::kept;
                    if (n >= CONFIG_T::n_out || block >= CONFIG_T::blocks) continue;
                    const unsigned at = (n * CONFIG_T::blocks + block) * CONFIG_T::kept + i % CONFIG_T::kept;
                    const unsigned idx = block * CONFIG_T::m + unsigned(offsets[at]);
                    // The sparse input multiplexer: zero past the end of the input.
                    if (idx < CONFIG_T::n_in) acc[l] += typename CONFIG_T::weight_t(values[at]) * x[idx];
                }
            }
        }
    LF_LOOP(OUT)
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
            LF_HLS(UNROLL)
            const unsigned n = p * CONFIG_T::lanes + l;
            if (n < CONFIG_T::n_out)
                y[n] = requantize<CONFIG_T>(acc[l], typename CONFIG_T::mult_t(mult[n]), typename CONFIG_T::shift_t(shift[n]),
                                            typename CONFIG_T::offset_t(roff[n]));
        }
    }
}

}  // namespace lutforge

#endif
