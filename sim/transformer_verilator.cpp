// Verilator harness of a LUTForge transformer (rtl/lutforge_transformer.v): loads token ids,
// pulses `go` with the mode word {decode, length}, collects the streamed logits (decoders:
// greedy generation, the next token fed back) or hidden states (encoders), and prints them
// as the C-simulation does, with the cycles of each run.
//   transformer_sim --ids 1,2,3 --new-tokens 8        (decoders)
//   transformer_sim --ids 1,2,3 [--mask 1,1,0]        (encoders)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "Vlutforge_transformer.h"
#include "verilated.h"

static const char *arg(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return nullptr;
}

static std::vector<int> parse_list(const char *text) {
    std::vector<int> v;
    for (const char *c = text; *c;) {
        char *end;
        v.push_back(int(std::strtol(c, &end, 10)));
        if (end == c) break;
        c = *end == ',' ? end + 1 : end;
    }
    return v;
}

struct Harness {
    VerilatedContext *ctx;
    Vlutforge_transformer *top;
    unsigned long long cycles = 0;

    void tick() {
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
        cycles++;
    }

    // Runs `ids` (with key mask bits) and returns the streamed outputs; `spent` gets the cycles from go to done.
    std::vector<long long> run(const std::vector<int> &ids, const std::vector<int> &mask, unsigned long long &spent) {
        for (size_t i = 0; i < ids.size(); i++) {
            top->tok_valid = 1;
            top->tok_data = ids[i];
            top->tok_mask = mask[i];
            top->clk = 0;
            top->eval();
            while (!top->tok_ready) { tick(); top->clk = 0; top->eval(); }
            tick();
        }
        top->tok_valid = 0;
        top->go = 1;
        top->mode = (ids.size() == 1 ? 0x200 : 0) | (ids.size() & 0x1ff);
        tick();
        top->go = 0;
        const unsigned long long begin = cycles;
        std::vector<long long> out;
        top->out_ready = 1;
        while (true) {
            top->clk = 0;
            top->eval();
            if (top->out_valid) out.push_back((long long)(short)top->out_data);
            tick();
            if (top->done) break;
            if (cycles - begin > 2000000000ULL) {
                std::fprintf(stderr, "no done after %llu cycles\n", cycles - begin);
                std::exit(3);
            }
        }
        spent = cycles - begin;
        return out;
    }
};

int main(int argc, char **argv) {
    const char *ids_text = arg(argc, argv, "--ids");
    if (!ids_text) {
        std::fprintf(stderr, "usage: %s --ids 1,2,3 [--new-tokens N | --mask 1,1,0]\n", argv[0]);
        return 2;
    }
    Harness h;
    h.ctx = new VerilatedContext;
    h.top = new Vlutforge_transformer{h.ctx};
    h.top->rst = 1;
    h.top->clear = 0;
    h.top->tok_valid = 0;
    h.top->go = 0;
    h.top->out_ready = 0;
    for (int i = 0; i < 4; i++) h.tick();
    h.top->rst = 0;
    h.tick();
    std::vector<int> ids = parse_list(ids_text);
    const char *count_text = arg(argc, argv, "--new-tokens");
    const char *mask_text = arg(argc, argv, "--mask");
    unsigned long long spent = 0;
    if (count_text) {
        const int count = std::atoi(count_text);
        std::vector<long long> last = h.run(ids, std::vector<int>(ids.size(), 1), spent);
        std::printf("cycles prefill %llu\n", spent);
        for (int step = 0; step < count; step++) {
            std::printf("logits");
            for (long long v : last) std::printf(" %lld", v);
            std::printf("\n");
            int next = 0;
            for (size_t i = 1; i < last.size(); i++) if (last[i] > last[next]) next = int(i);
            std::printf("token %d\n", next);
            if (step + 1 < count) {
                last = h.run(std::vector<int>{next}, std::vector<int>{1}, spent);
                std::printf("cycles decode %llu\n", spent);
            }
        }
    } else {
        std::vector<int> mask = mask_text ? parse_list(mask_text) : std::vector<int>(ids.size(), 1);
        std::vector<long long> out = h.run(ids, mask, spent);
        std::printf("cycles prefill %llu\n", spent);
        const size_t width = out.size() / ids.size();
        for (size_t p = 0; p < ids.size(); p++) {
            std::printf("hidden");
            for (size_t i = 0; i < width; i++) std::printf(" %lld", out[p * width + i]);
            std::printf("\n");
        }
    }
    h.top->final();
    delete h.top;
    delete h.ctx;
    return 0;
}
