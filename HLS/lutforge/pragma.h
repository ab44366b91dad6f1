// LF_HLS(x) expands to `#pragma HLS x` and LF_LOOP(name) to the loop label
// `name:` under Vitis HLS synthesis, and both to nothing elsewhere, so
// C-simulation with g++ -Wall sees no unknown pragmas or unused labels.
#ifndef LUTFORGE_PRAGMA_H
#define LUTFORGE_PRAGMA_H

#ifdef __SYNTHESIS__
#define LF_PRAGMA_(x) _Pragma(#x)
#define LF_HLS(x) LF_PRAGMA_(HLS x)
#define LF_LOOP(name) name:
#else
#define LF_HLS(x)
#define LF_LOOP(name)
#endif

#endif
