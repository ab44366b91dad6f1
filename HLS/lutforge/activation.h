// Activation tables: integer-in, integer-out nonlinear functions (sigmoid, ...)
// applied after requantization (docs/numerics.md, "Activation tables").
#ifndef LUTFORGE_ACTIVATION_H
#define LUTFORGE_ACTIVATION_H

#include <ap_int.h>

#include "lutforge/pragma.h"

namespace lutforge {

// y[i] = table[x[i] - MIN]: integer-in, integer-out nonlinear functions.
template <class X_T, class Y_T, unsigned N, int MIN, class T_T>
void lookup(const X_T x[N], Y_T y[N], const T_T *table) {
LF_LOOP(LOOKUP)
    for (unsigned i = 0; i < N; i++) {
        LF_HLS(PIPELINE II = 1)
        y[i] = Y_T(table[x[i].to_int() - MIN]);
    }
}

}  // namespace lutforge

#endif
