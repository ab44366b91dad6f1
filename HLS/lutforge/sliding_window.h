// Sliding-window generator: every window of a channels-last map, in raster order,
// padding read as the pad value; with groups > 1 each window group by group.
// Arithmetic: docs/numerics.md, "Sliding windows"; mirrors RTL/lf_sliding_window.v.
#ifndef LUTFORGE_SLIDING_WINDOW_H
#define LUTFORGE_SLIDING_WINDOW_H

#include "lutforge/pragma.h"

namespace lutforge {

// Fields every generated window config provides:
//   h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, groups; pad (the pad value).
template <class X_T, class CONFIG_T>
void sliding_window(const X_T x[CONFIG_T::h * CONFIG_T::w * CONFIG_T::c],
                    X_T y[CONFIG_T::oh * CONFIG_T::ow * CONFIG_T::kh * CONFIG_T::kw * CONFIG_T::c]) {
    const int cg = CONFIG_T::c / CONFIG_T::groups;
    unsigned at = 0;
LF_LOOP(WINDOW_Y)
    for (int oy = 0; oy < CONFIG_T::oh; oy++) {
    LF_LOOP(WINDOW_X)
        for (int ox = 0; ox < CONFIG_T::ow; ox++) {
        LF_LOOP(GROUP)
            for (int g = 0; g < CONFIG_T::groups; g++) {
            LF_LOOP(KY)
                for (int ky = 0; ky < CONFIG_T::kh; ky++) {
                LF_LOOP(KX)
                    for (int kx = 0; kx < CONFIG_T::kw; kx++) {
                    LF_LOOP(CHANNEL)
                        for (int k = 0; k < cg; k++) {
                            LF_HLS(PIPELINE II = 1)
                            const int r = oy * CONFIG_T::sh - CONFIG_T::pt + ky * CONFIG_T::dh;
                            const int col = ox * CONFIG_T::sw - CONFIG_T::pl + kx * CONFIG_T::dw;
                            const bool inside = r >= 0 && r < CONFIG_T::h && col >= 0 && col < CONFIG_T::w;
                            y[at++] = inside ? x[(r * CONFIG_T::w + col) * CONFIG_T::c + g * cg + k] : X_T(CONFIG_T::pad);
                        }
                    }
                }
            }
        }
    }
}

}  // namespace lutforge

#endif
