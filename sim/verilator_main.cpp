// Verilator harness for a generated LUTForge design (after Verilator's
// examples/make_tracing_c/sim_main.cpp): streams integer input vectors into
// lutforge_top through its valid/ready handshake and records every output and
// the cycles from the first input beat to the last output beat. Then it streams
// all vectors again back to back and records the cycles between successive
// out_last beats (the initiation interval; interval_last is the steady state) and
// checks the outputs are the same.
// Usage: Vlutforge_top --in inputs.txt --out outputs.txt [--stall SEED]
// With --stall, in_valid and out_ready drop at random to exercise back-pressure.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "Vlutforge_top.h"
#include "design.h"
#include "verilated.h"

static const char *arg(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return nullptr;
}

static long long sign_extend(unsigned long long raw, int bits, bool is_signed) {
    raw &= (bits == 64) ? ~0ull : ((1ull << bits) - 1);
    if (is_signed && bits < 64 && (raw >> (bits - 1)) & 1) return (long long)(raw | (~0ull << bits));
    return (long long)raw;
}

int main(int argc, char **argv) {
    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
    const char *in_path = arg(argc, argv, "--in"), *out_path = arg(argc, argv, "--out");
    const char *stall = arg(argc, argv, "--stall");
    if (!in_path || !out_path) {
        std::fprintf(stderr, "usage: %s --in inputs.txt --out outputs.txt [--stall SEED]\n", argv[0]);
        return 2;
    }
    FILE *in = std::fopen(in_path, "r");
    long count = 0, width = 0;
    if (!in || std::fscanf(in, "%ld %ld", &count, &width) != 2 || width != LUTFORGE_IN_COUNT || count < 0) {
        std::fprintf(stderr, "%s: cannot read header (expected width %d)\n", in_path, LUTFORGE_IN_COUNT);
        return 2;
    }
    FILE *out = std::fopen(out_path, "w");
    if (!out) {
        std::fprintf(stderr, "%s: cannot create\n", out_path);
        return 2;
    }
    std::fprintf(out, "%ld %d\n", count, LUTFORGE_OUT_COUNT);
    unsigned long long rng = stall ? std::strtoull(stall, nullptr, 10) * 2654435761ull + 1 : 0;
    auto coin = [&]() {
        if (!stall) return true;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (rng % 4) != 0;
    };

    const std::unique_ptr<Vlutforge_top> top{new Vlutforge_top{ctx.get()}};
    top->clk = 0;
    top->rst = 1;
    top->in_valid = 0;
    top->out_ready = 0;
    for (int i = 0; i < 4; i++) {
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    }
    top->rst = 0;

    long long cycle = 0, min_latency = -1, max_latency = -1, total_latency = 0;
    const long long limit = 1000LL * (LUTFORGE_LATENCY + 16);
    std::vector<long long> all_in, all_out;
    std::vector<long long> x(LUTFORGE_IN_COUNT);
    for (long v = 0; v < count; v++) {
        for (int i = 0; i < LUTFORGE_IN_COUNT; i++) {
            if (std::fscanf(in, "%lld", &x[i]) != 1) {
                std::fprintf(stderr, "%s: vector %ld is short\n", in_path, v);
                return 2;
            }
            all_in.push_back(x[i]);
        }
        int sent = 0, received = 0;
        long long first = -1, last = -1, start = cycle;
        while (received < LUTFORGE_OUT_COUNT) {
            if (cycle - start > limit) {
                std::fprintf(stderr, "vector %ld: no output after %lld cycles (design hung)\n", v, limit);
                return 1;
            }
            top->clk = 0;
            top->eval();
            top->in_valid = sent < LUTFORGE_IN_COUNT && coin();
            top->in_data = (unsigned long long)x[sent < LUTFORGE_IN_COUNT ? sent : 0] & LUTFORGE_IN_MASK;
            top->out_ready = coin();
            top->eval();
            const bool in_fire = top->in_valid && top->in_ready;
            const bool out_fire = top->out_valid && top->out_ready;
            if (in_fire && sent == 0) first = cycle;
            if (out_fire) {
                if (sent < LUTFORGE_IN_COUNT) {
                    std::fprintf(stderr, "vector %ld: output before the whole input was taken\n", v);
                    return 1;
                }
                if ((bool)top->out_last != (received == LUTFORGE_OUT_COUNT - 1)) {
                    std::fprintf(stderr, "vector %ld: out_last is %d on output %d of %d\n", v, (int)top->out_last,
                                 received, LUTFORGE_OUT_COUNT);
                    return 1;
                }
                const long long y = sign_extend(top->out_data, LUTFORGE_OUT_BITS, LUTFORGE_OUT_SIGNED);
                std::fprintf(out, received ? " %lld" : "%lld", y);
                all_out.push_back(y);
                received++;
                last = cycle;
            }
            top->clk = 1;
            top->eval();
            cycle++;
            if (in_fire) sent++;
        }
        std::fprintf(out, "\n");
        const long long latency = last - first + 1;
        if (min_latency < 0 || latency < min_latency) min_latency = latency;
        if (latency > max_latency) max_latency = latency;
        total_latency += latency;
    }

    // Streaming pass: inputs offered every cycle regardless of outputs; the interval
    // between successive out_last beats is the design's initiation interval.
    long long interval_min = -1, interval_max = -1, interval_last = -1, last_end = -1;
    {
        const long long total_in = (long long)count * LUTFORGE_IN_COUNT, total_out = (long long)count * LUTFORGE_OUT_COUNT;
        long long sent = 0, received = 0, start = cycle;
        while (received < total_out) {
            if (cycle - start > limit * (count + 1)) {
                std::fprintf(stderr, "streaming: no output after %lld cycles (design hung)\n", cycle - start);
                return 1;
            }
            top->clk = 0;
            top->eval();
            top->in_valid = sent < total_in && coin();
            top->in_data = (unsigned long long)all_in[sent < total_in ? sent : 0] & LUTFORGE_IN_MASK;
            top->out_ready = coin();
            top->eval();
            const bool in_fire = top->in_valid && top->in_ready;
            if (top->out_valid && top->out_ready) {
                const long long y = sign_extend(top->out_data, LUTFORGE_OUT_BITS, LUTFORGE_OUT_SIGNED);
                if (y != all_out[received]) {
                    std::fprintf(stderr, "streaming: output %lld is %lld, one vector at a time it was %lld\n", received, y,
                                 all_out[received]);
                    return 1;
                }
                if ((bool)top->out_last != (received % LUTFORGE_OUT_COUNT == LUTFORGE_OUT_COUNT - 1)) {
                    std::fprintf(stderr, "streaming: out_last is %d on output %lld\n", (int)top->out_last, received);
                    return 1;
                }
                if (top->out_last) {
                    if (last_end >= 0) {
                        const long long d = cycle - last_end;
                        if (interval_min < 0 || d < interval_min) interval_min = d;
                        if (d > interval_max) interval_max = d;
                        interval_last = d;
                    }
                    last_end = cycle;
                }
                received++;
            }
            top->clk = 1;
            top->eval();
            cycle++;
            if (in_fire) sent++;
        }
    }
    top->final();
    std::fclose(out);
    std::printf("lutforge-sim vectors=%ld latency_min=%lld latency_max=%lld latency_total=%lld interval_min=%lld interval_max=%lld interval_last=%lld cycles=%lld\n",
                count, min_latency, max_latency, total_latency, interval_min, interval_max, interval_last, cycle);
    return 0;
}
