// C-simulation testbench for a generated LUTForge HLS design: reads integer
// input vectors, streams each through lutforge_top, writes the output integers.
// Usage: csim --in inputs.txt --out outputs.txt
// Vector files: a header line "<vectors> <width>", then one vector per line.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lutforge_top.h"

static const char *arg(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return nullptr;
}

int main(int argc, char **argv) {
    const char *in_path = arg(argc, argv, "--in"), *out_path = arg(argc, argv, "--out");
    if (!in_path || !out_path) {
        std::fprintf(stderr, "usage: %s --in inputs.txt --out outputs.txt\n", argv[0]);
        return 2;
    }
    FILE *in = std::fopen(in_path, "r");
    if (!in) {
        std::fprintf(stderr, "%s: cannot open\n", in_path);
        return 2;
    }
    long count = 0, width = 0;
    if (std::fscanf(in, "%ld %ld", &count, &width) != 2 || width != LUTFORGE_IN_COUNT || count < 0) {
        std::fprintf(stderr, "%s: bad header (expected width %d)\n", in_path, LUTFORGE_IN_COUNT);
        return 2;
    }
    FILE *out = std::fopen(out_path, "w");
    if (!out) {
        std::fprintf(stderr, "%s: cannot create\n", out_path);
        return 2;
    }
    std::fprintf(out, "%ld %d\n", count, LUTFORGE_OUT_COUNT);
    for (long v = 0; v < count; v++) {
        hls::stream<input_t> xs("x");
        hls::stream<output_t> ys("y");
        for (int i = 0; i < LUTFORGE_IN_COUNT; i++) {
            long long value;
            if (std::fscanf(in, "%lld", &value) != 1) {
                std::fprintf(stderr, "%s: vector %ld is short\n", in_path, v);
                return 2;
            }
            xs.write(input_t(value));
        }
        lutforge_top(xs, ys);
        for (int n = 0; n < LUTFORGE_OUT_COUNT; n++) {
            if (ys.empty()) {
                std::fprintf(stderr, "vector %ld: design wrote %d outputs, expected %d\n", v, n, LUTFORGE_OUT_COUNT);
                return 1;
            }
            std::fprintf(out, n ? " %lld" : "%lld", (long long)ys.read().to_int64());
        }
        std::fprintf(out, "\n");
        if (!ys.empty() || !xs.empty()) {
            std::fprintf(stderr, "vector %ld: stream not drained\n", v);
            return 1;
        }
    }
    std::fclose(out);
    std::fclose(in);
    return 0;
}
