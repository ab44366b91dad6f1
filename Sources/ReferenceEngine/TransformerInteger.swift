// The bit-exact integer transformer: executes a TransformerDesign's instruction stream over
// a session's KV cache, the linears on the existing DSP-chain and LUT-linear kernels, the
// nonlinear pieces by the rules of docs/numerics.md "Transformer integer numerics"
// (HLS/lutforge/transformer.h implements the same rules).
import HardwareIR

/// The integer rules of the transformer pieces, each written once.
public enum TransformerMath {
    /// `floor(√t)` for `0 ≤ t < 2^52` (a double square root, corrected to the exact floor).
    @inline(__always)
    public static func isqrt(_ t: Int) -> Int {
        var u = Int(Double(t).squareRoot())
        while u * u > t { u -= 1 }
        while (u + 1) * (u + 1) <= t { u += 1 }
        return u
    }

    /// `1/√m ≈ R · 2^−(40 + h)` for `m ≥ 1`: `m` is shifted by an even `2h` into `[2^30, 2^32)`
    /// (flooring), `u = isqrt` of that, `R = floor(2^40 / u)`.
    @inline(__always)
    public static func reciprocalSqrt(_ m: Int) -> (r: Int, half: Int) {
        let length = Int.bitWidth - m.leadingZeroBitCount
        var sh = length - 32
        if sh & 1 != 0 { sh += 1 }
        let t = sh >= 0 ? m >> sh : m << -sh
        return ((1 << NormKernel.reciprocalBits) / isqrt(t), sh / 2)
    }

    /// `floor(a / n)` for `n ≥ 1`.
    @inline(__always)
    static func floorDiv(_ a: Int, _ n: Int) -> Int { a >= 0 ? a / n : -((-a + n - 1) / n) }

    /// The norm of `x` (`count` elements from `offset`), one array per output.
    public static func norm(_ k: NormKernel, _ x: [Int], offset: Int = 0) -> [[Int]] {
        let n = k.count
        var c = Array(x[offset..<(offset + n)])
        if k.kind == .layer {
            let mean = floorDiv(c.reduce(0, +) + n / 2, n)
            for i in 0..<n { c[i] -= mean }
        }
        var m = k.epsilonTerm
        for v in c { m += v * v }
        let (r, h) = reciprocalSqrt(m)
        return k.outputs.map { o in
            let t = o.gainShift + NormKernel.reciprocalBits + h
            let half = 1 << (t - 1)
            return (0..<n).map { i in
                let y = ((c[i] * o.gains[i] * r + half) >> t) + o.biases[i]
                return Swift.min(Swift.max(y, o.type.min), o.type.max)
            }
        }
    }

    /// RoPE of the `heads` heads of `x` at position `pos`, in place.
    public static func rope(_ t: RoPETable, _ x: inout [Int], heads: Int, position pos: Int) {
        let half = t.headDim / 2, f = RoPETable.fractionBits, round = 1 << (f - 1)
        for h in 0..<heads {
            for i in 0..<half {
                let a = x[h * t.headDim + i], b = x[h * t.headDim + half + i]
                let c = t.cos[pos * half + i], s = t.sin[pos * half + i]
                x[h * t.headDim + i] = Swift.min(Swift.max((a * c - b * s + round) >> f, t.type.min), t.type.max)
                x[h * t.headDim + half + i] = Swift.min(Swift.max((b * c + a * s + round) >> f, t.type.min), t.type.max)
            }
        }
    }

    /// The context of query `q` over the keys and values of positions `visible`.
    public static func attention(_ a: AttentionKernel, q: [Int], keys: [[Int]], values: [[Int]], visible: [Int]) -> [Int] {
        let hd = a.headDim, group = a.heads / a.kvHeads, last = a.expTable.count - 1
        var out = [Int](repeating: 0, count: a.heads * hd)
        var scores = [Int](repeating: 0, count: visible.count), e = scores
        let sx = a.scoreShift, round = sx > 0 ? 1 << (sx - 1) : 0
        for h in 0..<a.heads {
            let kh = h / group
            var best = Int.min
            for (n, j) in visible.enumerated() {
                var s = 0
                for d in 0..<hd { s += q[h * hd + d] * keys[j][kh * hd + d] }
                scores[n] = s
                best = Swift.max(best, s)
            }
            var z = 0
            for n in visible.indices {
                let index = Swift.min(last, ((best - scores[n]) * a.scoreMultiplier + round) >> sx)
                e[n] = a.expTable[index]
                z += e[n]
            }
            let r = (1 << AttentionKernel.reciprocalBits) / z
            let pb = AttentionKernel.probabilityBits
            for n in visible.indices { e[n] = (e[n] * r + (1 << pb)) >> (pb + 1) }
            for d in 0..<hd {
                var acc = 0
                for (n, j) in visible.enumerated() { acc += e[n] * values[j][kh * hd + d] }
                out[h * hd + d] = a.context.apply(acc, lo: a.contextType.min, hi: a.contextType.max)
            }
        }
        return out
    }

    /// The gated product of the SiLU table's outputs `g` and `u`.
    public static func gated(_ p: GatedProduct, _ g: [Int], _ u: [Int]) -> [Int] {
        zip(g, u).map { p.requantizer.apply($0 * $1, lo: p.output.min, hi: p.output.max) }
    }
}

/// The KV cache and position of one sequence.
public struct TransformerSession: Sendable {
    /// `[layer][position]` → the k (or v) vector of all key/value heads.
    public var keys: [[[Int]]]
    public var values: [[[Int]]]
    /// Tokens already in the cache.
    public var length = 0

    public init(layers: Int) {
        keys = Array(repeating: [], count: layers)
        values = keys
    }
}

/// Why the integer transformer cannot run a request.
public struct TransformerRunError: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String { reason }
}

/// Runs a TransformerDesign's instruction stream.
public struct TransformerEngine: Sendable {
    public let design: TransformerDesign
    let program: [TransformerInstruction]

    public init(_ design: TransformerDesign) {
        self.design = design
        program = design.instructions
    }

    /// A new session (empty cache).
    public func session() -> TransformerSession { TransformerSession(layers: design.layers.count) }

    static func run(_ lin: TransformerLinear, _ x: [Int], node: String) throws -> [Int] {
        switch lin {
        case let .dsp(k): try k.evaluate([x], node: node)
        case let .lut(k): try k.evaluate([x], node: node)
        }
    }

    /// Runs `ids` (a prefill, or one token for a decode step) at the session's next positions and
    /// returns the output integers per token: logits (decoders) or the last hidden state (encoders).
    /// `mask` (encoders; 1 = attend) hides keys.
    /// `layerOutput` sees each layer's output integers (the residual stream, or BERT's output LayerNorm) and their scale.
    public func run(_ ids: [Int], session: inout TransformerSession, mask: [Int]? = nil,
                    layerOutput: ((Int, [[Int]], Double) -> Void)? = nil) throws -> [[Int]] {
        let d = design, t = ids.count, start = session.length
        guard t > 0 else { throw TransformerRunError(reason: "no tokens to run") }
        guard start + t <= d.maxSequence else {
            throw TransformerRunError(reason: "sequence of \(start + t) tokens exceeds the design's \(d.maxSequence) (compile with a larger --max-sequence)")
        }
        if let mask, mask.count != start + t {
            throw TransformerRunError(reason: "the key mask has \(mask.count) entries for \(start + t) positions")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= d.vocabSize }) {
            throw TransformerRunError(reason: "token id \(bad) is outside the vocabulary 0..<\(d.vocabSize)")
        }
        // Named buffers, one vector per token.
        var x: [[Int]] = [], n: [[Int]] = [], q: [[Int]] = [], k: [[Int]] = [], v: [[Int]] = []
        var ctx: [[Int]] = [], o: [[Int]] = [], g: [[Int]] = [], u: [[Int]] = [], a: [[Int]] = [], dn: [[Int]] = [], s: [[Int]] = []
        var out: [[Int]] = []
        let h = d.hiddenSize
        for ins in program {
            switch ins {
            case .embed:
                x = ids.enumerated().map { p, id in
                    var e = Array(d.embedding[(id * h)..<((id + 1) * h)])
                    if let pos = d.positionEmbedding, let type = d.typeEmbedding {
                        for i in 0..<h { e[i] += pos[(start + p) * h + i] + type[i] }
                    }
                    return e
                }
                if let norm = d.embeddingNorm {
                    let outs = x.map { TransformerMath.norm(norm, $0) }
                    x = outs.map { $0[0] }
                    n = outs.map { $0[1] }
                }
            case let .norm(l, which):
                switch which {
                case "input": n = x.map { TransformerMath.norm(d.layers[l].inputNorm!, $0)[0] }
                case "q_norm", "k_norm":
                    let kernel = which == "q_norm" ? d.layers[l].qNorm! : d.layers[l].kNorm!
                    let count = (which == "q_norm" ? d.heads : d.kvHeads)
                    let rows = which == "q_norm" ? q : k
                    let normed = rows.map { r in (0..<count).flatMap { TransformerMath.norm(kernel, r, offset: $0 * d.headDim)[0] } }
                    if which == "q_norm" { q = normed } else { k = normed }
                case "norm1", "norm2":
                    let kernel = which == "norm1" ? d.layers[l].norm1 : d.layers[l].norm2!
                    let source = d.isDecoder ? x : s
                    let outs = source.map { TransformerMath.norm(kernel, $0) }
                    if d.isDecoder { n = outs.map { $0[0] } } else { x = outs.map { $0[0] }; n = outs.map { $0[1] } }
                    if which == "norm2" { layerOutput?(l, x, kernel.outputs[0].scale) }
                default: n = x.map { TransformerMath.norm(d.finalNorm!, $0)[0] }
                }
            case let .linear(l, roles, _):
                for role in roles {
                    let name = l < 0 ? "head" : "L\(l).\(role)"
                    switch role {
                    case "q": q = try n.map { try Self.run(d.layers[l].q, $0, node: name) }
                    case "k": k = try n.map { try Self.run(d.layers[l].k, $0, node: name) }
                    case "v": v = try n.map { try Self.run(d.layers[l].v, $0, node: name) }
                    case "o": o = try ctx.map { try Self.run(d.layers[l].o, $0, node: name) }
                    case "gate": g = try n.map { try Self.run(d.layers[l].gate!, $0, node: name) }
                    case "up": u = try n.map { try Self.run(d.layers[l].up, $0, node: name) }
                    case "down": dn = try (d.isDecoder ? a : u).map { try Self.run(d.layers[l].down, $0, node: name) }
                    default: out = try n.map { try Self.run(d.head!, $0, node: name) }
                    }
                }
            case .rope:
                // One table for every layer: the positions, not the layer, select the rotation.
                for p in 0..<t {
                    TransformerMath.rope(d.rope!, &q[p], heads: d.heads, position: start + p)
                    TransformerMath.rope(d.rope!, &k[p], heads: d.kvHeads, position: start + p)
                }
            case let .attention(l):
                // k and v enter the cache (an encoder's cache is the sequence itself).
                session.keys[l] += k
                session.values[l] += v
                let keys = session.keys[l], values = session.values[l]
                let attention = d.layers[l].attention
                ctx = (0..<t).map { p in
                    let i = start + p
                    let visible = (0..<keys.count).filter { j in (attention.causal ? j <= i : true) && (mask?[j] ?? 1) != 0 }
                    return TransformerMath.attention(attention, q: q[p], keys: keys, values: values, visible: visible)
                }
            case let .gated(l):
                a = (0..<t).map { TransformerMath.gated(d.layers[l].gated!, g[$0], u[$0]) }
            case let .residual(l, which):
                let e = which == 1 ? d.layers[l].residual1 : d.layers[l].residual2
                let other = which == 1 ? o : dn
                let combined = (0..<t).map { p in (0..<h).map { e.apply([x[p][$0], other[p][$0]], channel: 0) } }
                if d.isDecoder {
                    x = combined
                    if which == 2 { layerOutput?(l, x, e.outputType.quant?.scales.first ?? 1) }
                } else {
                    s = combined
                }
            case .output:
                if !d.isDecoder { out = x }
            }
        }
        session.length += t
        return out
    }

    /// Greedy generation: prefill `prompt`, then `count` decode steps. Returns each step's logits
    /// (the prefill's last row first) and the generated tokens (first maximum on ties).
    public func generate(prompt: [Int], count: Int) throws -> (logits: [[Int]], tokens: [Int]) {
        guard design.isDecoder else { throw TransformerRunError(reason: "\(design.name) is an encoder: generation needs a decoder") }
        var session = self.session()
        var logits: [[Int]] = [], tokens: [Int] = []
        var last = try run(prompt, session: &session).last!
        for step in 0..<count {
            logits.append(last)
            let next = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
            tokens.append(next)
            if step + 1 < count { last = try run([next], session: &session)[0] }
        }
        return (logits, tokens)
    }
}
