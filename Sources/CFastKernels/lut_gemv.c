// The engine's hot loops (see lf_fast.h): LUT-linear search, row gather and shuffle lookups, the
// k-means assignment step, and the copy-bandwidth probe.
#include "lf_fast.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LF_X86 1
#endif

static int simd_limit = 2;

static int hardware_level(void) {
#ifdef LF_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return 2;
    if (__builtin_cpu_supports("ssse3")) return 1;
#endif
    return 0;
}

int lf_simd_level(void) {
    int h = hardware_level();
    return h < simd_limit ? h : simd_limit;
}

int lf_set_simd_limit(int level) {
    simd_limit = level < 0 ? 0 : level;
    return lf_simd_level();
}

void lf_lut_search(const int32_t *x, int32_t positions, int32_t v, int32_t ka,
                   const int32_t *centroids, int32_t linf, int32_t *assign) {
    for (int32_t p = 0; p < positions; p++) {
        const int32_t *xp = x + (size_t)p * v;
        const int32_t *cp = centroids + (size_t)p * ka * v;
        int32_t best = 0;
        int64_t best_d = INT64_MAX;
        for (int32_t c = 0; c < ka; c++) {
            int64_t d = 0;
            for (int32_t e = 0; e < v; e++) {
                int64_t diff = (int64_t)xp[e] - cp[(size_t)c * v + e];
                if (linf) { int64_t a = diff < 0 ? -diff : diff; if (a > d) d = a; }
                else d += diff * diff;
            }
            if (d < best_d) { best_d = d; best = c; }
        }
        assign[p] = best;
    }
}

static void search32_c(const int32_t *x, int32_t positions, int32_t v, int32_t ka, int32_t kap,
                       const int32_t *soa, int32_t linf, int32_t *assign) {
    for (int32_t p = 0; p < positions; p++) {
        const int32_t *cp = soa + (size_t)p * v * kap;
        int32_t best = 0, best_d = INT32_MAX;
        for (int32_t c = 0; c < ka; c++) {
            int32_t d = 0;
            for (int32_t e = 0; e < v; e++) {
                int32_t diff = x[(size_t)p * v + e] - cp[(size_t)e * kap + c];
                if (linf) { int32_t a = diff < 0 ? -diff : diff; if (a > d) d = a; }
                else d += diff * diff;
            }
            if (d < best_d) { best_d = d; best = c; }
        }
        assign[p] = best;
    }
}

#ifdef LF_X86
__attribute__((target("avx2")))
static void search32_avx2(const int32_t *x, int32_t positions, int32_t v, int32_t ka, int32_t kap,
                          const int32_t *soa, int32_t linf, int32_t *assign) {
    int32_t dist[kap];
    for (int32_t p = 0; p < positions; p++) {
        const int32_t *cp = soa + (size_t)p * v * kap;
        __m256i best = _mm256_set1_epi32(INT32_MAX);
        for (int32_t c = 0; c < kap; c += 8) {
            __m256i d = _mm256_setzero_si256();
            for (int32_t e = 0; e < v; e++) {
                __m256i diff = _mm256_sub_epi32(_mm256_set1_epi32(x[(size_t)p * v + e]),
                                                _mm256_loadu_si256((const __m256i *)(cp + (size_t)e * kap + c)));
                d = linf ? _mm256_max_epi32(d, _mm256_abs_epi32(diff)) : _mm256_add_epi32(d, _mm256_mullo_epi32(diff, diff));
            }
            _mm256_storeu_si256((__m256i *)(dist + c), d);
            best = _mm256_min_epi32(best, d);
        }
        __m128i m = _mm_min_epi32(_mm256_castsi256_si128(best), _mm256_extracti128_si256(best, 1));
        m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4e));
        m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0xb1));
        int32_t lowest = _mm_cvtsi128_si32(m), c = 0;
        while (dist[c] != lowest) c++;   // the first centroid at the least distance
        assign[p] = c < ka ? c : 0;
    }
}
#endif

void lf_lut_search32(const int32_t *x, int32_t positions, int32_t v, int32_t ka, int32_t kap,
                     const int32_t *soa, int32_t linf, int32_t *assign) {
#ifdef LF_X86
    if (lf_simd_level() >= 2) { search32_avx2(x, positions, v, ka, kap, soa, linf, assign); return; }
#endif
    search32_c(x, positions, v, ka, kap, soa, linf, assign);
}

void lf_lut_gather_rows(const int8_t *tables, int32_t padded, int32_t p_begin, int32_t p_end,
                        int32_t groups, int32_t ka, const int32_t *assign, int8_t *rows) {
    for (int32_t p = p_begin; p < p_end; p++) {
        const int8_t *src = tables + ((size_t)p * ka + assign[p]) * groups * 16;
        for (int32_t g = 0; g < groups; g++) {
            uint64_t a, b;
            memcpy(&a, src + g * 16, 8); memcpy(&b, src + g * 16 + 8, 8);
            int8_t *dst = rows + ((size_t)g * padded + p) * 16;
            memcpy(dst, &a, 8); memcpy(dst + 8, &b, 8);
        }
    }
}

// Partial sums stay in int16 for at most 256 pairs of positions: each int16 lane takes one
// entry per pair, and 256 * 128 = 2^15 fits -32768..32767 for int8 entries (the largest
// positive sum is 256 * 127).
#define LF_CHUNK 256

static void accumulate_c(const uint8_t *codes, const int8_t *rows, int32_t padded,
                         int32_t b0, int32_t b1, const int32_t *block_group, int32_t *acc) {
    for (int32_t b = b0; b < b1; b++) {
        int32_t *out = acc + (size_t)b * 32;
        const uint8_t *cb = codes + (size_t)b * padded * 16;
        const int8_t *rg = rows + (size_t)block_group[b] * padded * 16;
        for (int j = 0; j < 32; j++) out[j] = 0;
        for (int32_t p = 0; p < padded; p++) {
            const uint8_t *c = cb + (size_t)p * 16;   // pair layout: position p's 16 bytes follow p - 1's
            const int8_t *r = rg + (size_t)p * 16;
            for (int j = 0; j < 16; j++) {
                out[j] += r[c[j] & 15];
                out[16 + j] += r[c[j] >> 4];
            }
        }
    }
}

#ifdef LF_X86
__attribute__((target("ssse3")))
static void accumulate_ssse3(const uint8_t *codes, const int8_t *rows, int32_t padded,
                             int32_t b0, int32_t b1, const int32_t *block_group, int32_t *acc) {
    const __m128i nib = _mm_set1_epi8(15);
    const __m128i zero = _mm_setzero_si128();
    for (int32_t b = b0; b < b1; b++) {
        const uint8_t *cb = codes + (size_t)b * padded * 16;
        const int8_t *rg = rows + (size_t)block_group[b] * padded * 16;
        __m128i a[8];
        for (int i = 0; i < 8; i++) a[i] = zero;
        for (int32_t p0 = 0; p0 < padded; p0 += LF_CHUNK) {
            int32_t p1 = p0 + LF_CHUNK < padded ? p0 + LF_CHUNK : padded;
            __m128i s[4] = {zero, zero, zero, zero};
            for (int32_t p = p0; p < p1; p++) {
                __m128i c = _mm_loadu_si128((const __m128i *)(cb + (size_t)p * 16));
                __m128i t = _mm_loadu_si128((const __m128i *)(rg + (size_t)p * 16));
                __m128i lo = _mm_shuffle_epi8(t, _mm_and_si128(c, nib));
                __m128i hi = _mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(c, 4), nib));
                // Sign-extend bytes to int16: interleave with the sign mask.
                __m128i slo = _mm_cmpgt_epi8(zero, lo), shi = _mm_cmpgt_epi8(zero, hi);
                s[0] = _mm_add_epi16(s[0], _mm_unpacklo_epi8(lo, slo));
                s[1] = _mm_add_epi16(s[1], _mm_unpackhi_epi8(lo, slo));
                s[2] = _mm_add_epi16(s[2], _mm_unpacklo_epi8(hi, shi));
                s[3] = _mm_add_epi16(s[3], _mm_unpackhi_epi8(hi, shi));
            }
            for (int i = 0; i < 4; i++) {
                __m128i sg = _mm_cmpgt_epi16(zero, s[i]);
                a[2 * i] = _mm_add_epi32(a[2 * i], _mm_unpacklo_epi16(s[i], sg));
                a[2 * i + 1] = _mm_add_epi32(a[2 * i + 1], _mm_unpackhi_epi16(s[i], sg));
            }
        }
        for (int i = 0; i < 8; i++) _mm_storeu_si128((__m128i *)(acc + (size_t)b * 32 + 4 * i), a[i]);
    }
}

__attribute__((target("avx2")))
static void accumulate_avx2(const uint8_t *codes, const int8_t *rows, int32_t padded,
                            int32_t b0, int32_t b1, const int32_t *block_group, int32_t *acc) {
    const __m256i nib = _mm256_set1_epi8(15);
    const int32_t pairs = padded / 2;
    for (int32_t b = b0; b < b1; b++) {
        const uint8_t *cb = codes + (size_t)b * padded * 16;
        const int8_t *rg = rows + (size_t)block_group[b] * padded * 16;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int32_t q0 = 0; q0 < pairs; q0 += LF_CHUNK) {
            int32_t q1 = q0 + LF_CHUNK < pairs ? q0 + LF_CHUNK : pairs;
            // s0/s1: columns 0..15 from even/odd positions; s2/s3: columns 16..31.
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (int32_t q = q0; q < q1; q++) {
                // Lane 0 holds position 2q (its codes and its table row), lane 1 position 2q + 1.
                __m256i c = _mm256_loadu_si256((const __m256i *)(cb + (size_t)q * 32));
                __m256i t = _mm256_loadu_si256((const __m256i *)(rg + (size_t)q * 32));
                __m256i lo = _mm256_shuffle_epi8(t, _mm256_and_si256(c, nib));
                __m256i hi = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), nib));
                s0 = _mm256_add_epi16(s0, _mm256_cvtepi8_epi16(_mm256_castsi256_si128(lo)));
                s1 = _mm256_add_epi16(s1, _mm256_cvtepi8_epi16(_mm256_extracti128_si256(lo, 1)));
                s2 = _mm256_add_epi16(s2, _mm256_cvtepi8_epi16(_mm256_castsi256_si128(hi)));
                s3 = _mm256_add_epi16(s3, _mm256_cvtepi8_epi16(_mm256_extracti128_si256(hi, 1)));
            }
            a0 = _mm256_add_epi32(a0, _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s0)),
                                                       _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s1))));
            a1 = _mm256_add_epi32(a1, _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s0, 1)),
                                                       _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s1, 1))));
            a2 = _mm256_add_epi32(a2, _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s2)),
                                                       _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s3))));
            a3 = _mm256_add_epi32(a3, _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s2, 1)),
                                                       _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s3, 1))));
        }
        int32_t *out = acc + (size_t)b * 32;
        _mm256_storeu_si256((__m256i *)out, a0);
        _mm256_storeu_si256((__m256i *)(out + 8), a1);
        _mm256_storeu_si256((__m256i *)(out + 16), a2);
        _mm256_storeu_si256((__m256i *)(out + 24), a3);
    }
}
#endif

void lf_lut_accumulate(const uint8_t *codes, const int8_t *rows, int32_t padded,
                       int32_t block_begin, int32_t block_end, const int32_t *block_group, int32_t *acc) {
    switch (lf_simd_level()) {
#ifdef LF_X86
    case 2: accumulate_avx2(codes, rows, padded, block_begin, block_end, block_group, acc); return;
    case 1: accumulate_ssse3(codes, rows, padded, block_begin, block_end, block_group, acc); return;
#endif
    default: accumulate_c(codes, rows, padded, block_begin, block_end, block_group, acc); return;
    }
}

static void kmeans_assign_c(const double *points, int64_t begin, int64_t end, int32_t d,
                            const double *soa, int32_t k, int32_t kp, int64_t *assign, double *distance) {
    for (int64_t i = begin; i < end; i++) {
        const double *p = points + i * d;
        int64_t best = 0;
        double best_d = __builtin_inf();
        for (int32_t c = 0; c < k; c++) {
            double s = 0;
            for (int32_t e = 0; e < d; e++) { double diff = p[e] - soa[(size_t)e * kp + c]; s += diff * diff; }
            if (s < best_d) { best_d = s; best = c; }
        }
        assign[i - begin] = best;
        distance[i - begin] = best_d;
    }
}

#ifdef LF_X86
// AVX2 without FMA: every distance is rounded exactly as the scalar loop's.
__attribute__((target("avx2")))
static void kmeans_assign_avx2(const double *points, int64_t begin, int64_t end, int32_t d,
                               const double *soa, int32_t k, int32_t kp, int64_t *assign, double *distance) {
    for (int64_t i = begin; i < end; i++) {
        const double *p = points + i * d;
        __m256d best = _mm256_set1_pd(__builtin_inf());
        __m256d best_i = _mm256_set1_pd(0), idx = _mm256_set_pd(3, 2, 1, 0);
        const __m256d four = _mm256_set1_pd(4);
        for (int32_t c = 0; c < kp; c += 4) {
            __m256d s = _mm256_setzero_pd();
            for (int32_t e = 0; e < d; e++) {
                __m256d diff = _mm256_sub_pd(_mm256_set1_pd(p[e]), _mm256_loadu_pd(soa + (size_t)e * kp + c));
                s = _mm256_add_pd(s, _mm256_mul_pd(diff, diff));
            }
            __m256d lt = _mm256_cmp_pd(s, best, _CMP_LT_OQ);
            best = _mm256_blendv_pd(best, s, lt);
            best_i = _mm256_blendv_pd(best_i, idx, lt);
            idx = _mm256_add_pd(idx, four);
        }
        double bv[4], bi[4];
        _mm256_storeu_pd(bv, best); _mm256_storeu_pd(bi, best_i);
        // Each lane kept its first least distance; across lanes the least, then the lowest index.
        int l = 0;
        for (int j = 1; j < 4; j++) if (bv[j] < bv[l] || (bv[j] == bv[l] && bi[j] < bi[l])) l = j;
        int64_t c = (int64_t)bi[l];
        assign[i - begin] = c < k ? c : 0;
        distance[i - begin] = bv[l];
    }
}
#endif

void lf_kmeans_assign(const double *points, int64_t begin, int64_t end, int32_t d,
                      const double *soa, int32_t k, int32_t kp, int64_t *assign, double *distance) {
#ifdef LF_X86
    if (lf_simd_level() >= 2) { kmeans_assign_avx2(points, begin, end, d, soa, k, kp, assign, distance); return; }
#endif
    kmeans_assign_c(points, begin, end, d, soa, k, kp, assign, distance);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double lf_copy_bandwidth(size_t bytes, int32_t repeats) {
    char *a = malloc(bytes), *b = malloc(bytes);
    if (!a || !b) { free(a); free(b); return 0; }
    memset(a, 1, bytes); memset(b, 2, bytes);
    double best = 1e30;
    for (int32_t r = 0; r < repeats; r++) {
        double t0 = now_seconds();
        memcpy(b, a, bytes);
        double t = now_seconds() - t0;
        if (t < best) best = t;
        a[r % bytes] = (char)r;  // keep the copies from being folded
    }
    volatile char sink = b[bytes / 2]; (void)sink;
    free(a); free(b);
    return 2.0 * (double)bytes / best;
}
