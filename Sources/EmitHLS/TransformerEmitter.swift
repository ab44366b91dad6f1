// HLS C++ of a transformer design: every linear instantiates the dsp_chain or lut_linear
// kernel with its generated config, the nonlinear pieces call HLS/lutforge/transformer.h,
// and `run_tokens` is the instruction stream unrolled in order (prefill and decode run the
// same code on different token counts). A command-line harness runs generation or encoding
// for C-simulation. Emission only reads the design.
import HardwareIR

extension HLSEmitter {
    /// Files of a transformer's `hls/`, keyed by path relative to it.
    public static func emitTransformer(_ d: TransformerDesign) throws -> FileSet {
        var files: FileSet = [:]
        for name in libraryFiles + ["lutforge/transformer.h", "lutforge/tf_engine.h"] where !(files["include/\(name)"] != nil) {
            files["include/\(name)"] = try Library.text("HLS/\(name)")
        }
        files["transformer.cpp"] = TransformerSource(d).text
        files["Makefile"] = """
        # C-simulation of a LUTForge transformer with g++ against the Xilinx ap_types headers.
        #   make csim AP_TYPES=/path/to/ap_types
        #   ./csim --ids 1,2,3 --new-tokens 8        (decoders: logits and token of each step)
        #   ./csim --ids 1,2,3 [--mask 1,1,0]        (encoders: the last hidden state)
        #   --offchip ../offchip.mem                 (temporal designs: the reused engine's weights)
        AP_TYPES ?= $(error set AP_TYPES to the directory holding ap_int.h)
        CXX ?= g++
        OPT ?= -O1 -Wno-uninitialized -Wno-maybe-uninitialized
        CXXFLAGS ?= -std=c++17 $(OPT) -Wall -Wextra -Werror

        csim: transformer.cpp $(wildcard include/lutforge/*.h)
        \t$(CXX) $(CXXFLAGS) -Iinclude -isystem $(AP_TYPES) transformer.cpp -o $@

        .PHONY: clean
        clean:
        \trm -f csim

        """
        return files
    }
}

/// The text of transformer.cpp.
struct TransformerSource {
    let d: TransformerDesign
    /// The reused engines, read once.
    let dspEngine: DSPEngineLayout?
    let lutEngine: LUTEngineLayout?
    var out = ""

    init(_ d: TransformerDesign) {
        self.d = d
        (dspEngine, lutEngine) = (d.dspEngine, d.lutEngine)
        emit()
    }

    var text: String { out }

    mutating func line(_ s: String = "") { out += s + "\n" }

    mutating func array(_ name: String, _ values: [Int]) {
        line("static const lutforge::tf_int \(name)[\(max(1, values.count))] = {")
        line(HLSEmitter.list(values.isEmpty ? [0] : values))
        line("};")
    }

    /// A linear's wrapper `name(mem, x, y)`: the reused engine on its words in `mem`, or its own kernel.
    mutating func linear(_ name: String, _ lin: TransformerLinear) {
        if let e = dspEngine, let r = e.region(name) {
            if let b = r.tableBase, case let .dsp(k) = lin, let t = k.table { array("\(name)_table", Array(e.table[b..<b + t.values.count])) }
            line("// \(name): \(lin.inputCount)->\(lin.outputCount) on the reused DSP engine, words \(r.base)..<\(r.base + r.words) of the off-chip image")
            line("static void \(name)(const ap_uint<64> *mem, const lutforge::tf_int *x, lutforge::tf_int *y) {")
            line("    lutforge::tf_dsp_engine(mem, \(r.base)LL, \(r.inputs), \(r.outputs), x, \(r.lo)LL, \(r.hi)LL, \(e.halfEven), \(r.tableBase == nil ? "nullptr" : "\(name)_table"), y);")
            line("}")
            line()
            return
        }
        if let e = lutEngine, let r = e.region(name) {
            if let b = r.tableBase, case let .lut(k) = lin, let t = k.table { array("\(name)_table", Array(e.table[b..<b + t.values.count])) }
            line("// \(name): \(lin.inputCount)->\(lin.outputCount) on the reused LUT engine, words \(r.centroidBase)..<\(r.end) of the off-chip image")
            line("static void \(name)(const ap_uint<64> *mem, const lutforge::tf_int *x, lutforge::tf_int *y) {")
            line("    lutforge::tf_lut_engine(mem, \(r.inputs), \(r.outputs), \(r.vectorLength), \(r.activationCentroids), \(r.weightCentroids), \(r.groupColumns), \(r.l2), "
                 + "\(r.centroidBase)LL, \(r.codeBase)LL, \(r.rowBase)LL, \(r.requantizerBase)LL, x, \(r.lo)LL, \(r.hi)LL, \(r.tableBase == nil ? "nullptr" : "\(name)_table"), y);")
            line("}")
            line()
            return
        }
        spatialLinear(name, lin)
    }

    /// A linear's config, arrays and a wrapper `name(mem, x, y)` around its own kernel (`mem` unused).
    mutating func spatialLinear(_ name: String, _ lin: TransformerLinear) {
        let k = lin.kernel as! any HLSKernel
        out += k.hlsParameters(name: name, comment: "\(name): \(lin.engine)")
        let x = HLSEmitter.cType(k.inputTypes[0].storage), y = HLSEmitter.cType(k.outputType.storage)
        line("static void \(name)(const ap_uint<64> *, const lutforge::tf_int *x, lutforge::tf_int *y) {")
        line("    static \(x) in[\(lin.inputCount)];")
        line("    static \(y) out[\(lin.outputCount)];")
        line("    for (int i = 0; i < \(lin.inputCount); i++) in[i] = \(x)(x[i]);")
        for c in k.hlsCall(name: name, inputs: [(array: "in", type: x)], output: (array: "out", type: y)) { line("    \(c)") }
        line("    for (int i = 0; i < \(lin.outputCount); i++) y[i] = out[i].to_int64();")
        line("}")
        line()
    }

    mutating func norm(_ name: String, _ k: NormKernel) {
        for (i, o) in k.outputs.enumerated() {
            array("\(name)_g\(i)", o.gains)
            array("\(name)_b\(i)", o.biases)
        }
    }

    /// A call of output `i` of norm `name` on `n` integers at `src` into `dst`.
    func normCall(_ name: String, _ k: NormKernel, output i: Int, src: String, dst: String) -> String {
        let o = k.outputs[i]
        return "lutforge::tf_norm(\(k.kind == .layer ? 1 : 0), \(k.count), \(src), \(k.epsilonTerm)LL, \(name)_g\(i), \(name)_b\(i), \(o.gainShift), \(o.type.min), \(o.type.max), \(dst));"
    }

    mutating func emit() {
        let h = d.hiddenSize, hd = d.headDim, qw = d.heads * hd, kw = d.kvHeads * hd
        let f = d.layers.first.map { $0.up.outputCount } ?? 1
        line("// \(d.name): generated by LUTForge (docs/numerics.md, \"Transformer integer numerics\").")
        line("#include <cstdio>")
        line("#include <cstdlib>")
        line("#include <cstring>")
        line("#include <vector>")
        line()
        line("#include <ap_int.h>")
        line()
        line("#include \"lutforge/pragma.h\"")
        line("#include \"lutforge/activation.h\"")
        line("#include \"lutforge/dsp_chain.h\"")
        line("#include \"lutforge/lut_linear.h\"")
        line("#include \"lutforge/transformer.h\"")
        line("#include \"lutforge/tf_engine.h\"")
        line()
        line("using lutforge::tf_int;")
        line()
        array("embedding", d.embedding)
        if let p = d.positionEmbedding, let t = d.typeEmbedding {
            array("position_embedding", p)
            array("type_embedding", t)
        }
        if let n = d.embeddingNorm { norm("embed_norm", n) }
        if let r = d.rope {
            array("rope_cos", r.cos)
            array("rope_sin", r.sin)
        }
        for (l, layer) in d.layers.enumerated() {
            let p = "L\(l)"
            if let n = layer.inputNorm { norm("\(p)_input", n) }
            if let n = layer.qNorm { norm("\(p)_qnorm", n) }
            if let n = layer.kNorm { norm("\(p)_knorm", n) }
            norm("\(p)_norm1", layer.norm1)
            if let n = layer.norm2 { norm("\(p)_norm2", n) }
            for (role, lin) in layer.linears { linear("\(p)_\(role)", lin) }
            let a = layer.attention
            array("\(p)_exp", a.expTable)
            line("static const lutforge::tf_attention \(p)_attention = {\(a.heads), \(a.kvHeads), \(a.headDim), \(a.scoreMultiplier)LL, \(a.scoreShift), \(p)_exp, \(a.expTable.count), \(a.context.multiplier)LL, \(a.context.offset)LL, \(a.context.shift), \(a.contextType.min), \(a.contextType.max)};")
            line()
        }
        if let n = d.finalNorm { norm("final_norm", n) }
        if let head = d.head { linear("head", head) }

        let layers = d.layers.count, outWidth = d.isDecoder ? d.vocabSize : h
        line("static const int HIDDEN = \(h), VOCAB = \(d.vocabSize), MAX_SEQUENCE = \(d.maxSequence), OUT_WIDTH = \(outWidth), OFFCHIP_WORDS = \(d.offChipWords);")
        line()
        line("// The KV cache of one sequence: [layer] -> [position][kv heads * head dim] (\(d.cacheType)).")
        line("struct Session {")
        line("    std::vector<tf_int> keys[\(layers)], values[\(layers)];")
        line("    int length = 0;")
        line("};")
        line()
        line("// The instruction stream on t tokens at the session's next positions; out: [t][OUT_WIDTH].")
        line("// mem: the off-chip image the reused engine reads (an m_axi port).")
        line("static void run_tokens(const ap_uint<64> *mem, Session &S, const int *ids, int t, const int *mask, std::vector<tf_int> &out) {")
        line("    (void)mem;")
        line("    const int start = S.length;")
        line("    std::vector<tf_int> x(t * \(h)), e(t * \(h)), n(t * \(h)), q(t * \(qw)), k(t * \(kw)), v(t * \(kw)), ctx(t * \(qw)), o(t * \(h));")
        line("    std::vector<tf_int> g(t * \(f)), u(t * \(f)), a(t * \(f)), dn(t * \(h)), s(t * \(h)), visible(1), scores(MAX_SEQUENCE), ex(MAX_SEQUENCE);")
        line("    std::vector<int> vis(MAX_SEQUENCE);")
        line("    out.assign(t * OUT_WIDTH, 0);")
        line("    (void)mask;")
        for ins in d.instructions { instruction(ins) }
        line("    S.length += t;")
        line("}")
        line()
        harness()
    }

    mutating func loop(_ body: String) { line("    for (int p = 0; p < t; p++) { \(body) }") }

    mutating func instruction(_ ins: TransformerInstruction) {
        let h = d.hiddenSize, hd = d.headDim, qw = d.heads * hd, kw = d.kvHeads * hd
        let f = d.layers.first.map { $0.up.outputCount } ?? 1
        line("    // \(ins)")
        switch ins {
        case .embed:
            if d.positionEmbedding != nil {
                loop("for (int i = 0; i < \(h); i++) e[p * \(h) + i] = embedding[ids[p] * \(h) + i] + position_embedding[(start + p) * \(h) + i] + type_embedding[i];")
                let nk = d.embeddingNorm!
                loop(normCall("embed_norm", nk, output: 0, src: "&e[p * \(h)]", dst: "&x[p * \(h)]") + " " + normCall("embed_norm", nk, output: 1, src: "&e[p * \(h)]", dst: "&n[p * \(h)]"))
            } else {
                loop("for (int i = 0; i < \(h); i++) x[p * \(h) + i] = embedding[ids[p] * \(h) + i];")
            }
        case let .norm(l, which):
            switch which {
            case "input": loop(normCall("L\(l)_input", d.layers[l].inputNorm!, output: 0, src: "&x[p * \(h)]", dst: "&n[p * \(h)]"))
            case "q_norm":
                loop("for (int j = 0; j < \(d.heads); j++) " + normCall("L\(l)_qnorm", d.layers[l].qNorm!, output: 0, src: "&q[p * \(qw) + j * \(hd)]", dst: "&q[p * \(qw) + j * \(hd)]"))
            case "k_norm":
                loop("for (int j = 0; j < \(d.kvHeads); j++) " + normCall("L\(l)_knorm", d.layers[l].kNorm!, output: 0, src: "&k[p * \(kw) + j * \(hd)]", dst: "&k[p * \(kw) + j * \(hd)]"))
            case "norm1", "norm2":
                let k = which == "norm1" ? d.layers[l].norm1 : d.layers[l].norm2!
                let name = "L\(l)_\(which)"
                if d.isDecoder {
                    loop(normCall(name, k, output: 0, src: "&x[p * \(h)]", dst: "&n[p * \(h)]"))
                } else {
                    loop(normCall(name, k, output: 0, src: "&s[p * \(h)]", dst: "&x[p * \(h)]") + " " + normCall(name, k, output: 1, src: "&s[p * \(h)]", dst: "&n[p * \(h)]"))
                }
            default: loop(normCall("final_norm", d.finalNorm!, output: 0, src: "&x[p * \(h)]", dst: "&n[p * \(h)]"))
            }
        case let .linear(l, roles, _):
            for role in roles {
                let name = l < 0 ? "head" : "L\(l)_\(role)"
                let (src, sw, dst, dw): (String, Int, String, Int)
                switch role {
                case "q": (src, sw, dst, dw) = ("n", h, "q", qw)
                case "k": (src, sw, dst, dw) = ("n", h, "k", kw)
                case "v": (src, sw, dst, dw) = ("n", h, "v", kw)
                case "o": (src, sw, dst, dw) = ("ctx", qw, "o", h)
                case "gate": (src, sw, dst, dw) = ("n", h, "g", f)
                case "up": (src, sw, dst, dw) = ("n", h, "u", f)
                case "down": (src, sw, dst, dw) = (d.isDecoder ? "a" : "u", f, "dn", h)
                default: (src, sw, dst, dw) = ("n", h, "out", d.vocabSize)
                }
                loop("\(name)(mem, &\(src)[p * \(sw)], &\(dst)[p * \(dw)]);")
            }
        case .rope:
            let r = d.rope!
            loop("lutforge::tf_rope(&q[p * \(qw)], \(d.heads), \(hd), start + p, rope_cos, rope_sin, \(r.type.min), \(r.type.max)); lutforge::tf_rope(&k[p * \(kw)], \(d.kvHeads), \(hd), start + p, rope_cos, rope_sin, \(r.type.min), \(r.type.max));")
        case let .attention(l):
            let causal = d.layers[l].attention.causal
            line("    S.keys[\(l)].insert(S.keys[\(l)].end(), k.begin(), k.end());")
            line("    S.values[\(l)].insert(S.values[\(l)].end(), v.begin(), v.end());")
            line("    for (int p = 0; p < t; p++) {")
            line("        int count = 0;")
            line("        const int total = int(S.keys[\(l)].size()) / \(kw);")
            line("        for (int j = 0; j < total; j++) if (\(causal ? "j <= start + p" : "true") && (!mask || mask[j])) vis[count++] = j;")
            line("        lutforge::tf_attend(L\(l)_attention, &q[p * \(qw)], S.keys[\(l)].data(), S.values[\(l)].data(), vis.data(), count, scores.data(), ex.data(), &ctx[p * \(qw)]);")
            line("    }")
        case let .gated(l):
            let g = d.layers[l].gated!
            line("    lutforge::tf_gated(t * \(f), g.data(), u.data(), \(g.requantizer.multiplier)LL, \(g.requantizer.offset)LL, \(g.requantizer.shift), \(g.output.min), \(g.output.max), a.data());")
        case let .residual(l, which):
            let e = which == 1 ? d.layers[l].residual1 : d.layers[l].residual2
            let other = which == 1 ? "o" : "dn", target = d.isDecoder ? "x" : "s"
            let y = e.outputType.element
            line("    lutforge::tf_residual(t * \(h), x.data(), \(other).data(), \(e.multiplier(0, 0))LL, \(e.multiplier(1, 0))LL, \(e.offsets[0])LL, \(e.shifts[0]), \(y.min), \(y.max), \(target).data());")
        case .output:
            if !d.isDecoder { line("    out = x;") }
        }
    }

    mutating func harness() {
        out += """
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

        static const char *arg(int argc, char **argv, const char *name) {
            for (int i = 1; i + 1 < argc; i++)
                if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
            return nullptr;
        }

        static void print_row(const char *tag, const tf_int *row, int width) {
            std::printf("%s", tag);
            for (int i = 0; i < width; i++) std::printf(" %lld", row[i]);
            std::printf("\\n");
        }

        int main(int argc, char **argv) {
            const char *ids_text = arg(argc, argv, "--ids");
            if (!ids_text) {
                std::fprintf(stderr, "usage: %s --ids 1,2,3 [--new-tokens N | --mask 1,1,0]\\n", argv[0]);
                return 2;
            }
            std::vector<int> ids = parse_list(ids_text);
            for (int id : ids)
                if (id < 0 || id >= VOCAB) { std::fprintf(stderr, "token id %d is outside the vocabulary\\n", id); return 2; }
            std::vector<ap_uint<64> > offchip;
            if (const char *path = arg(argc, argv, "--offchip")) {
                FILE *f = std::fopen(path, "r");
                if (!f) { std::fprintf(stderr, "%s: cannot read the off-chip image\\n", path); return 2; }
                char text[64];
                while (std::fgets(text, sizeof text, f))
                    if (text[0] != '\\n') offchip.push_back(ap_uint<64>(std::strtoull(text, nullptr, 16)));
                std::fclose(f);
            }
            if (int(offchip.size()) < OFFCHIP_WORDS) { std::fprintf(stderr, "the off-chip image needs %d words (--offchip FILE)\\n", OFFCHIP_WORDS); return 2; }
            const ap_uint<64> *mem = offchip.data();
            Session S;
            std::vector<tf_int> out;

        """
        if d.isDecoder {
            out += """
                const char *count_text = arg(argc, argv, "--new-tokens");
                const int count = count_text ? std::atoi(count_text) : 1;
                if (int(ids.size()) + count > MAX_SEQUENCE) { std::fprintf(stderr, "sequence exceeds %d tokens\\n", MAX_SEQUENCE); return 2; }
                run_tokens(mem, S, ids.data(), int(ids.size()), nullptr, out);
                std::vector<tf_int> last(out.end() - OUT_WIDTH, out.end());
                for (int step = 0; step < count; step++) {
                    print_row("logits", last.data(), OUT_WIDTH);
                    int next = 0;
                    for (int i = 1; i < OUT_WIDTH; i++) if (last[i] > last[next]) next = i;
                    std::printf("token %d\\n", next);
                    if (step + 1 < count) {
                        run_tokens(mem, S, &next, 1, nullptr, out);
                        last.assign(out.begin(), out.end());
                    }
                }
                return 0;
            }

            """
        } else {
            out += """
                const char *mask_text = arg(argc, argv, "--mask");
                std::vector<int> mask = mask_text ? parse_list(mask_text) : std::vector<int>(ids.size(), 1);
                if (int(ids.size()) > MAX_SEQUENCE || mask.size() != ids.size()) { std::fprintf(stderr, "bad sequence or mask\\n"); return 2; }
                run_tokens(mem, S, ids.data(), int(ids.size()), mask.data(), out);
                for (size_t p = 0; p < ids.size(); p++) print_row("hidden", &out[p * OUT_WIDTH], OUT_WIDTH);
                return 0;
            }

            """
        }
    }
}
