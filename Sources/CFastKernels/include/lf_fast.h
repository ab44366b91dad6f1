// The CPU engine's hot loops in C: the LUT-linear layer's nearest-centroid search and its
// table lookups as byte shuffles (after T-MAC: a 16-entry int8 table row in one SIMD
// register, indexed by 4-bit codes), the k-means assignment step, and a copy-bandwidth
// probe for the roofline. The integers are the Swift engine's (docs/numerics.md,
// "LUT-linear layer"); the Swift side (ReferenceEngine/FastLUT.swift) proves the
// int16/int32 partial sums cannot overflow before it calls in.
#ifndef LF_FAST_H
#define LF_FAST_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which lookup loop this processor runs: 2 AVX2, 1 SSSE3, 0 portable C.
int lf_simd_level(void);
/// Restricts the loop to at most `level` (for tests that compare the loops); returns the level in effect.
int lf_set_simd_limit(int level);

/// Nearest centroid of each position (ties to the lowest index): `x` has `positions * v`
/// values (zero-padded), `centroids` `positions * ka * v`; `linf` selects L-inf over L2.
void lf_lut_search(const int32_t *x, int32_t positions, int32_t v, int32_t ka,
                   const int32_t *centroids, int32_t linf, int32_t *assign);

/// The same search with the centroids transposed for SIMD: `soa` is `[positions][v][kap]`
/// (`kap` = Ka rounded up to 8, padded with copies of centroid 0, which can never win over
/// it), distances in int32, which the caller proves cannot overflow.
void lf_lut_search32(const int32_t *x, int32_t positions, int32_t v, int32_t ka, int32_t kap,
                     const int32_t *soa, int32_t linf, int32_t *assign);

/// Copies the chosen table row of each position in `[p_begin, p_end)` and every group:
/// `tables` is `[positions][ka][groups][16]` int8 (a position's rows for one centroid are
/// adjacent), `rows` `[groups][padded][16]` with `padded` = positions rounded up to even.
void lf_lut_gather_rows(const int8_t *tables, int32_t padded, int32_t p_begin, int32_t p_end,
                        int32_t groups, int32_t ka, const int32_t *assign, int8_t *rows);

/// Sums of table entries for column blocks `[block_begin, block_end)`: block `b` has 32
/// columns, in group `block_group[b]`. `codes` is `[blocks][padded / 2][32]` bytes: for the
/// position pair (2q, 2q + 1), byte `j` holds position 2q's code of the block's column `j`
/// in its low nibble and of column `16 + j` in its high nibble, byte `16 + j` the same for
/// position 2q + 1. `acc` (`[blocks][32]` int32) is overwritten.
void lf_lut_accumulate(const uint8_t *codes, const int8_t *rows, int32_t padded,
                       int32_t block_begin, int32_t block_end, const int32_t *block_group, int32_t *acc);

/// k-means assignment of points `[begin, end)` of `points` (`[n][d]` doubles): the nearest
/// centroid of each (ties to the lowest index) into `assign`, its squared distance into
/// `distance`, both indexed from `begin`. `soa` is `[d][kp]`, `kp` = k rounded up to 4,
/// padded with copies of centroid 0. The distance is the same sum, in the same order and
/// without fused multiply-adds, as Quantize's `KMeans.squaredDistance`.
void lf_kmeans_assign(const double *points, int64_t begin, int64_t end, int32_t d,
                      const double *soa, int32_t k, int32_t kp, int64_t *assign, double *distance);

/// Bytes per second of `memcpy` over two buffers of `bytes` bytes, best of `repeats`
/// (read and written bytes both counted, as STREAM's copy does).
double lf_copy_bandwidth(size_t bytes, int32_t repeats);

#ifdef __cplusplus
}
#endif
#endif
