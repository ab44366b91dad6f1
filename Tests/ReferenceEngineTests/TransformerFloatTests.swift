// The float reference of Hugging Face checkpoints against transformers' own forward pass
// (issue 12): tiny Qwen3, Qwen2 and Llama decoders and a BERT encoder written by
// `transformers` (scripts/testdata/hf_transformers.py, seeded, at test time). Logits and
// hidden states within 1e-4, greedy tokens identical.
import Foundation
import LUTForgeTestSupport
import ModelImport
import ReferenceEngine
import Testing

@Suite("Transformer float reference", .serialized)
struct TransformerFloatTests {
    static func dir(_ name: String) throws -> String { "\(try GeneratedData.directory("hf_transformers.py"))/\(name)" }

    static func maxDifference(_ a: [[Float]], _ b: NPYArray) -> Double {
        zip(a.flatMap { $0 }, b.values).map { abs(Double($0) - $1) }.max() ?? .infinity
    }

    @Test("decoders written by transformers (Qwen3 with q/k norms, Qwen2 with q/k/v biases, Llama with tied embeddings): prompt logits within 1e-4, 8 greedy tokens identical",
          arguments: ["qwen3", "qwen2", "llama"])
    func decoder(name: String) throws {
        let d = try Self.dir(name)
        let model = try TransformerFloat(HuggingFaceCheckpoint(directory: d))
        let prompt = try NPY.read(path: "\(d)/prompt.npy").values.map { Int($0) }
        let want = try NPY.read(path: "\(d)/logits.npy")
        let logits = model.decoderLogits(prompt)
        #expect(logits.count == 8 && want.values.count == 8 * 256)
        let diff = Self.maxDifference(logits, want)
        #expect(diff < 1e-4, "\(name): max |Δ logit| = \(diff)")
        let scale = want.values.map(abs).max() ?? 0
        #expect(scale > 0.5, "logits are O(1) (max \(scale)), so 1e-4 is a real bound")
        let greedy = try NPY.read(path: "\(d)/greedy.npy").values.map { Int($0) }
        #expect(model.greedy(prompt, count: 8) == greedy)
    }

    @Test("a BERT encoder written by transformers, two positions masked: last hidden state within 1e-4")
    func bert() throws {
        let d = try Self.dir("bert")
        let model = try TransformerFloat(HuggingFaceCheckpoint(directory: d))
        let ids = try NPY.read(path: "\(d)/ids.npy").values.map { Int($0) }
        let mask = try NPY.read(path: "\(d)/mask.npy").values.map { Int($0) }
        let diff = Self.maxDifference(model.encoderHidden(ids, mask: mask), try NPY.read(path: "\(d)/hidden.npy"))
        #expect(diff < 1e-4, "max |Δ| = \(diff)")
    }
}
