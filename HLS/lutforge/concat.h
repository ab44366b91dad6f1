// Concat kernel: frames of one element type one after another; mirrors RTL/lf_concat.v.
#ifndef LUTFORGE_CONCAT_H
#define LUTFORGE_CONCAT_H

#include "lutforge/pragma.h"

namespace lutforge {

// Copies the N elements of x to y starting at OFFSET.
template <class X_T, unsigned N, unsigned OFFSET, class Y_T>
void concat_part(const X_T x[N], Y_T *y) {
LF_LOOP(COPY)
    for (unsigned i = 0; i < N; i++) {
        LF_HLS(PIPELINE II = 1)
        y[OFFSET + i] = Y_T(x[i]);
    }
}

}  // namespace lutforge

#endif
