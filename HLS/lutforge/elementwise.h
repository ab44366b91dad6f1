// Elementwise kernel: one or two streams combined element by element with a
// requantizer per input, y = clamp((a*Ma + b*Mb + C) >> S). Driven by a generated
// config struct; arithmetic in docs/numerics.md, "Elementwise"; mirrors RTL/lf_elementwise.v.
#ifndef LUTFORGE_ELEMENTWISE_H
#define LUTFORGE_ELEMENTWISE_H

#include <ap_int.h>

#include "lutforge/pragma.h"
#include "lutforge/requant.h"

namespace lutforge {

// Fields every generated elementwise config provides:
//   n, channels, arity; scaled_t, requant_t; requant_min, requant_max.
// mult: [arity][channels]; offset, shift: [channels]. b is ignored when arity is 1.
template <class A_T, class B_T, class CONFIG_T, class M_T, class C_T, class S_T>
void elementwise(const A_T a[CONFIG_T::n], const B_T b[CONFIG_T::n], typename CONFIG_T::requant_t y[CONFIG_T::n], const M_T *mult,
                 const C_T *offset, const S_T *shift) {
    typedef typename CONFIG_T::scaled_t scaled_t;
LF_LOOP(ELEMENT)
    for (unsigned i = 0; i < CONFIG_T::n; i++) {
        LF_HLS(PIPELINE II = 1)
        const unsigned c = i % CONFIG_T::channels;
        scaled_t v = scaled_t(a[i]) * scaled_t(mult[c]);
        if (CONFIG_T::arity > 1) v += scaled_t(b[i]) * scaled_t(mult[CONFIG_T::channels + c]);
        y[i] = round_clamp<CONFIG_T>(v, scaled_t(offset[c]), unsigned(shift[c]));
    }
}

}  // namespace lutforge

#endif
