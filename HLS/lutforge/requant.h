// The rounding shift and saturation every requantizer ends with
// (docs/numerics.md, "Requantize"); mirrors RTL/lf_round_clamp.v.
#ifndef LUTFORGE_REQUANT_H
#define LUTFORGE_REQUANT_H

#include <ap_int.h>

namespace lutforge {

// clamp((v + half) >> s, requant_min, requant_max); half = 2^(s-1), 0 for s = 0; >> floors.
template <class CONFIG_T>
typename CONFIG_T::requant_t round_clamp(typename CONFIG_T::scaled_t v, unsigned s) {
    if (s > 0) {
        typename CONFIG_T::scaled_t half = 1;
        half <<= s - 1;
        v += half;
    }
    v >>= s;
    if (v < CONFIG_T::requant_min) return typename CONFIG_T::requant_t(CONFIG_T::requant_min);
    if (v > CONFIG_T::requant_max) return typename CONFIG_T::requant_t(CONFIG_T::requant_max);
    return typename CONFIG_T::requant_t(v);
}

}  // namespace lutforge

#endif
