// A transformer in integers: its linears as the existing DSP-chain and LUT-linear kernels,
// its nonlinear pieces (norms, RoPE, softmax attention, gated product, residual adds) as
// integer parameter sets, the KV cache format and the instruction stream of the
// spatial-temporal engine. The arithmetic is docs/numerics.md "Transformer integer
// numerics"; ReferenceEngine/TransformerInteger.swift and HLS/lutforge/transformer.h
// implement it. Lowering/TransformerLowering.swift is the only producer.

/// One linear of a transformer on the engine that runs it.
public enum TransformerLinear: Sendable {
    /// Multiply-accumulate chains on DSP slices.
    case dsp(DSPKernel)
    /// The LUT-linear (vector-quantized table) engine.
    case lut(LUTKernel)

    /// The kernel itself.
    public var kernel: any KernelDefinition {
        switch self {
        case let .dsp(k): k
        case let .lut(k): k
        }
    }

    /// `dsp` or `lut`.
    public var engine: String {
        switch self {
        case .dsp: "dsp"
        case .lut: "lut"
        }
    }

    public var inputCount: Int {
        switch self {
        case let .dsp(k): k.inputCount
        case let .lut(k): k.inputCount
        }
    }

    public var outputCount: Int {
        switch self {
        case let .dsp(k): k.outputCount
        case let .lut(k): k.outputCount
        }
    }

    /// Bytes of its weights and tables as stored off chip (values rounded up to bytes).
    public var parameterBytes: Int { kernel.memories.reduce(0) { $0 + $1.depth * (($1.width + 7) / 8) } }
}

/// One integer output of a norm: `y_i = clamp(((c_i·G_i·R) + 2^(T−1)) >> T) + B_i)`.
public struct NormOutput: Sendable, Hashable {
    /// `G_i`, signed: the real gain `γ_i·√n / s_y` at `2^g`, below `2^(36 − bits(c))` so `c·G·R` fits 62 bits.
    public var gains: [Int]
    /// `B_i = round(β_i / s_y)` (zero for RMSNorm).
    public var biases: [Int]
    /// `g`.
    public var gainShift: Int
    /// Output type (saturating).
    public var type: IntType
    /// Real value of one output step.
    public var scale: Double
    /// Types of the stored gains and biases (signed, proven from the values).
    public var gainType: IntType
    public var biasType: IntType

    public init(gains: [Int], biases: [Int], gainShift: Int, type: IntType, scale: Double) {
        (self.gains, self.biases, self.gainShift, self.type, self.scale) = (gains, biases, gainShift, type, scale)
        gainType = Arith.signedType(gains.min() ?? 0, gains.max() ?? 0)!
        biasType = Arith.signedType(biases.min() ?? 0, biases.max() ?? 0)!
    }
}

/// RMSNorm or LayerNorm over `count` integers, with one or more integer outputs.
public struct NormKernel: Sendable, Hashable {
    public enum Kind: String, Sendable { case rms, layer }
    public var kind: Kind
    /// Elements normalized together (`n`; the head dimension for Qwen3's q/k norms).
    public var count: Int
    /// Input type.
    public var input: IntType
    /// `E = max(1, round(ε·n / s_x²))`, added to `Σ c²`.
    public var epsilonTerm: Int
    /// The outputs (a LayerNorm of BERT feeds the int16 residual and the int8 linear input).
    public var outputs: [NormOutput]
    /// Fraction bits of the reciprocal square root `R = floor(2^40 / u)`.
    public static let reciprocalBits = 40

    public init(kind: Kind, count: Int, input: IntType, epsilonTerm: Int, outputs: [NormOutput]) {
        (self.kind, self.count, self.input, self.epsilonTerm, self.outputs) = (kind, count, input, epsilonTerm, outputs)
    }
}

/// Fixed-point rotary tables: `C[pos][i] = round(2^14·cos(pos·θ_i))`, `S` likewise with sin.
public struct RoPETable: Sendable, Hashable {
    public var headDim: Int
    /// Positions covered (the longest sequence the design runs).
    public var positions: Int
    /// `[positions][headDim/2]`.
    public var cos: [Int]
    public var sin: [Int]
    /// Type of q and k, in and out.
    public var type: IntType
    public static let fractionBits = 14

    public init(headDim: Int, positions: Int, cos: [Int], sin: [Int], type: IntType) {
        (self.headDim, self.positions, self.cos, self.sin, self.type) = (headDim, positions, cos, sin, type)
    }
}

/// Integer softmax attention: scores `q·k`, `exp` by table, integer sum, one reciprocal per
/// row, Q0.15 probabilities, `Σ p·v` requantized to the context type.
public struct AttentionKernel: Sendable, Hashable {
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Causal (decoders) or by a key mask (BERT).
    public var causal: Bool
    /// Table index `min(N−1, ((max − s)·Mx + 2^(Sx−1)) >> Sx)`.
    public var scoreMultiplier: Int
    public var scoreShift: Int
    /// `E[i] = round(2^15·exp(−i·Δ))`; the last entry is 0.
    public var expTable: [Int]
    /// `Δ`, the table's step in natural-log units.
    public var expStep: Double
    /// `Σ p·v` to the context type.
    public var context: Requantizer
    public var contextType: IntType
    /// q, k (after RoPE) and v types.
    public var qType: IntType
    public var kType: IntType
    public var vType: IntType
    public static let probabilityBits = 15
    public static let reciprocalBits = 31
    /// Type of the exp table's entries (`E[0] = 2^15`).
    public static let expType = IntType.uint(16)

    public init(heads: Int, kvHeads: Int, headDim: Int, causal: Bool, scoreMultiplier: Int, scoreShift: Int, expTable: [Int],
                expStep: Double, context: Requantizer, contextType: IntType, qType: IntType, kType: IntType, vType: IntType) {
        (self.heads, self.kvHeads, self.headDim, self.causal) = (heads, kvHeads, headDim, causal)
        (self.scoreMultiplier, self.scoreShift, self.expTable, self.expStep) = (scoreMultiplier, scoreShift, expTable, expStep)
        (self.context, self.contextType, self.qType, self.kType, self.vType) = (context, contextType, qType, kType, vType)
    }
}

/// The SiLU-gated product `y = clamp((a·u·M + C) >> S)` of the SiLU table's output `a` and `up`.
public struct GatedProduct: Sendable, Hashable {
    public var requantizer: Requantizer
    public var output: IntType

    public init(requantizer: Requantizer, output: IntType) { (self.requantizer, self.output) = (requantizer, output) }
}

/// The parameters of one transformer layer. Decoders use every field but `norm1`/`norm2`'s
/// second outputs; BERT uses `q…o`, `residual1`, `norm1`, `up` (intermediate, GELU table),
/// `down`, `residual2`, `norm2`.
public struct TransformerLayerDesign: Sendable {
    /// Decoder: the input RMSNorm. BERT: nil (the previous LayerNorm feeds the layer).
    public var inputNorm: NormKernel?
    public var q: TransformerLinear
    public var k: TransformerLinear
    public var v: TransformerLinear
    /// Qwen3's per-head RMSNorms on q and k.
    public var qNorm: NormKernel?
    public var kNorm: NormKernel?
    public var attention: AttentionKernel
    public var o: TransformerLinear
    /// Decoder: `x + o` to the residual. BERT: `o + x` to the LayerNorm's input.
    public var residual1: ElementwiseKernel
    /// Decoder: the post-attention RMSNorm. BERT: the attention output LayerNorm.
    public var norm1: NormKernel
    /// Decoder: the gate projection with the SiLU table. BERT: nil.
    public var gate: TransformerLinear?
    /// Decoder: the up projection. BERT: the intermediate dense with the GELU table.
    public var up: TransformerLinear
    public var gated: GatedProduct?
    public var down: TransformerLinear
    public var residual2: ElementwiseKernel
    /// BERT: the output LayerNorm. Decoders: nil.
    public var norm2: NormKernel?

    public init(inputNorm: NormKernel?, q: TransformerLinear, k: TransformerLinear, v: TransformerLinear, qNorm: NormKernel?, kNorm: NormKernel?,
                attention: AttentionKernel, o: TransformerLinear, residual1: ElementwiseKernel, norm1: NormKernel, gate: TransformerLinear?,
                up: TransformerLinear, gated: GatedProduct?, down: TransformerLinear, residual2: ElementwiseKernel, norm2: NormKernel?) {
        (self.inputNorm, self.q, self.k, self.v, self.qNorm, self.kNorm) = (inputNorm, q, k, v, qNorm, kNorm)
        (self.attention, self.o, self.residual1, self.norm1, self.gate) = (attention, o, residual1, norm1, gate)
        (self.up, self.gated, self.down, self.residual2, self.norm2) = (up, gated, down, residual2, norm2)
    }

    /// The linears by role, in the order the engine runs them.
    public var linears: [(role: String, linear: TransformerLinear)] {
        [("q", q), ("k", k), ("v", v), ("o", o)] + (gate.map { [("gate", $0)] } ?? []) + [("up", up), ("down", down)]
    }
}

/// One instruction of the spatial-temporal engine: a round of the reused linear engines, or a
/// streaming kernel. The reference engine executes this list; it is the schedule.
public enum TransformerInstruction: Sendable, Hashable, CustomStringConvertible {
    /// Embedding lookup (and BERT's position/type sum and LayerNorm).
    case embed
    /// A norm of layer `layer` (`input`, `q_norm`/`k_norm`, `norm1`, `norm2`, `final`).
    case norm(layer: Int, which: String)
    /// One round of a reused linear engine over the linears `roles` of layer `layer` (−1: the head).
    case linear(layer: Int, roles: [String], engine: String)
    /// RoPE on q and k, then k and v into the KV cache.
    case rope(layer: Int)
    /// Attention over the cache.
    case attention(layer: Int)
    /// SiLU-gated product.
    case gated(layer: Int)
    /// Residual add `which` (1 or 2).
    case residual(layer: Int, which: Int)
    /// Logits out (decoders) or hidden state out (encoders).
    case output

    public var description: String {
        switch self {
        case .embed: "embed"
        case let .norm(l, w): "norm \(w) L\(l)"
        case let .linear(l, r, e): "linear \(e) \(l < 0 ? "head" : "L\(l)") \(r.joined(separator: "+"))"
        case let .rope(l): "rope L\(l)"
        case let .attention(l): "attention L\(l)"
        case let .gated(l): "gated L\(l)"
        case let .residual(l, w): "residual\(w) L\(l)"
        case .output: "output"
        }
    }
}

/// The mode word of a run: prefill of `length` tokens, or one decode step.
public struct TransformerMode: Sendable, Hashable {
    public var length: Int
    public var decode: Bool
    /// The 10-bit word `{decode, length[8:0]}` (after LUT-LLM).
    public var word: Int { (decode ? 1 << 9 : 0) | (length & 0x1ff) }

    public init(length: Int, decode: Bool) { (self.length, self.decode) = (length, decode) }
}

/// A whole transformer in integers.
public struct TransformerDesign: Sendable {
    public var name: String
    public var isDecoder: Bool
    public var hiddenSize: Int
    public var vocabSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Longest sequence (prompt plus generated tokens) the KV cache and RoPE tables hold.
    public var maxSequence: Int
    /// Token embeddings `[vocab][hidden]` in `embeddingType` (BERT: at the common embedding scale).
    public var embedding: [Int]
    public var embeddingType: IntType
    /// BERT: position `[maxSequence][hidden]` and token-type-0 `[hidden]` embeddings, same scale.
    public var positionEmbedding: [Int]?
    public var typeEmbedding: [Int]?
    /// BERT: the embedding LayerNorm.
    public var embeddingNorm: NormKernel?
    public var layers: [TransformerLayerDesign]
    public var rope: RoPETable?
    /// Decoders: final RMSNorm and the output projection.
    public var finalNorm: NormKernel?
    public var head: TransformerLinear?
    /// Real value of one step of the output (logits, or the last hidden state).
    public var outputScale: Double
    /// KV cache element types (int8 at the layer's k and v scales).
    public var cacheType: IntType
    /// Linears on the reused off-chip-fed engine (temporal) or one instance each (spatial).
    public var mapping: TransformerMapping = .temporal

    public init(name: String, isDecoder: Bool, hiddenSize: Int, vocabSize: Int, heads: Int, kvHeads: Int, headDim: Int, maxSequence: Int,
                embedding: [Int], embeddingType: IntType, positionEmbedding: [Int]?, typeEmbedding: [Int]?, embeddingNorm: NormKernel?,
                layers: [TransformerLayerDesign], rope: RoPETable?, finalNorm: NormKernel?, head: TransformerLinear?, outputScale: Double,
                cacheType: IntType) {
        (self.name, self.isDecoder, self.hiddenSize, self.vocabSize) = (name, isDecoder, hiddenSize, vocabSize)
        (self.heads, self.kvHeads, self.headDim, self.maxSequence) = (heads, kvHeads, headDim, maxSequence)
        (self.embedding, self.embeddingType, self.positionEmbedding, self.typeEmbedding) = (embedding, embeddingType, positionEmbedding, typeEmbedding)
        (self.embeddingNorm, self.layers, self.rope, self.finalNorm, self.head) = (embeddingNorm, layers, rope, finalNorm, head)
        (self.outputScale, self.cacheType) = (outputScale, cacheType)
    }

    /// The instruction stream of one run (prefill or decode: the same list, the mode word differs).
    /// Linears of a layer share the engine in LUT-LLM's rounds: QKV, O, gate+up, down.
    public var instructions: [TransformerInstruction] {
        var out: [TransformerInstruction] = [.embed]
        func round(_ l: Int, _ roles: [(String, TransformerLinear)]) {
            // One round per engine kind among the roles (a LUT MLP beside DSP attention).
            var engines: [String] = []
            for (_, lin) in roles where !engines.contains(lin.engine) { engines.append(lin.engine) }
            for e in engines { out.append(.linear(layer: l, roles: roles.filter { $0.1.engine == e }.map(\.0), engine: e)) }
        }
        for (l, layer) in layers.enumerated() {
            if isDecoder { out.append(.norm(layer: l, which: "input")) }
            round(l, [("q", layer.q), ("k", layer.k), ("v", layer.v)])
            if layer.qNorm != nil { out += [.norm(layer: l, which: "q_norm"), .norm(layer: l, which: "k_norm")] }
            if isDecoder { out.append(.rope(layer: l)) }
            out.append(.attention(layer: l))
            round(l, [("o", layer.o)])
            out.append(.residual(layer: l, which: 1))
            out.append(.norm(layer: l, which: "norm1"))
            round(l, (layer.gate.map { [("gate", $0)] } ?? []) + [("up", layer.up)])
            if layer.gated != nil { out.append(.gated(layer: l)) }
            round(l, [("down", layer.down)])
            out.append(.residual(layer: l, which: 2))
            if layer.norm2 != nil { out.append(.norm(layer: l, which: "norm2")) }
        }
        if isDecoder {
            out.append(.norm(layer: layers.count, which: "final"))
            if let head { out.append(.linear(layer: -1, roles: ["head"], engine: head.engine)) }
        }
        out.append(.output)
        return out
    }

    /// Type of a position (`0...maxSequence`): RoPE's position and attention's visibility limit.
    public var positionType: IntType { .uint(Arith.indexBits(maxSequence + 1)) }
    /// Type of a token id.
    public var tokenType: IntType { .uint(Arith.indexBits(vocabSize)) }

    /// Bytes on chip for layer `l`: its slice of the KV cache and its exp table.
    public func onChipBytes(layer l: Int) -> Int {
        let bytes = { (t: IntType) in (t.bits + 7) / 8 }
        let cache = isDecoder ? 2 * kvHeads * maxSequence * headDim * bytes(cacheType) : 0
        return cache + layers[l].attention.expTable.count * bytes(AttentionKernel.expType)
    }

    /// Bytes of the KV cache: `[layers][kvHeads][maxSequence][headDim]` for k and for v.
    public var cacheBytes: Int { isDecoder ? 2 * layers.count * kvHeads * maxSequence * headDim * ((cacheType.bits + 7) / 8) : 0 }
}

/// The activation buffers of the RTL engine, each `[maxSequence][width]`.
public enum TransformerBuffer: String, CaseIterable, Sendable {
    case x, e, n, q, k, v, ctx, o, g, u, a, dn, s, out
}

/// A hardware kernel of the RTL engine, by the instance name steps refer to.
public enum TransformerStepKernel: Sendable {
    case linear(TransformerLinear)
    /// Output `output` of a norm (one instance per output).
    case norm(NormKernel, output: Int)
    /// RoPE over `heads` heads.
    case rope(heads: Int)
    case attention(AttentionKernel)
}

/// One step of the RTL engine's sequencer: the instruction stream expanded into moves of
/// buffers through kernels. The Verilog emitter and the cycle model both read this list.
public enum TransformerStep: Sendable {
    /// For each token and chunk: `width` words of `src` into `kernel`, its `outWidth` words to `dst`.
    case stream(kernel: String, src: TransformerBuffer, width: Int, dst: TransformerBuffer, outWidth: Int, chunks: Int)
    /// Each token's k then v row into attention `kernel`'s cache.
    case append(kernel: String, width: Int)
    /// Each token's query row through attention `kernel` into ctx.
    case query(kernel: String, width: Int, causal: Bool)
    /// `dst[i] = clamp((a·Ma + b·Mb + C) >>> S)`, or `clamp((a·b·Ma + C) >>> S)` with `product`.
    case elementwise(a: TransformerBuffer, b: TransformerBuffer, dst: TransformerBuffer, width: Int, product: Bool, ma: Int, mb: Int, c: Int, s: Int,
                     lo: Int, hi: Int)
    /// Token (plus BERT's position and type) embedding rows into `dst`.
    case embed(dst: TransformerBuffer)
    /// The last token's logits, or every token's hidden state, out.
    case output
}

extension TransformerDesign {
    /// Words per token of buffer `b`.
    public func width(_ b: TransformerBuffer) -> Int {
        let h = hiddenSize, qw = heads * headDim, kw = kvHeads * headDim, f = layers.first?.up.outputCount ?? 1
        switch b {
        case .x, .e, .n, .o, .dn, .s: return h
        case .q, .ctx: return qw
        case .k, .v: return kw
        case .g, .u, .a: return f
        case .out: return isDecoder ? vocabSize : h
        }
    }

    /// The RTL engine's kernels, in instance order, by name.
    public var stepKernels: [(name: String, kernel: TransformerStepKernel)] {
        var out: [(String, TransformerStepKernel)] = []
        func norms(_ name: String, _ k: NormKernel?) {
            guard let k else { return }
            for j in k.outputs.indices { out.append(("\(name)_\(j)", .norm(k, output: j))) }
        }
        for (l, layer) in layers.enumerated() {
            for (role, lin) in layer.linears { out.append(("L\(l)_\(role)", .linear(lin))) }
            norms("L\(l)_input", layer.inputNorm)
            norms("L\(l)_qnorm", layer.qNorm)
            norms("L\(l)_knorm", layer.kNorm)
            norms("L\(l)_norm1", layer.norm1)
            norms("L\(l)_norm2", layer.norm2)
            out.append(("L\(l)_attention", .attention(layer.attention)))
        }
        if rope != nil {
            out.append(("rope_q", .rope(heads: heads)))
            out.append(("rope_k", .rope(heads: kvHeads)))
        }
        norms("embed_norm", embeddingNorm)
        norms("final_norm", finalNorm)
        if let head { out.append(("head", .linear(head))) }
        return out
    }

    /// The instruction stream expanded into the sequencer's steps.
    public var steps: [TransformerStep] {
        let h = hiddenSize, hd = headDim, qw = heads * hd, kw = kvHeads * hd, f = width(.g)
        var ops: [TransformerStep] = []
        for ins in instructions {
            switch ins {
            case .embed:
                if embeddingNorm != nil {
                    ops.append(.embed(dst: .e))
                    ops.append(.stream(kernel: "embed_norm_0", src: .e, width: h, dst: .x, outWidth: h, chunks: 1))
                    ops.append(.stream(kernel: "embed_norm_1", src: .e, width: h, dst: .n, outWidth: h, chunks: 1))
                } else {
                    ops.append(.embed(dst: .x))
                }
            case let .norm(l, which):
                switch which {
                case "input": ops.append(.stream(kernel: "L\(l)_input_0", src: .x, width: h, dst: .n, outWidth: h, chunks: 1))
                case "q_norm": ops.append(.stream(kernel: "L\(l)_qnorm_0", src: .q, width: hd, dst: .q, outWidth: hd, chunks: heads))
                case "k_norm": ops.append(.stream(kernel: "L\(l)_knorm_0", src: .k, width: hd, dst: .k, outWidth: hd, chunks: kvHeads))
                case "norm1", "norm2":
                    if isDecoder {
                        ops.append(.stream(kernel: "L\(l)_\(which)_0", src: .x, width: h, dst: .n, outWidth: h, chunks: 1))
                    } else {
                        ops.append(.stream(kernel: "L\(l)_\(which)_0", src: .s, width: h, dst: .x, outWidth: h, chunks: 1))
                        ops.append(.stream(kernel: "L\(l)_\(which)_1", src: .s, width: h, dst: .n, outWidth: h, chunks: 1))
                    }
                default: ops.append(.stream(kernel: "final_norm_0", src: .x, width: h, dst: .n, outWidth: h, chunks: 1))
                }
            case let .linear(l, roles, _):
                for role in roles {
                    let name = l < 0 ? "head" : "L\(l)_\(role)"
                    switch role {
                    case "q": ops.append(.stream(kernel: name, src: .n, width: h, dst: .q, outWidth: qw, chunks: 1))
                    case "k": ops.append(.stream(kernel: name, src: .n, width: h, dst: .k, outWidth: kw, chunks: 1))
                    case "v": ops.append(.stream(kernel: name, src: .n, width: h, dst: .v, outWidth: kw, chunks: 1))
                    case "o": ops.append(.stream(kernel: name, src: .ctx, width: qw, dst: .o, outWidth: h, chunks: 1))
                    case "gate": ops.append(.stream(kernel: name, src: .n, width: h, dst: .g, outWidth: f, chunks: 1))
                    case "up": ops.append(.stream(kernel: name, src: .n, width: h, dst: .u, outWidth: f, chunks: 1))
                    case "down": ops.append(.stream(kernel: name, src: isDecoder ? .a : .u, width: f, dst: .dn, outWidth: h, chunks: 1))
                    default: ops.append(.stream(kernel: name, src: .n, width: h, dst: .out, outWidth: vocabSize, chunks: 1))
                    }
                }
            case .rope:
                ops.append(.stream(kernel: "rope_q", src: .q, width: qw, dst: .q, outWidth: qw, chunks: 1))
                ops.append(.stream(kernel: "rope_k", src: .k, width: kw, dst: .k, outWidth: kw, chunks: 1))
            case let .attention(l):
                ops.append(.append(kernel: "L\(l)_attention", width: kw))
                ops.append(.query(kernel: "L\(l)_attention", width: qw, causal: layers[l].attention.causal))
            case let .gated(l):
                let g = layers[l].gated!
                ops.append(.elementwise(a: .g, b: .u, dst: .a, width: f, product: true, ma: g.requantizer.multiplier, mb: 0,
                                        c: g.requantizer.offset, s: g.requantizer.shift, lo: g.output.min, hi: g.output.max))
            case let .residual(l, which):
                let e = which == 1 ? layers[l].residual1 : layers[l].residual2
                let y = e.outputType.element
                ops.append(.elementwise(a: .x, b: which == 1 ? .o : .dn, dst: isDecoder ? .x : .s, width: h, product: false,
                                        ma: e.multiplier(0, 0), mb: e.multiplier(1, 0), c: e.offsets[0], s: e.shifts[0], lo: y.min, hi: y.max))
            case .output:
                ops.append(.output)
            }
        }
        return ops
    }
}
