// Sliding-window generator: a channels-last map streamed in position by position,
// every window out in raster order (padding read as the pad value; with groups > 1
// each window group by group). A line buffer of (kh - 1) * dh + 1 rows holds what the
// next windows need; each window is emitted once the beats its need tables (nr, nc,
// from HardwareIR) name have arrived (docs/numerics.md, "Feature maps, sliding
// windows and pools"), and after the last window the rest of the map is read.
// Mirrors RTL/lf_sliding_window.v.
#ifndef LUTFORGE_SLIDING_WINDOW_H
#define LUTFORGE_SLIDING_WINDOW_H

#include <hls_stream.h>

#include "lutforge/pragma.h"

namespace lutforge {

// Fields every generated window config provides:
//   h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, groups; pad (the pad value).
template <class X_T, class CONFIG_T, class NEED_T>
void sliding_window(hls::stream<X_T> &in, hls::stream<X_T> &out, const NEED_T nr[CONFIG_T::oh], const NEED_T nc[CONFIG_T::ow]) {
    const int rows = (CONFIG_T::kh - 1) * CONFIG_T::dh + 1;
    const int cg = CONFIG_T::c / CONFIG_T::groups;
    static X_T line[rows][CONFIG_T::w][CONFIG_T::c];
    int loaded = 0;  // input beats read so far (positions row-major, channels fastest)
LF_LOOP(WINDOW_Y)
    for (int oy = 0; oy < CONFIG_T::oh; oy++) {
    LF_LOOP(WINDOW_X)
        for (int ox = 0; ox < CONFIG_T::ow; ox++) {
            // The need tables: nr + nc - c beats, 0 for a window wholly in the padding.
            const int need = nr[oy] == 0 || nc[ox] == 0 ? 0 : int(nr[oy]) + int(nc[ox]) - CONFIG_T::c;
        LF_LOOP(LOAD)
            for (; loaded < need; loaded++) {
                LF_HLS(PIPELINE II = 1)
                const int pos = loaded / CONFIG_T::c;
                line[(pos / CONFIG_T::w) % rows][pos % CONFIG_T::w][loaded % CONFIG_T::c] = in.read();
            }
        LF_LOOP(EMIT)
            for (int g = 0; g < CONFIG_T::groups; g++) {
                for (int ky = 0; ky < CONFIG_T::kh; ky++) {
                    for (int kx = 0; kx < CONFIG_T::kw; kx++) {
                        for (int k = 0; k < cg; k++) {
                            LF_HLS(PIPELINE II = 1)
                            const int r = oy * CONFIG_T::sh - CONFIG_T::pt + ky * CONFIG_T::dh;
                            const int col = ox * CONFIG_T::sw - CONFIG_T::pl + kx * CONFIG_T::dw;
                            const bool inside = r >= 0 && r < CONFIG_T::h && col >= 0 && col < CONFIG_T::w;
                            out.write(inside ? line[r % rows][col][g * cg + k] : X_T(CONFIG_T::pad));
                        }
                    }
                }
            }
        }
    }
LF_LOOP(REST)
    for (; loaded < CONFIG_T::h * CONFIG_T::w * CONFIG_T::c; loaded++) {
        LF_HLS(PIPELINE II = 1)
        const X_T unused = in.read();
        (void)unused;
    }
}

}  // namespace lutforge

#endif
