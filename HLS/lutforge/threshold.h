// Threshold kernel (FINN's MultiThreshold): y = base + step * (number of the
// channel's thresholds the element passes). Driven by a generated config struct;
// arithmetic in docs/numerics.md, "Thresholds"; mirrors RTL/lf_threshold.v.
#ifndef LUTFORGE_THRESHOLD_H
#define LUTFORGE_THRESHOLD_H

#include <ap_int.h>

#include "lutforge/pragma.h"

namespace lutforge {

// Fields every generated threshold config provides:
//   n, channels, count (thresholds per channel), base, step; threshold_t, output_t.
// thresholds: [channels][count]; descending: [channels] (compare x <= t instead of x >= t).
template <class X_T, class CONFIG_T, class T_T, class D_T>
void threshold(const X_T x[CONFIG_T::n], typename CONFIG_T::output_t y[CONFIG_T::n], const T_T *thresholds, const D_T *descending) {
LF_LOOP(ELEMENT)
    for (unsigned i = 0; i < CONFIG_T::n; i++) {
        LF_HLS(PIPELINE II = 1)
        const unsigned c = i % CONFIG_T::channels;
        const typename CONFIG_T::threshold_t v = x[i];
        int level = 0;
    LF_LOOP(COMPARE)
        for (unsigned j = 0; j < CONFIG_T::count; j++) {
            LF_HLS(UNROLL)
            const typename CONFIG_T::threshold_t t = thresholds[c * CONFIG_T::count + j];
            if (descending[c] ? v <= t : v >= t) level++;
        }
        y[i] = typename CONFIG_T::output_t(CONFIG_T::base + CONFIG_T::step * level);
    }
}

}  // namespace lutforge

#endif
