// The rounding shift and saturation every requantizer ends with
// (docs/numerics.md, "Requantize"); mirrors RTL/lf_round_clamp.v.
#ifndef LUTFORGE_REQUANT_H
#define LUTFORGE_REQUANT_H

#include <ap_int.h>

namespace lutforge {

// clamp((v + c) >> s, requant_min, requant_max); c is the requantizer's offset
// (2^(s-1) rounds half up); >> floors. With CONFIG_T::half_even the shift rounds
// (v + c) / 2^s half to even instead (mirrors RTL/lf_round_clamp.v HALF_EVEN).
template <class CONFIG_T>
typename CONFIG_T::requant_t round_clamp(typename CONFIG_T::scaled_t v, typename CONFIG_T::scaled_t c, unsigned s) {
    v += c;
    if (CONFIG_T::half_even && s > 0) {
        typename CONFIG_T::scaled_t q = v >> s;
        typename CONFIG_T::scaled_t back = q;
        back <<= s;
        typename CONFIG_T::scaled_t rem = v - back, half = 1;
        half <<= s - 1;
        if (rem > half || (rem == half && q[0] == 1)) q += 1;
        v = q;
    } else {
        v >>= s;
    }
    if (v < CONFIG_T::requant_min) return typename CONFIG_T::requant_t(CONFIG_T::requant_min);
    if (v > CONFIG_T::requant_max) return typename CONFIG_T::requant_t(CONFIG_T::requant_max);
    return typename CONFIG_T::requant_t(v);
}

}  // namespace lutforge

#endif
