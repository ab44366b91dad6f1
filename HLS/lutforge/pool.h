// Pool kernel: one frame of window * channels elements reduced per channel
// (element i belongs to channel i mod channels) to its maximum or exact sum.
// Arithmetic: docs/numerics.md, "Pools"; mirrors RTL/lf_pool.v.
#ifndef LUTFORGE_POOL_H
#define LUTFORGE_POOL_H

#include <hls_stream.h>

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

// A FIFO is the identity on the values; its depth is the depth of the stream it
// writes (the top's STREAM pragma).
template <class T, unsigned N>
void fifo_copy(hls::stream<T> &in, hls::stream<T> &out) {
LF_LOOP(COPY)
    for (unsigned i = 0; i < N; i++) {
        LF_HLS(PIPELINE II = 1)
        out.write(in.read());
    }
}

}  // namespace lutforge

#endif
