// Hugging Face checkpoint directories: config.json for the architecture and its
// hyper-parameters, safetensors for the weights. Llama, Qwen2 and Qwen3 decoders and
// BERT encoders; the weight names each architecture needs are listed here once, and a
// checkpoint missing one (or holding it in another shape) is a one-line error naming
// the file and the tensor.
import Foundation

/// A transformer architecture LUTForge reads.
public enum TransformerArchitecture: String, Sendable, CaseIterable {
    case llama, qwen2, qwen3, bert

    /// `architectures` entries of config.json, by architecture.
    static let classNames: [String: TransformerArchitecture] = [
        "LlamaForCausalLM": .llama, "LlamaModel": .llama,
        "Qwen2ForCausalLM": .qwen2, "Qwen2Model": .qwen2,
        "Qwen3ForCausalLM": .qwen3, "Qwen3Model": .qwen3,
        "BertModel": .bert, "BertForMaskedLM": .bert, "BertForPreTraining": .bert, "BertForSequenceClassification": .bert,
    ]

    public var isDecoder: Bool { self != .bert }
}

/// The hyper-parameters of config.json that the numerics need.
public struct TransformerConfig: Sendable, Equatable {
    public var architecture: TransformerArchitecture
    /// The `architectures` entry it came from.
    public var className: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    /// Key/value heads (grouped-query attention); `heads` when absent.
    public var kvHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    /// RMSNorm / LayerNorm epsilon.
    public var normEpsilon: Double
    /// RoPE base (decoders).
    public var ropeTheta: Double
    public var maxPositions: Int
    /// The output projection is the token embedding (decoders).
    public var tiedEmbeddings: Bool
    /// `hidden_act` (`silu`, `gelu`, …).
    public var activation: String
    /// Token types (BERT).
    public var typeVocabSize: Int

    /// Reads `path` (a config.json).
    public init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImportError.unreadable(file: path, reason: error.localizedDescription)
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ImportError.malformed(file: path, reason: "not a JSON object")
        }
        try self.init(json: json, file: path)
    }

    public init(json: [String: Any], file: String) throws {
        func fail(_ reason: String) -> ImportError { .malformed(file: file, reason: reason) }
        let names = json["architectures"] as? [String] ?? []
        guard let name = names.first(where: { TransformerArchitecture.classNames[$0] != nil }) else {
            let known = TransformerArchitecture.classNames.keys.sorted().joined(separator: ", ")
            throw fail(names.isEmpty ? "no 'architectures' entry (known: \(known))"
                                     : "architecture '\(names.joined(separator: ", "))' is not supported (known: \(known))")
        }
        architecture = TransformerArchitecture.classNames[name]!
        className = name
        func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
            if let v = json[key] as? Int, v >= 1 { return v }
            if json[key] == nil || json[key] is NSNull, let fallback { return fallback }
            throw fail("'\(key)' must be a positive integer, got \(json[key].map { "\($0)" } ?? "nothing")")
        }
        func double(_ key: String, _ fallback: Double) throws -> Double {
            guard let v = json[key], !(v is NSNull) else { return fallback }
            guard let d = (v as? NSNumber)?.doubleValue, d.isFinite, d > 0 else { throw fail("'\(key)' must be a positive number, got \(v)") }
            return d
        }
        hiddenSize = try int("hidden_size")
        intermediateSize = try int("intermediate_size")
        layers = try int("num_hidden_layers")
        heads = try int("num_attention_heads")
        kvHeads = try int("num_key_value_heads", heads)
        headDim = try int("head_dim", architecture == .qwen3 ? 128 : hiddenSize / heads)  // transformers' defaults
        vocabSize = try int("vocab_size")
        maxPositions = try int("max_position_embeddings", 2048)
        typeVocabSize = architecture == .bert ? try int("type_vocab_size", 2) : 0
        normEpsilon = try double(architecture == .bert ? "layer_norm_eps" : "rms_norm_eps", architecture == .bert ? 1e-12 : 1e-6)
        // transformers 5 writes rope_parameters {rope_theta, rope_type}; older versions a top-level rope_theta.
        let rope = json["rope_parameters"] as? [String: Any] ?? [:]
        if let type = rope["rope_type"] as? String, type != "default" { throw fail("rope_type '\(type)' is not supported (default)") }
        if let theta = rope["rope_theta"] {
            guard let d = (theta as? NSNumber)?.doubleValue, d.isFinite, d > 0 else { throw fail("'rope_theta' must be a positive number, got \(theta)") }
            ropeTheta = d
        } else {
            ropeTheta = try double("rope_theta", 10000)
        }
        tiedEmbeddings = json["tie_word_embeddings"] as? Bool ?? (architecture == .bert)
        activation = json["hidden_act"] as? String ?? (architecture == .bert ? "gelu" : "silu")
        guard heads % kvHeads == 0 else { throw fail("\(heads) attention heads are not a multiple of \(kvHeads) key/value heads") }
        if architecture == .bert {
            guard ["gelu", "gelu_new", "gelu_pytorch_tanh"].contains(activation) else { throw fail("hidden_act '\(activation)' is not supported for BERT (gelu)") }
            let position = json["position_embedding_type"] as? String ?? "absolute"
            guard position == "absolute" else { throw fail("position_embedding_type '\(position)' is not supported (absolute)") }
        } else {
            guard activation == "silu" else { throw fail("hidden_act '\(activation)' is not supported for \(architecture.rawValue) (silu)") }
            if let scaling = json["rope_scaling"], !(scaling is NSNull) { throw fail("rope_scaling is not supported") }
        }
    }

    /// Every weight the architecture reads, with its shape (`prefix` is the checkpoint's
    /// name prefix: `model.` for decoders — not on `lm_head.weight` — `bert.` or none for BERT).
    public func weights(prefix: String) -> [(name: String, shape: [Int])] {
        let h = hiddenSize, q = heads * headDim, kv = kvHeads * headDim, f = intermediateSize
        var w: [(String, [Int])] = []
        if architecture == .bert {
            w += [("embeddings.word_embeddings.weight", [vocabSize, h]), ("embeddings.position_embeddings.weight", [maxPositions, h]),
                  ("embeddings.token_type_embeddings.weight", [typeVocabSize, h]),
                  ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h])]
            for i in 0..<layers {
                let l = "encoder.layer.\(i)."
                for part in ["query", "key", "value"] { w += [(l + "attention.self.\(part).weight", [h, h]), (l + "attention.self.\(part).bias", [h])] }
                w += [(l + "attention.output.dense.weight", [h, h]), (l + "attention.output.dense.bias", [h]),
                      (l + "attention.output.LayerNorm.weight", [h]), (l + "attention.output.LayerNorm.bias", [h]),
                      (l + "intermediate.dense.weight", [f, h]), (l + "intermediate.dense.bias", [f]),
                      (l + "output.dense.weight", [h, f]), (l + "output.dense.bias", [h]),
                      (l + "output.LayerNorm.weight", [h]), (l + "output.LayerNorm.bias", [h])]
            }
            return w.map { (prefix + $0.0, $0.1) }
        }
        w.append(("embed_tokens.weight", [vocabSize, h]))
        for i in 0..<layers {
            let l = "layers.\(i)."
            w += [(l + "self_attn.q_proj.weight", [q, h]), (l + "self_attn.k_proj.weight", [kv, h]), (l + "self_attn.v_proj.weight", [kv, h]),
                  (l + "self_attn.o_proj.weight", [h, q])]
            if architecture == .qwen2 { w += [(l + "self_attn.q_proj.bias", [q]), (l + "self_attn.k_proj.bias", [kv]), (l + "self_attn.v_proj.bias", [kv])] }
            if architecture == .qwen3 { w += [(l + "self_attn.q_norm.weight", [headDim]), (l + "self_attn.k_norm.weight", [headDim])] }
            w += [(l + "mlp.gate_proj.weight", [f, h]), (l + "mlp.up_proj.weight", [f, h]), (l + "mlp.down_proj.weight", [h, f]),
                  (l + "input_layernorm.weight", [h]), (l + "post_attention_layernorm.weight", [h])]
        }
        w.append(("norm.weight", [h]))
        var named = w.map { (prefix + $0.0, $0.1) }
        if !tiedEmbeddings { named.append(("lm_head.weight", [vocabSize, h])) }  // outside the model. prefix, as transformers saves it
        return named
    }
}

/// A Hugging Face checkpoint directory: its config and its weights, every weight the
/// architecture needs present in its shape.
public struct HuggingFaceCheckpoint: Sendable {
    public let config: TransformerConfig
    public let weights: SafeTensorsCheckpoint
    /// The name prefix of the architecture's weights in this checkpoint (`model.`, `bert.` or none).
    public let prefix: String

    public init(directory: String) throws {
        let config = try TransformerConfig(path: "\(directory)/config.json")
        let weights = try SafeTensorsCheckpoint(directory: directory)
        let candidates = config.architecture == .bert ? ["bert.", ""] : ["model.", ""]
        let probe = config.architecture == .bert ? "embeddings.word_embeddings.weight" : "embed_tokens.weight"
        let prefix = candidates.first { weights.entry($0 + probe) != nil } ?? candidates[0]
        (self.config, self.weights, self.prefix) = (config, weights, prefix)
        for (name, shape) in config.weights(prefix: prefix) {
            guard let e = weights.entry(name) else {
                throw ImportError.invalidTensor(file: weights.source, tensor: name, reason: "missing from the checkpoint (\(config.className) needs it)")
            }
            guard e.shape == shape else {
                throw ImportError.invalidTensor(file: weights.source, tensor: name, reason: "shape \(e.shape), config.json implies \(shape)")
            }
            guard e.dtype.isWeight else { throw ImportError.invalidTensor(file: weights.source, tensor: name, reason: e.dtype.unsupported) }
        }
    }

    /// The weight `name` (without the prefix; `lm_head.weight` as it is).
    public func tensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
        try weights.tensor(name == "lm_head.weight" ? name : prefix + name)
    }
}
