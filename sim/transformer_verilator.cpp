// Verilator harness of a LUTForge transformer (rtl/lutforge_transformer.v): loads token ids,
// pulses `go` with the mode word {decode, length}, collects the streamed logits (decoders:
// greedy generation, the next token fed back) or hidden states (encoders), and prints them
// as the C-simulation does, with the cycles of each run. It serves the engine's off-chip
// memory port with the model of HardwareIR/TransformerEngine.swift (MemoryModel): a burst is
// accepted the cycle it is asked for, its first word comes --mem-latency cycles later and each
// next one --mem-interval cycles after the previous.
//   transformer_sim --ids 1,2,3 --new-tokens 8 [--offchip offchip.mem] [--mem-latency 24] [--mem-interval 1]   (decoders)
//   transformer_sim --ids 1,2,3 [--mask 1,1,0] [...]                                                           (encoders)
#include <cstdint>
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

// 64-bit words, one hexadecimal word per line.
static std::vector<uint64_t> read_words(const char *path) {
    std::vector<uint64_t> words;
    FILE *f = std::fopen(path, "r");
    if (!f) {
        std::fprintf(stderr, "%s: cannot read the off-chip image\n", path);
        std::exit(2);
    }
    char line[64];
    while (std::fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        words.push_back(std::strtoull(line, nullptr, 16));
    }
    std::fclose(f);
    return words;
}

// The off-chip memory model.
struct Memory {
    std::vector<uint64_t> words;
    unsigned long long latency = 24, interval = 1;
    bool busy = false;
    unsigned long long next = 0;  // cycle of the next word
    uint32_t addr = 0, left = 0;
};

struct Harness {
    VerilatedContext *ctx;
    Vlutforge_transformer *top;
    unsigned long long cycles = 0;
    Memory mem;

    // One clock cycle; the memory presents this cycle's word (if any) and takes a request.
    void tick() {
        const bool beat = mem.busy && cycles >= mem.next;
        top->mem_rsp_valid = beat;
        top->mem_rsp_data = beat ? mem.words[mem.addr] : 0;
        top->clk = 0;
        top->eval();
        const bool req = top->mem_req_valid;
        const uint32_t req_addr = top->mem_req_addr, req_len = top->mem_req_len;
        top->clk = 1;
        top->eval();
        if (beat) {
            mem.addr++;
            mem.next = cycles + mem.interval;
            if (--mem.left == 0) mem.busy = false;
        }
        if (req) {
            if (mem.busy || req_len == 0 || uint64_t(req_addr) + req_len > mem.words.size()) {
                std::fprintf(stderr, "bad off-chip request at cycle %llu: %u words at %u (image of %zu words%s)\n", cycles, req_len,
                             req_addr, mem.words.size(), mem.busy ? ", a burst in flight" : "");
                std::exit(3);
            }
            mem.busy = true;
            mem.addr = req_addr;
            mem.left = req_len;
            mem.next = cycles + mem.latency;
        }
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
    if (const char *path = arg(argc, argv, "--offchip")) h.mem.words = read_words(path);
    if (const char *l = arg(argc, argv, "--mem-latency")) h.mem.latency = std::strtoull(l, nullptr, 10);
    if (const char *i = arg(argc, argv, "--mem-interval")) h.mem.interval = std::strtoull(i, nullptr, 10);
    if (h.mem.latency < 1 || h.mem.interval < 1) {
        std::fprintf(stderr, "--mem-latency and --mem-interval must be at least 1\n");
        return 2;
    }
    h.ctx = new VerilatedContext;
    h.top = new Vlutforge_transformer{h.ctx};
    h.top->rst = 1;
    h.top->clear = 0;
    h.top->tok_valid = 0;
    h.top->go = 0;
    h.top->out_ready = 0;
    h.top->mem_rsp_valid = 0;
    h.top->mem_rsp_data = 0;
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
