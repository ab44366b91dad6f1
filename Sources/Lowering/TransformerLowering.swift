// Transformer checkpoints to integers: calibration on the float reference (per-site maxima),
// each linear to a DSP chain or a LUT-linear kernel by role, norms, RoPE tables, integer
// softmax, SiLU/GELU tables, gated products and residual requantizers, every width proven
// (docs/numerics.md "Transformer integer numerics").
import Foundation
import HardwareIR
import ModelImport
import Quantize
import ReferenceEngine

/// How a transformer is lowered.
public struct TransformerOptions: Sendable {
    /// Options of every linear without an override.
    public var defaults = LayerOptions()
    /// Per role (`q`, `k`, `v`, `o`, `gate`, `up`, `down`, `head`; `attention` = q, k, v, o; `mlp` = gate, up, down).
    public var perRole: [String: LayerOptions] = [:]
    /// Longest sequence the KV cache and the RoPE tables hold.
    public var maxSequence = 64
    /// Token sequences run through the float reference to set the scales (and the activation
    /// codebooks of LUT linears). Empty: 4 seeded random sequences of 16 tokens.
    public var calibration: [[Int]] = []
    /// Seed of the random calibration and of k-means.
    public var seed: UInt64 = 1
    /// Temporal: the int8 DSP linears share one engine fed from off-chip memory; spatial: an instance each.
    public var mapping: TransformerMapping = .temporal

    public init() {}

    /// The roles a group name stands for.
    public static let groups: [String: [String]] = ["attention": ["q", "k", "v", "o"], "mlp": ["gate", "up", "down"]]
    public static let roles = ["q", "k", "v", "o", "gate", "up", "down", "head"]

    /// The options of linear role `role`: its own, else its group's, else the defaults.
    public func options(_ role: String) -> LayerOptions {
        if let k = perRole[role] { return k }
        for (group, members) in Self.groups.sorted(by: { $0.key < $1.key }) where members.contains(role) { if let k = perRole[group] { return k } }
        return defaults
    }
}

public enum TransformerLowering {
    /// `Δ`: the exp table's step in natural-log units.
    public static let expStep = 1.0 / 64
    /// Headroom over the calibration maximum of int16 sites (the residual stream, projections feeding it).
    public static let wideHeadroom = 2.0

    /// Lowers `model` (read from `file`) to integers.
    public static func lower(_ model: TransformerFloat, file: String, options: TransformerOptions) throws -> (design: TransformerDesign, notes: [String]) {
        var b = Builder(model: model, file: file, options: options)
        var design = try b.build()
        design.mapping = options.mapping
        return (design, b.notes)
    }

    /// Per-site float statistics of the calibration run.
    struct Calibration {
        var maxAbs: [String: Double] = [:]
        /// The float rows of every site, kept only when a LUT linear needs its activation codebooks from them.
        var rows: [String: [[Float]]] = [:]
        var keepRows = false

        mutating func see(_ site: String, _ v: [[Float]]) {
            var m = maxAbs[site] ?? 0
            for r in v { for x in r { m = Swift.max(m, Double(abs(x))) } }
            maxAbs[site] = m
            if keepRows { rows[site, default: []] += v }
        }
    }

    struct Builder {
        let model: TransformerFloat
        let file: String
        let options: TransformerOptions
        var notes: [String] = []
        var cal = Calibration()
        var config: TransformerConfig { model.config }

        init(model: TransformerFloat, file: String, options: TransformerOptions) {
            (self.model, self.file, self.options) = (model, file, options)
        }

        func fail(_ node: String, _ reason: String) -> LoweringError { .unprovable(file: file, node: node, reason: reason) }

        func weight(_ name: String) -> [Float] { model.weight(name)! }

        func rows(_ name: String) -> [[Float]] {
            let w = weight(name), n = w.count
            let width = config.weights(prefix: "").first { $0.name == name }!.shape.last!
            return (0..<(n / width)).map { Array(w[($0 * width)..<(($0 + 1) * width)]) }
        }

        /// One step of `bits` signed integers for the site's calibrated maximum times `headroom`.
        func scale(_ sites: [String], bits: Int, headroom: Double = 1) -> Double {
            let m = sites.map { cal.maxAbs[$0] ?? 0 }.max() ?? 0
            return Swift.max(m * headroom, 1e-6) / Double((1 << (bits - 1)) - 1)
        }

        mutating func calibrate() throws {
            cal.keepRows = TransformerOptions.roles.contains { options.options($0).kind == .lut }
            var sequences = options.calibration
            let length = Swift.min(16, options.maxSequence)
            if sequences.isEmpty {
                var rng = SplitMix64(seed: options.seed)
                sequences = (0..<4).map { _ in (0..<length).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } }
            }
            for s in sequences {
                guard !s.isEmpty, s.count <= options.maxSequence else {
                    throw LoweringError.calibration(file: file, reason: "a calibration sequence has \(s.count) tokens (1...\(options.maxSequence))")
                }
                guard s.allSatisfy({ $0 >= 0 && $0 < config.vocabSize }) else {
                    throw LoweringError.calibration(file: file, reason: "a calibration token is outside the vocabulary 0..<\(config.vocabSize)")
                }
                // The probe is an escaping closure, so it fills a local copy.
                var local = cal
                if config.architecture.isDecoder {
                    _ = model.decoderLogits(s) { local.see($0, $1) }
                } else {
                    _ = model.encoderHidden(s) { local.see($0, $1) }
                }
                cal = local
            }
        }

        // MARK: linears

        /// A linear on its role's kernel: input integers at `input`, output requantized to `out` at `outScale`,
        /// then `table` (whose entries are at `tableScale`).
        mutating func linear(_ node: String, role: String, weight name: String, bias: String?, input: (type: IntType, scale: Double),
                             inputSite: String, out: IntType, outScale: Double, table: ActivationTable? = nil, tableScale: Double? = nil) throws -> TransformerLinear {
            let w = rows(name)
            let b = bias.map { weight($0) } ?? [Float](repeating: 0, count: w.count)
            let nIn = w[0].count, nOut = w.count
            let inType = TensorType.vector(ElementType(input.type), nIn, quant: .scale(input.scale))
            let ctx = LayerContext(file: file, node: node, inputType: inType)
            let quant = Quantization.scale(tableScale ?? outScale)
            let lo = options.options(role)
            switch lo.kind {
            case .dsp:
                let (ints, wScales) = try DSPLowering.quantizeWeights(ctx, rows: w, options: lo.dsp)
                let zero = [Int](repeating: 0, count: nOut)
                let ranges = DSPLowering.accumulatorRanges(ints, biases: zero, x: inType.element, options: lo.dsp)
                let qs = try (0..<nOut).map { o in
                    try DSPLowering.requantizer(ctx, accScale: input.scale * wScales[o], outScale: outScale, bias: Double(b[o]),
                                                accBound: Swift.max(abs(ranges[o].lo), abs(ranges[o].hi)), output: o, range: out)
                }
                let spec = OutputSpec(requantizers: qs, requantized: out, table: table, quant: quant)
                return .dsp(try DSPLowering.build(ctx, rows: ints, biases: zero, output: spec, lanes: lo.lanes, options: lo.dsp))
            case .lut:
                let calibration = (cal.rows[inputSite] ?? []).map { r in
                    r.map { Int(Swift.min(Swift.max(roundHalfEven(Double($0) / input.scale), Double(input.type.min)), Double(input.type.max))) }
                }
                let (k, n, _) = try LUTLowering.lower(ctx, layer: FloatLayer(name: node, weight: w, bias: b),
                                                      output: .requantized(out, scale: outScale, table: table, quant: quant),
                                                      options: lo.lut, calibration: calibration,
                                                      seed: options.seed &+ UInt64(truncatingIfNeeded: node.hashValueStable))
                notes += n
                return .lut(k)
            }
        }

        // MARK: norms

        /// A norm over `count` integers of `input` (RMS: `gamma` only; layer: `gamma`, `beta`), one output per `outputs`.
        func norm(_ node: String, kind: NormKernel.Kind, count n: Int, input: IntType, inputScale: Double, gamma: [Float], beta: [Float]?,
                  outputs: [(type: IntType, scale: Double)]) throws -> NormKernel {
            let e = (config.normEpsilon * Double(n) / (inputScale * inputScale)).rounded(.toNearestOrEven)
            guard e < 1e15 else { throw fail(node, "epsilon term \(e) of the norm needs more than 50 bits") }
            let eps = Swift.max(1, Int(e))
            let cmax = kind == .rms ? Swift.max(-input.min, input.max) : input.max - input.min
            let (mMax, o1) = (cmax * cmax).multipliedReportingOverflow(by: n)
            guard !o1, mMax < 1 << 61 else { throw fail(node, "Σ c² of the norm needs more than 62 bits") }
            let length = Int.bitWidth - (mMax + eps).leadingZeroBitCount
            var shMax = length - 32
            if shMax & 1 != 0 { shMax += 1 }
            // Proven: |c·G·R| < 2^(cBits + gBits + 25) ≤ 2^61 with R ≤ 2^25, and the shift T ≤ 61.
            let cBits = Int.bitWidth - cmax.leadingZeroBitCount
            let gBits = Swift.min(61 - 25 - cBits, 24)
            guard gBits >= 8 else { throw fail(node, "norm input of \(cBits) bits leaves no room for the gain in 62 bits") }
            let outs = try outputs.map { o -> NormOutput in
                let g = (0..<n).map { Double(gamma[$0]) * Double(n).squareRoot() / o.scale }
                let gMax = g.map(abs).max() ?? 0
                let limit = Double((1 << gBits) - 1)
                var shift = gMax > 0 ? Int(floor(log2(limit / gMax))) : 14
                shift = Swift.min(shift, 61 - NormKernel.reciprocalBits - Swift.max(0, shMax / 2), 30)
                guard shift >= 0 else { throw fail(node, "norm gain \(gMax) is too large for its output scale") }
                let gains = g.map { Int(roundHalfEven($0 * pow(2, Double(shift)))) }
                guard gains.allSatisfy({ Double(abs($0)) <= limit }) else { throw fail(node, "a norm gain leaves \(gBits + 1) bits") }
                let biases = (0..<n).map { i in beta.map { Int(roundHalfEven(Double($0[i]) / o.scale)) } ?? 0 }
                guard biases.allSatisfy({ abs($0) < 1 << 40 }) else { throw fail(node, "a norm bias leaves 40 bits") }
                return NormOutput(gains: gains, biases: biases, gainShift: shift, type: o.type, scale: o.scale)
            }
            return NormKernel(kind: kind, count: n, input: input, epsilonTerm: eps, outputs: outs)
        }

        // MARK: adds and products

        /// `y = clamp((a·M1 + b·M2 + C) >> S)`: two int16 streams at `sa`, `sb` into `out` at `sy`.
        func residual(_ node: String, count: Int, a: (IntType, Double), b: (IntType, Double), out: (IntType, Double)) throws -> ElementwiseKernel {
            let ratios = [a.1 / out.1, b.1 / out.1]
            let biggest = ratios.max()!
            var s = Swift.min(40, Int(floor(log2(32767 / biggest))))
            while s > 0, ratios.contains(where: { roundHalfEven($0 * pow(2, Double(s))) > 32767 }) { s -= 1 }
            guard s >= 1 else { throw fail(node, "residual requantization ratio \(biggest) is too large") }
            let m = ratios.map { Int(roundHalfEven($0 * pow(2, Double(s)))) }
            let c = 1 << (s - 1)
            let hi = Swift.max(-a.0.min, a.0.max) * m[0] + Swift.max(-b.0.min, b.0.max) * m[1] + c
            return ElementwiseKernel(inputTypes: [.vector(ElementType(a.0), count), .vector(ElementType(b.0), count)],
                                     outputType: .vector(ElementType(out.0), count, quant: .scale(out.1)), channels: 1, multipliers: m,
                                     offsets: [c], shifts: [s], multiplier: .int(16), offset: IntType.signedFitting(-c, c)!,
                                     shift: IntType.unsignedFitting(s)!, scaled: IntType.signedFitting(-hi, hi)!)
        }

        func requantizer(_ node: String, ratio: Double) throws -> Requantizer {
            guard let q = MultiplierQuantizer.quantize(ratio, bits: 15) else { throw fail(node, "requantization ratio \(ratio) is too large") }
            return Requantizer(multiplier: q.multiplier, shift: q.shift)
        }

        /// A table over `input` sampling `f` at `scale`, to `output` at the table's own maximum.
        func table(_ function: String, input: IntType, scale: Double, output: IntType, _ f: (Double) -> Double) -> (ActivationTable, Double) {
            let real = (input.min...input.max).map { f(Double($0) * scale) }
            let step = Swift.max(real.map(abs).max() ?? 0, 1e-9) / Double(output.max)
            let values = real.map { Int(Swift.min(Swift.max(roundHalfEven($0 / step), Double(output.min)), Double(output.max))) }
            return (ActivationTable(function: function, input: input, output: output, values: values), step)
        }

        // MARK: attention

        func attention(_ node: String, heads: Int, kvHeads: Int, headDim hd: Int, causal: Bool, q: Double, k: Double, v: Double, ctx: Double) throws -> AttentionKernel {
            let i8 = IntType.int(8)
            guard let sq = MultiplierQuantizer.quantize(q * k / (Double(hd).squareRoot() * expStep), bits: 15) else {
                throw fail(node, "score scale is too large for the exp table index")
            }
            var table: [Int] = []
            repeat { table.append(Int(roundHalfEven(32768 * exp(-Double(table.count) * expStep)))) } while table.last! > 0
            // Proven: |q·k| ≤ hd·128², the index product below 2^62.
            let spread = 2 * hd * 128 * 128
            guard spread.multipliedReportingOverflow(by: sq.multiplier).overflow == false else { throw fail(node, "score index overflows") }
            return AttentionKernel(heads: heads, kvHeads: kvHeads, headDim: hd, causal: causal, scoreMultiplier: sq.multiplier, scoreShift: sq.shift,
                                   expTable: table, expStep: expStep, context: try requantizer(node, ratio: v / (32768 * ctx)), contextType: i8,
                                   qType: i8, kType: i8, vType: i8)
        }

        /// The input type of linears `roles`: int16 when all are DSP chains (a DSP slice multiplies 25×18 bits),
        /// int8 when one is a LUT-linear kernel (its centroids and distances are as wide as its input).
        func activation(_ roles: [String]) -> IntType {
            roles.allSatisfy { options.options($0).kind == .dsp } ? .int(16) : .int(8)
        }

        // MARK: the model

        mutating func build() throws -> TransformerDesign {
            try calibrate()
            return config.architecture.isDecoder ? try decoder() : try encoder()
        }

        mutating func decoder() throws -> TransformerDesign {
            let c = config, h = c.hiddenSize, hd = c.headDim
            let i8 = IntType.int(8), i10 = IntType.int(10), i16 = IntType.int(16)
            let maxSequence = Swift.min(options.maxSequence, c.maxPositions)
            let embedW = weight("embed_tokens.weight")
            let se = Swift.max(Double(embedW.map(abs).max() ?? 0), 1e-6) / 32767
            let embedding = embedW.map { Int(roundHalfEven(Double($0) / se)) }
            var xScale = se
            var layers: [TransformerLayerDesign] = []
            for l in 0..<c.layers {
                let p = "layers.\(l).", s = "\(l).", node = "layer \(l)"
                let tA = activation(["q", "k", "v"]), tM = activation(["gate", "up"]), tD = activation(["down"])
                let sn = scale([s + "attn_norm"], bits: tA.bits)
                let inputNorm = try norm(node + " input_layernorm", kind: .rms, count: h, input: i16, inputScale: xScale,
                                         gamma: weight(p + "input_layernorm.weight"), beta: nil, outputs: [(tA, sn)])
                let qwen3 = c.architecture == .qwen3
                let sq = scale(qwen3 ? [s + "q_norm", s + "q_rope"] : [s + "q", s + "q_rope"], bits: 8)
                let sk = scale(qwen3 ? [s + "k_norm", s + "k_rope"] : [s + "k", s + "k_rope"], bits: 8)
                let sq16 = scale([s + "q"], bits: 16, headroom: wideHeadroom), sk16 = scale([s + "k"], bits: 16, headroom: wideHeadroom)
                let sv = scale([s + "v"], bits: 8)
                let bias = c.architecture == .qwen2
                let q = try linear("L\(l).q", role: "q", weight: p + "self_attn.q_proj.weight", bias: bias ? p + "self_attn.q_proj.bias" : nil,
                                   input: (tA, sn), inputSite: s + "attn_norm", out: qwen3 ? i16 : i8, outScale: qwen3 ? sq16 : sq)
                let k = try linear("L\(l).k", role: "k", weight: p + "self_attn.k_proj.weight", bias: bias ? p + "self_attn.k_proj.bias" : nil,
                                   input: (tA, sn), inputSite: s + "attn_norm", out: qwen3 ? i16 : i8, outScale: qwen3 ? sk16 : sk)
                let v = try linear("L\(l).v", role: "v", weight: p + "self_attn.v_proj.weight", bias: bias ? p + "self_attn.v_proj.bias" : nil,
                                   input: (tA, sn), inputSite: s + "attn_norm", out: i8, outScale: sv)
                var qNorm: NormKernel?, kNorm: NormKernel?
                if qwen3 {
                    qNorm = try norm(node + " q_norm", kind: .rms, count: hd, input: i16, inputScale: sq16, gamma: weight(p + "self_attn.q_norm.weight"),
                                     beta: nil, outputs: [(i8, sq)])
                    kNorm = try norm(node + " k_norm", kind: .rms, count: hd, input: i16, inputScale: sk16, gamma: weight(p + "self_attn.k_norm.weight"),
                                     beta: nil, outputs: [(i8, sk)])
                }
                let sctx = scale([s + "ctx"], bits: 8)
                let att = try attention(node + " attention", heads: c.heads, kvHeads: c.kvHeads, headDim: hd, causal: true, q: sq, k: sk, v: sv, ctx: sctx)
                let so = scale([s + "o"], bits: 16, headroom: wideHeadroom)
                let o = try linear("L\(l).o", role: "o", weight: p + "self_attn.o_proj.weight", bias: nil, input: (i8, sctx), inputSite: s + "ctx",
                                   out: i16, outScale: so)
                let sr1 = scale([s + "resid1"], bits: 16, headroom: wideHeadroom)
                let r1 = try residual(node + " residual 1", count: h, a: (i16, xScale), b: (i16, so), out: (i16, sr1))
                let sm = scale([s + "mlp_norm"], bits: tM.bits)
                let norm1 = try norm(node + " post_attention_layernorm", kind: .rms, count: h, input: i16, inputScale: sr1,
                                     gamma: weight(p + "post_attention_layernorm.weight"), beta: nil, outputs: [(tM, sm)])
                let sg = scale([s + "gate"], bits: 10)
                let (silu, st) = table("silu", input: i10, scale: sg, output: i16) { $0 / (1 + exp(-$0)) }
                let gate = try linear("L\(l).gate", role: "gate", weight: p + "mlp.gate_proj.weight", bias: nil, input: (tM, sm), inputSite: s + "mlp_norm",
                                      out: i10, outScale: sg, table: silu, tableScale: st)
                let su = scale([s + "up"], bits: 16, headroom: wideHeadroom)
                let up = try linear("L\(l).up", role: "up", weight: p + "mlp.up_proj.weight", bias: nil, input: (tM, sm), inputSite: s + "mlp_norm",
                                    out: i16, outScale: su)
                let sa = scale([s + "act"], bits: tD.bits)
                let gated = GatedProduct(requantizer: try requantizer(node + " gated product", ratio: st * su / sa), output: tD)
                let sd = scale([s + "down"], bits: 16, headroom: wideHeadroom)
                let down = try linear("L\(l).down", role: "down", weight: p + "mlp.down_proj.weight", bias: nil, input: (tD, sa), inputSite: s + "act",
                                      out: i16, outScale: sd)
                let sr2 = scale([s + "resid2"], bits: 16, headroom: wideHeadroom)
                let r2 = try residual(node + " residual 2", count: h, a: (i16, sr1), b: (i16, sd), out: (i16, sr2))
                layers.append(TransformerLayerDesign(inputNorm: inputNorm, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm, attention: att, o: o,
                                                     residual1: r1, norm1: norm1, gate: gate, up: up, gated: gated, down: down, residual2: r2, norm2: nil))
                xScale = sr2
            }
            let tH = activation(["head"])
            let sf = scale(["final_norm"], bits: tH.bits)
            let finalNorm = try norm("norm", kind: .rms, count: h, input: i16, inputScale: xScale, gamma: weight("norm.weight"), beta: nil, outputs: [(tH, sf)])
            let sl = scale(["logits"], bits: 16, headroom: wideHeadroom)
            let head = try linear("head", role: "head", weight: c.tiedEmbeddings ? "embed_tokens.weight" : "lm_head.weight", bias: nil,
                                  input: (tH, sf), inputSite: "final_norm", out: i16, outScale: sl)
            // RoPE tables: inv_freq and the angle in float32 as transformers computes them.
            let half = hd / 2
            var cosT: [Int] = [], sinT: [Int] = []
            for pos in 0..<maxSequence {
                for i in 0..<half {
                    let invFreq = Float(1 / pow(c.ropeTheta, Double(2 * i) / Double(hd)))
                    let angle = Double(Float(pos) * invFreq)
                    cosT.append(Int(roundHalfEven(Foundation.cos(angle) * 16384)))
                    sinT.append(Int(roundHalfEven(Foundation.sin(angle) * 16384)))
                }
            }
            let rope = RoPETable(headDim: hd, positions: maxSequence, cos: cosT, sin: sinT, type: i8)
            return TransformerDesign(name: c.className, isDecoder: true, hiddenSize: h, vocabSize: c.vocabSize, heads: c.heads, kvHeads: c.kvHeads,
                                     headDim: hd, maxSequence: maxSequence, embedding: embedding, embeddingType: i16, positionEmbedding: nil,
                                     typeEmbedding: nil, embeddingNorm: nil, layers: layers, rope: rope, finalNorm: finalNorm, head: head,
                                     outputScale: sl, cacheType: i8)
        }

        mutating func encoder() throws -> TransformerDesign {
            let c = config, h = c.hiddenSize, hd = h / c.heads
            let i8 = IntType.int(8), i10 = IntType.int(10), i16 = IntType.int(16)
            let maxSequence = Swift.min(options.maxSequence, c.maxPositions)
            let word = weight("embeddings.word_embeddings.weight"), pos = Array(weight("embeddings.position_embeddings.weight").prefix(maxSequence * h))
            let type = Array(weight("embeddings.token_type_embeddings.weight").prefix(h))
            let peak = [word, pos, type].map { Double($0.map(abs).max() ?? 0) }.reduce(0, +)
            let se = Swift.max(peak, 1e-6) / 32767
            func ints(_ v: [Float]) -> [Int] { v.map { Int(roundHalfEven(Double($0) / se)) } }
            let (wi, pi, ti) = (ints(word), ints(pos), ints(type))
            let sumMax = [wi, pi, ti].map { $0.map(abs).max() ?? 0 }.reduce(0, +)
            let sumType = IntType.signedFitting(-sumMax, sumMax)!
            var xScale = scale(["embed"], bits: 16, headroom: wideHeadroom)
            let tQ = activation(["q", "k", "v"]), tU = activation(["up"]), tD = activation(["down"])
            var nScale = scale(["embed"], bits: tQ.bits)
            let embedNorm = try norm("embeddings.LayerNorm", kind: .layer, count: h, input: sumType, inputScale: se,
                                     gamma: weight("embeddings.LayerNorm.weight"), beta: weight("embeddings.LayerNorm.bias"),
                                     outputs: [(i16, xScale), (tQ, nScale)])
            var inputSite = "embed"
            var layers: [TransformerLayerDesign] = []
            for l in 0..<c.layers {
                let p = "encoder.layer.\(l).", s = "\(l).", node = "layer \(l)"
                let (sq, sk, sv) = (scale([s + "q"], bits: 8), scale([s + "k"], bits: 8), scale([s + "v"], bits: 8))
                let q = try linear("L\(l).q", role: "q", weight: p + "attention.self.query.weight", bias: p + "attention.self.query.bias",
                                   input: (tQ, nScale), inputSite: inputSite, out: i8, outScale: sq)
                let k = try linear("L\(l).k", role: "k", weight: p + "attention.self.key.weight", bias: p + "attention.self.key.bias",
                                   input: (tQ, nScale), inputSite: inputSite, out: i8, outScale: sk)
                let v = try linear("L\(l).v", role: "v", weight: p + "attention.self.value.weight", bias: p + "attention.self.value.bias",
                                   input: (tQ, nScale), inputSite: inputSite, out: i8, outScale: sv)
                let sctx = scale([s + "ctx"], bits: 8)
                let att = try attention(node + " attention", heads: c.heads, kvHeads: c.heads, headDim: hd, causal: false, q: sq, k: sk, v: sv, ctx: sctx)
                let so = scale([s + "o"], bits: 16, headroom: wideHeadroom)
                let o = try linear("L\(l).o", role: "o", weight: p + "attention.output.dense.weight", bias: p + "attention.output.dense.bias",
                                   input: (i8, sctx), inputSite: s + "ctx", out: i16, outScale: so)
                let s1 = scale([s + "sum1"], bits: 16, headroom: wideHeadroom)
                let r1 = try residual(node + " residual 1", count: h, a: (i16, xScale), b: (i16, so), out: (i16, s1))
                let x1 = scale([s + "ln1"], bits: 16, headroom: wideHeadroom), n1 = scale([s + "ln1"], bits: tU.bits)
                let norm1 = try norm(node + " attention.output.LayerNorm", kind: .layer, count: h, input: i16, inputScale: s1,
                                     gamma: weight(p + "attention.output.LayerNorm.weight"), beta: weight(p + "attention.output.LayerNorm.bias"),
                                     outputs: [(i16, x1), (tU, n1)])
                let si = scale([s + "inter"], bits: 10)
                let tanh = c.activation != "gelu"
                let (gelu, sgelu) = table(tanh ? "gelu_tanh" : "gelu", input: i10, scale: si, output: tD) { Double(TransformerFloat.gelu(Float($0), tanh: tanh)) }
                let up = try linear("L\(l).up", role: "up", weight: p + "intermediate.dense.weight", bias: p + "intermediate.dense.bias",
                                    input: (tU, n1), inputSite: s + "ln1", out: i10, outScale: si, table: gelu, tableScale: sgelu)
                let sd = scale([s + "out"], bits: 16, headroom: wideHeadroom)
                let down = try linear("L\(l).down", role: "down", weight: p + "output.dense.weight", bias: p + "output.dense.bias",
                                      input: (tD, sgelu), inputSite: s + "gelu", out: i16, outScale: sd)
                let s2 = scale([s + "sum2"], bits: 16, headroom: wideHeadroom)
                let r2 = try residual(node + " residual 2", count: h, a: (i16, x1), b: (i16, sd), out: (i16, s2))
                let x2 = scale([s + "ln2"], bits: 16, headroom: wideHeadroom), n2 = scale([s + "ln2"], bits: tQ.bits)
                let norm2 = try norm(node + " output.LayerNorm", kind: .layer, count: h, input: i16, inputScale: s2,
                                     gamma: weight(p + "output.LayerNorm.weight"), beta: weight(p + "output.LayerNorm.bias"), outputs: [(i16, x2), (tQ, n2)])
                layers.append(TransformerLayerDesign(inputNorm: nil, q: q, k: k, v: v, qNorm: nil, kNorm: nil, attention: att, o: o, residual1: r1,
                                                     norm1: norm1, gate: nil, up: up, gated: nil, down: down, residual2: r2, norm2: norm2))
                (xScale, nScale, inputSite) = (x2, n2, s + "ln2")
            }
            return TransformerDesign(name: c.className, isDecoder: false, hiddenSize: h, vocabSize: c.vocabSize, heads: c.heads, kvHeads: c.heads,
                                     headDim: hd, maxSequence: maxSequence, embedding: wi, embeddingType: i16, positionEmbedding: pi,
                                     typeEmbedding: ti, embeddingNorm: embedNorm, layers: layers, rope: nil, finalNorm: nil, head: nil,
                                     outputScale: xScale, cacheType: i8)
        }
    }
}

extension String {
    /// A hash that is the same in every run (FNV-1a), for seeds.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x1000_0000_01b3 }
        return h
    }
}
