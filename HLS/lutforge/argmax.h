// Argmax kernel: the first index of the largest element; mirrors RTL/lf_argmax.v.
#ifndef LUTFORGE_ARGMAX_H
#define LUTFORGE_ARGMAX_H

#include "lutforge/pragma.h"

namespace lutforge {

template <class X_T, unsigned N, class Y_T>
void argmax(const X_T x[N], Y_T y[1]) {
    unsigned best = 0;
LF_LOOP(SCAN)
    for (unsigned i = 1; i < N; i++) {
        LF_HLS(PIPELINE II = 1)
        if (x[i] > x[best]) best = i;   // strictly larger: ties keep the first index
    }
    y[0] = Y_T(best);
}

}  // namespace lutforge

#endif
