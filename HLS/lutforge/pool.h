// Pool kernel: one frame of window * channels elements reduced per channel
// (element i belongs to channel i mod channels) to its maximum or exact sum.
// Arithmetic: docs/numerics.md, "Pools"; mirrors RTL/lf_pool.v.
#ifndef LUTFORGE_POOL_H
#define LUTFORGE_POOL_H

#include "lutforge/pragma.h"

namespace lutforge {

// Fields every generated pool config provides: channels, window, sum (false: max); output_t.
template <class X_T, class CONFIG_T>
void pool(const X_T x[CONFIG_T::channels * CONFIG_T::window], typename CONFIG_T::output_t y[CONFIG_T::channels]) {
LF_LOOP(CHANNEL)
    for (unsigned c = 0; c < CONFIG_T::channels; c++) {
        typename CONFIG_T::output_t acc = x[c];
    LF_LOOP(WINDOW)
        for (unsigned j = 1; j < CONFIG_T::window; j++) {
            LF_HLS(PIPELINE II = 1)
            const typename CONFIG_T::output_t v = x[j * CONFIG_T::channels + c];
            if (CONFIG_T::sum) acc += v;
            else if (v > acc) acc = v;
        }
        y[c] = acc;
    }
}

// A FIFO is the identity on the values.
template <class X_T, unsigned N, class Y_T>
void fifo_copy(const X_T x[N], Y_T y[N]) {
LF_LOOP(COPY)
    for (unsigned i = 0; i < N; i++) {
        LF_HLS(PIPELINE II = 1)
        y[i] = Y_T(x[i]);
    }
}

}  // namespace lutforge

#endif
