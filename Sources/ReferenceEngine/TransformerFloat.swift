// The float reference of a transformer checkpoint (Llama, Qwen2, Qwen3 decoders; BERT
// encoders) in the arithmetic of Hugging Face `transformers`: float32 tensors, each
// dot product and reduction accumulated in double and rounded to float32 once. It is
// the model semantics the integer design will be measured against, as FloatInterpreter
// is for ONNX graphs; it is not a hardware rule.
import Foundation
import ModelImport

/// Weights of one checkpoint in float32, read once.
public struct TransformerFloat: Sendable {
    public private(set) var config: TransformerConfig
    private let w: [String: (shape: [Int], values: [Float])]

    /// Reads every weight the architecture needs from `checkpoint`.
    public init(_ checkpoint: HuggingFaceCheckpoint) throws {
        config = checkpoint.config
        var w: [String: (shape: [Int], values: [Float])] = [:]
        for (name, _) in config.weights(prefix: "") { w[name] = try checkpoint.tensor(name) }
        self.w = w
    }

    private func t(_ name: String) -> [Float] { w[name]!.values }

    /// The model cut to its first `layers` layers (decoders keep their final norm and head).
    public func truncated(layers: Int) -> TransformerFloat {
        var copy = self
        copy.config.layers = Swift.min(layers, config.layers)
        return copy
    }

    /// `y[r] = x[r] · W^T (+ b)` for rows `x` of width `n_in`, `W` of shape `[n_out, n_in]`.
    static func linear(_ x: [[Float]], _ weight: [Float], outputs: Int, bias: [Float]? = nil) -> [[Float]] {
        x.map { row in
            let n = row.count
            return (0..<outputs).map { o in
                var acc = Double(bias?[o] ?? 0)
                let base = o * n
                for i in 0..<n { acc += Double(row[i]) * Double(weight[base + i]) }
                return Float(acc)
            }
        }
    }

    /// RMSNorm as transformers computes it: `w · (x · rsqrt(mean(x²) + eps))`.
    static func rmsNorm(_ x: [Float], _ weight: [Float], eps: Double) -> [Float] {
        let mean = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
        let r = Float(1 / (mean + eps).squareRoot())
        return zip(x, weight).map { Float($0 * r) * $1 }
    }

    /// LayerNorm (biased variance).
    static func layerNorm(_ x: [Float], _ weight: [Float], _ bias: [Float], eps: Double) -> [Float] {
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let r = 1 / (variance + eps).squareRoot()
        return (0..<x.count).map { Float((Double(x[$0]) - mean) * r) * weight[$0] + bias[$0] }
    }

    /// Softmax of `s`, in double.
    static func softmax(_ s: [Double]) -> [Double] {
        let m = s.max() ?? 0
        let e = s.map { exp($0 - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// Attention of `q` `[T][heads·hd]` over `k`, `v` `[T][kvHeads·hd]`, causal or with `mask` (1 = attend).
    static func attention(q: [[Float]], k: [[Float]], v: [[Float]], heads: Int, kvHeads: Int, headDim hd: Int, causal: Bool, mask: [Int]?) -> [[Float]] {
        let t = q.count, group = heads / kvHeads, scale = 1 / Double(hd).squareRoot()
        return (0..<t).map { i in
            var out = [Float](repeating: 0, count: heads * hd)
            let visible = (0..<t).filter { j in (!causal || j <= i) && (mask?[j] ?? 1) != 0 }
            for h in 0..<heads {
                let kh = h / group
                let scores = visible.map { j in
                    var dot = 0.0
                    for d in 0..<hd { dot += Double(q[i][h * hd + d]) * Double(k[j][kh * hd + d]) }
                    return dot * scale
                }
                let p = softmax(scores)
                for d in 0..<hd {
                    var acc = 0.0
                    for (n, j) in visible.enumerated() { acc += p[n] * Double(v[j][kh * hd + d]) }
                    out[h * hd + d] = Float(acc)
                }
            }
            return out
        }
    }

    /// Rotary embedding (transformers' rotate-half form) of each head of `x` at positions `0..<T`.
    static func rope(_ x: [[Float]], heads: Int, headDim hd: Int, theta: Double) -> [[Float]] {
        let half = hd / 2
        return x.enumerated().map { pos, row in
            var out = row
            for h in 0..<heads {
                for i in 0..<half {
                    // inv_freq in float32 as transformers builds it, the angle in float32.
                    let invFreq = Float(1 / pow(theta, Double(2 * i) / Double(hd)))
                    let angle = Float(pos) * invFreq
                    let c = Float(cos(Double(angle))), s = Float(sin(Double(angle)))
                    let a = row[h * hd + i], b = row[h * hd + half + i]
                    out[h * hd + i] = a * c - b * s
                    out[h * hd + half + i] = b * c + a * s
                }
            }
            return out
        }
    }

    /// The weight `name` (without the checkpoint prefix) in float32, `nil` if the architecture has none.
    public func weight(_ name: String) -> [Float]? { w[name]?.values }

    /// A decoder's logits `[T][vocab]` for the token ids (positions `0..<T`). `probe` sees every
    /// intermediate tensor by site name (`embed`, `<l>.q`, …; docs/numerics.md "Transformer integer numerics").
    public func decoderLogits(_ ids: [Int], probe: ((String, [[Float]]) -> Void)? = nil) -> [[Float]] {
        let c = config, h = c.hiddenSize, hd = c.headDim
        func see(_ site: String, _ v: [[Float]]) -> [[Float]] { probe?(site, v); return v }
        let embed = t("embed_tokens.weight")
        var x = see("embed", ids.map { Array(embed[($0 * h)..<(($0 + 1) * h)]) })
        for l in 0..<c.layers {
            let p = "layers.\(l).", s = "\(l)."
            let normed = see(s + "attn_norm", x.map { Self.rmsNorm($0, t(p + "input_layernorm.weight"), eps: c.normEpsilon) })
            var q = see(s + "q", Self.linear(normed, t(p + "self_attn.q_proj.weight"), outputs: c.heads * hd, bias: w[p + "self_attn.q_proj.bias"]?.values))
            var k = see(s + "k", Self.linear(normed, t(p + "self_attn.k_proj.weight"), outputs: c.kvHeads * hd, bias: w[p + "self_attn.k_proj.bias"]?.values))
            let v = see(s + "v", Self.linear(normed, t(p + "self_attn.v_proj.weight"), outputs: c.kvHeads * hd, bias: w[p + "self_attn.v_proj.bias"]?.values))
            if c.architecture == .qwen3 {
                func perHead(_ rows: [[Float]], _ weight: [Float], _ n: Int) -> [[Float]] {
                    rows.map { r in (0..<n).flatMap { Self.rmsNorm(Array(r[($0 * hd)..<(($0 + 1) * hd)]), weight, eps: c.normEpsilon) } }
                }
                q = see(s + "q_norm", perHead(q, t(p + "self_attn.q_norm.weight"), c.heads))
                k = see(s + "k_norm", perHead(k, t(p + "self_attn.k_norm.weight"), c.kvHeads))
            }
            q = see(s + "q_rope", Self.rope(q, heads: c.heads, headDim: hd, theta: c.ropeTheta))
            k = see(s + "k_rope", Self.rope(k, heads: c.kvHeads, headDim: hd, theta: c.ropeTheta))
            let ctx = see(s + "ctx", Self.attention(q: q, k: k, v: v, heads: c.heads, kvHeads: c.kvHeads, headDim: hd, causal: true, mask: nil))
            let o = see(s + "o", Self.linear(ctx, t(p + "self_attn.o_proj.weight"), outputs: h))
            x = see(s + "resid1", zip(x, o).map { zip($0, $1).map { $0 + $1 } })
            let n2 = see(s + "mlp_norm", x.map { Self.rmsNorm($0, t(p + "post_attention_layernorm.weight"), eps: c.normEpsilon) })
            let gate = see(s + "gate", Self.linear(n2, t(p + "mlp.gate_proj.weight"), outputs: c.intermediateSize))
            let up = see(s + "up", Self.linear(n2, t(p + "mlp.up_proj.weight"), outputs: c.intermediateSize))
            let act = see(s + "act", zip(gate, up).map { zip($0, $1).map { g, u in Float(Double(g) / (1 + exp(-Double(g)))) * u } })
            let down = see(s + "down", Self.linear(act, t(p + "mlp.down_proj.weight"), outputs: h))
            x = see(s + "resid2", zip(x, down).map { zip($0, $1).map { $0 + $1 } })
        }
        let final = see("final_norm", x.map { Self.rmsNorm($0, t("norm.weight"), eps: c.normEpsilon) })
        return see("logits", Self.linear(final, c.tiedEmbeddings ? embed : t("lm_head.weight"), outputs: c.vocabSize))
    }

    /// GELU: exact (`gelu`, erf) or the tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    public static func gelu(_ x: Float, tanh approximate: Bool) -> Float {
        let v = Double(x)
        if approximate { return Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))) }
        return Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
    }

    /// Greedy decoding: `count` new tokens after `prompt` (the first maximum on ties).
    public func greedy(_ prompt: [Int], count: Int) -> [Int] {
        var ids = prompt
        for _ in 0..<count {
            let last = decoderLogits(ids).last!
            ids.append(last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!)
        }
        return Array(ids.dropFirst(prompt.count))
    }

    /// A BERT encoder's last hidden state `[T][hidden]` (token type 0, `mask` 1 = attend).
    public func encoderHidden(_ ids: [Int], mask: [Int]? = nil, probe: ((String, [[Float]]) -> Void)? = nil) -> [[Float]] {
        let c = config, h = c.hiddenSize, hd = h / c.heads
        func see(_ site: String, _ v: [[Float]]) -> [[Float]] { probe?(site, v); return v }
        let word = t("embeddings.word_embeddings.weight"), pos = t("embeddings.position_embeddings.weight")
        let type = t("embeddings.token_type_embeddings.weight")
        let sum = see("embed_sum", ids.enumerated().map { p, id in (0..<h).map { word[id * h + $0] + pos[p * h + $0] + type[$0] } })
        var x = see("embed", sum.map { Self.layerNorm($0, t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"), eps: c.normEpsilon) })
        for l in 0..<c.layers {
            let p = "encoder.layer.\(l).", s = "\(l)."
            let q = see(s + "q", Self.linear(x, t(p + "attention.self.query.weight"), outputs: h, bias: t(p + "attention.self.query.bias")))
            let k = see(s + "k", Self.linear(x, t(p + "attention.self.key.weight"), outputs: h, bias: t(p + "attention.self.key.bias")))
            let v = see(s + "v", Self.linear(x, t(p + "attention.self.value.weight"), outputs: h, bias: t(p + "attention.self.value.bias")))
            let ctx = see(s + "ctx", Self.attention(q: q, k: k, v: v, heads: c.heads, kvHeads: c.heads, headDim: hd, causal: false, mask: mask))
            let o = see(s + "o", Self.linear(ctx, t(p + "attention.output.dense.weight"), outputs: h, bias: t(p + "attention.output.dense.bias")))
            let sum1 = see(s + "sum1", zip(o, x).map { zip($0, $1).map { $0 + $1 } })
            x = see(s + "ln1", sum1.map { Self.layerNorm($0, t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias"), eps: c.normEpsilon) })
            let pre = see(s + "inter", Self.linear(x, t(p + "intermediate.dense.weight"), outputs: c.intermediateSize, bias: t(p + "intermediate.dense.bias")))
            let inter = see(s + "gelu", pre.map { $0.map { Self.gelu($0, tanh: c.activation != "gelu") } })
            let out = see(s + "out", Self.linear(inter, t(p + "output.dense.weight"), outputs: h, bias: t(p + "output.dense.bias")))
            let sum2 = see(s + "sum2", zip(out, x).map { zip($0, $1).map { $0 + $1 } })
            x = see(s + "ln2", sum2.map { Self.layerNorm($0, t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias"), eps: c.normEpsilon) })
        }
        return x
    }
}
