// Hugging Face checkpoint import (issue 12, first part): config.json and safetensors,
// single-file and sharded, F32, F16 and BF16, against the values the numpy writer
// (scripts/testdata/hf_checkpoints.py) stored; every binary16 bit pattern; one-line
// errors naming the file and the tensor.
import Foundation
import LUTForgeTestSupport
import ModelImport
import Testing

@Suite("Hugging Face checkpoints")
struct HuggingFaceTests {
    static func dir(_ name: String) throws -> String { "\(try GeneratedData.directory("hf_checkpoints.py"))/\(name)" }

    /// Every tensor of the checkpoint equals its expected float32 values, bit for bit.
    func expectValues(_ name: String) throws -> HuggingFaceCheckpoint {
        let d = try Self.dir(name)
        let ckpt = try HuggingFaceCheckpoint(directory: d)
        #expect(!ckpt.weights.names.isEmpty)
        for tensor in ckpt.weights.names {
            let want = try NPY.read(path: "\(d)/expected/\(tensor).npy")
            let got = try ckpt.weights.tensor(tensor)
            #expect(got.shape == want.shape, "\(tensor)")
            let same = zip(got.values, want.values).allSatisfy { $0.bitPattern == Float($1).bitPattern || ($0.isNaN && $1.isNaN) }
            #expect(same && got.values.count == want.values.count, "\(name)/\(tensor) differs from the stored values")
        }
        return ckpt
    }

    @Test("Qwen3 (BF16, one file): config, q/k norms, untied lm_head, every tensor exact")
    func qwen3() throws {
        let c = try expectValues("qwen3")
        #expect(c.config.architecture == .qwen3 && c.config.kvHeads == 2 && c.config.headDim == 16 && c.config.ropeTheta == 1_000_000)
        #expect(c.prefix == "model." && !c.config.tiedEmbeddings)
        #expect(c.config.weights(prefix: c.prefix).contains { $0.name == "model.layers.1.self_attn.k_norm.weight" && $0.shape == [16] })
        #expect(c.weights.entry("model.embed_tokens.weight")?.dtype == .bf16)
    }

    @Test("Llama (F16, two shards and an index, tied embeddings): every tensor exact, all 65,536 binary16 patterns included")
    func llamaSharded() throws {
        let c = try expectValues("llama")
        #expect(c.config.architecture == .llama && c.config.tiedEmbeddings)
        #expect(c.weights.source.hasSuffix("model.safetensors.index.json"))
        #expect(try c.weights.tensor("all_halves").values.count == 65536)
        #expect(!c.config.weights(prefix: c.prefix).contains { $0.name == "lm_head.weight" })
    }

    @Test("BERT (F32, 'bert.' prefix): LayerNorm eps, token types, every tensor exact")
    func bert() throws {
        let c = try expectValues("bert")
        #expect(c.config.architecture == .bert && c.prefix == "bert." && c.config.typeVocabSize == 2 && c.config.normEpsilon == 1e-12)
    }

    @Test("an unknown architecture, an F64 tensor, a missing or misshapen tensor: one line naming the file and the tensor")
    func errors() throws {
        func message(_ name: String) throws -> String {
            do {
                _ = try HuggingFaceCheckpoint(directory: try Self.dir(name))
            } catch let e as ImportError {
                return e.description
            }
            return "no error"
        }
        let arch = try message("bad_arch")
        #expect(arch.contains("bad_arch/config.json") && arch.contains("MambaForCausalLM") && arch.contains("Qwen3ForCausalLM"), "\(arch)")
        let dtype = try message("bad_dtype")
        #expect(dtype.contains("bad_dtype/model.safetensors") && dtype.contains("model.norm.weight") && dtype.contains("F64"), "\(dtype)")
        let missing = try message("missing")
        #expect(missing.contains("missing/model.safetensors.index.json") && missing.contains("model.layers.1.self_attn.v_proj.weight")
                && missing.contains("missing from the checkpoint"), "\(missing)")
        let shape = try message("bad_shape")
        #expect(shape.contains("model.layers.0.mlp.up_proj.weight") && shape.contains("[64, 128]") && shape.contains("[128, 64]"), "\(shape)")
        for m in [arch, dtype, missing, shape] { #expect(!m.contains("\n")) }
    }

    @Test("truncated and corrupt safetensors files are one-line errors, never a crash")
    func corrupt() throws {
        let src = try Data(contentsOf: URL(fileURLWithPath: "\(try Self.dir("bert"))/model.safetensors"))
        let d = temporaryDirectory("lutforge-st")
        for (i, bytes) in [src.prefix(5), src.prefix(40), src.prefix(src.count - 3), Data([255, 255, 255, 255, 255, 255, 255, 127]) + src.dropFirst(8)].enumerated() {
            let path = "\(d)/t\(i).safetensors"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: ImportError.self) { _ = try SafeTensorsFile(path: path) }
        }
    }
}
