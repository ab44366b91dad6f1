// Issue 10: already-quantized models, in the exact form each exporter writes them
// (Brevitas and QKeras QONNX, a FINN-streamlined graph with MultiThreshold and
// TopK, onnxruntime QDQ per tensor and per channel), generated at test time by
// scripts/testdata/quantized_models.py with the exporter's own reference integers
// (qonnx's executor; onnxruntime for QDQ). Every design must equal the reference
// exactly, before and after qonnx's cleanup, and be bit-exact in all four engines.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import Testing

/// The generated models, made once per test process.
enum QuantizedModels {
    static func directory() throws -> String { try GeneratedData.directory("quantized_models.py") }

    static func info(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(try directory())/\(name)/info.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// Compiles `model` (with its calibration file), runs the engine on the reference inputs, and
/// demands the reference integers exactly.
func compileMatchingReference(_ name: String, model file: String = "model.onnx", edit: (inout CompileOptions) -> Void = { _ in }) throws -> (Program, String) {
    let src = "\(try QuantizedModels.directory())/\(name)"
    let dir = temporaryDirectory("lutforge-q") + "/design"
    var options = CompileOptions(model: "\(src)/\(file)", output: dir, calibration: "\(src)/calib.npy")
    edit(&options)
    let program = try Driver.compile(options).program
    let outputs = try Driver.runEngine(target: dir, inputs: "\(src)/inputs.npy")
    var want = try NPY.read(path: "\(src)/expected.npy").rows.map { $0.map { Int($0) } }
    // Where the reference's float32 execution and the same graph on real numbers disagree (a
    // quantizer input within float32 rounding of a boundary, docs/numerics.md), the design
    // follows the real-number result; everywhere else it must equal the float32 reference.
    let ambiguous = try QuantizedModels.info(name)["float32_ambiguous"] as? [Int] ?? []
    if !ambiguous.isEmpty {
        let exact = try NPY.read(path: "\(src)/exact.npy").rows.map { $0.map { Int($0) } }
        for v in ambiguous { want[v] = exact[v] }
    }
    #expect(ambiguous.count * 20 <= want.count, "\(name): \(ambiguous.count) of \(want.count) vectors are float32-ambiguous")
    #expect(outputs.count == want.count && outputs.count > 0)
    let wrong = zip(outputs, want).enumerated().filter { $0.element.0 != $0.element.1 }
    #expect(wrong.isEmpty, "\(name)/\(file): \(wrong.count) of \(want.count) vectors differ from the reference; first: vector \(wrong.first?.offset ?? -1): \(wrong.first.map { "\($0.element.0) vs \($0.element.1)" } ?? "")")
    return (program, dir)
}

/// All four engines on the reference inputs.
func verifyAllEngines(_ name: String, _ program: Program, _ dir: String) throws {
    let src = "\(try QuantizedModels.directory())/\(name)"
    var options = VerifyOptions(design: dir)
    options.inputs = "\(src)/inputs.npy"
    options.floatModel = "\(src)/model.onnx"
    let report = try Driver.verify(options)
    let vectors = try NPY.read(path: "\(src)/inputs.npy").shape[0]
    expectBitExact(report, program, vectors: vectors)
    // The fidelity report against the model: every quantized layer exactly the model's integers.
    let fidelity = try Driver.decodeFidelity(Data(contentsOf: URL(fileURLWithPath: "\(dir)/fidelity.json")))
    #expect(!fidelity.layers.isEmpty)
    // Our float interpreter executes the model in float32 as qonnx does, so it shares qonnx's
    // result on the float32-ambiguous vectors: at most their values may differ, in the last layer.
    let ambiguous = (try QuantizedModels.info(name)["float32_ambiguous"] as? [Int])?.count ?? 0
    for (i, layer) in fidelity.layers.enumerated() {
        let misses = Int((Double(layer.elements) * (1 - layer.exactShare)).rounded())
        let allowed = i == fidelity.layers.count - 1 ? ambiguous * program.outputType.count : 0
        #expect(misses <= allowed, "\(name): \(layer.node) differs from the model on \(misses) of \(layer.elements) values")
    }
    #expect(fidelity.top1Agreement.map { $0 == 1 || ambiguous > 0 } ?? true)
}

@Suite("Quantized models", .serialized)
struct QuantizedModelTests {
    @Test("Brevitas-style QONNX (onnx.brevitas Quant and BipolarQuant, batch norms, power-of-two and learned scales): equal to qonnx's executor, before and after cleanup, bit-exact in four engines")
    func brevitas() throws {
        let (program, dir) = try compileMatchingReference("brevitas_mlp")
        _ = try compileMatchingReference("brevitas_mlp", model: "cleaned.onnx")
        // The bipolar layer is a threshold kernel; the batch-normed quantizers are requantizers of
        // non-dyadic ratios found by enumeration; the input quantizer runs on the host.
        #expect(program.kernels(ThresholdKernel.self).count == 1)
        #expect(program.kernels(DSPKernel.self).count == 4)
        #expect(program.inputQuantizer?.source.contains("Quant") == true)
        #expect(program.kernels(ThresholdKernel.self).first?.outputType.element == .bipolar)
        let ties = try #require(try QuantizedModels.info("brevitas_mlp")["quantizer_ties"] as? [String: Int])
        #expect((ties.values.reduce(0, +)) > 0, "the inputs include exact rounding ties")
        try verifyAllEngines("brevitas_mlp", program, dir)
        // Yosys xc7 against the resource model: the 4-bit and 8-bit layers multiply in DSP48E1
        // slices, the bipolar and 3-bit ones (products under 9 bits) in LUTs, raw accumulators
        // need no requantizer multiplier.
        let synth = try Driver.synthesize(dir, family: .xc7)
        expectModelMatches(synth, program, lutTolerance: 0.25, "brevitas_mlp")
        #expect(synth.dsp > 0 && synth.dsp < program.kernels(DSPKernel.self).reduce(0) { $0 + $1.lanes * $1.chainLength })
    }

    @Test("QKeras-style QONNX (finn.custom_op.general, Quant on weights and biases, float input): exact ties round half to even, equal to qonnx's executor")
    func qkeras() throws {
        let (program, dir) = try compileMatchingReference("qkeras_mlp")
        _ = try compileMatchingReference("qkeras_mlp", model: "cleaned.onnx")
        // Power-of-two scales make exact ties; the requantizers round them half to even.
        #expect(program.kernels(DSPKernel.self).allSatisfy { $0.halfEven })
        #expect(program.inputQuantizer?.source.contains("LUTForge") == true && program.inputQuantizer?.scale == 0.0625)
        let ties = try #require(try QuantizedModels.info("qkeras_mlp")["quantizer_ties"] as? [String: Int])
        #expect(ties.values.filter { $0 > 0 }.count == ties.count, "every quantizer sees exact ties: \(ties)")
        try verifyAllEngines("qkeras_mlp", program, dir)
    }

    @Test("FINN-style graph (UINT8 input annotation, integer weights, MultiThreshold, TopK): threshold kernels and an argmax, equal to qonnx's executor")
    func finn() throws {
        let (program, dir) = try compileMatchingReference("finn_mlp")
        _ = try compileMatchingReference("finn_mlp", model: "cleaned.onnx")
        #expect(program.kernels(ThresholdKernel.self).count + program.kernels(DSPKernel.self).filter { $0.requantizers.contains { $0.multiplier != 1 || $0.shift != 0 } }.count >= 2)
        #expect(program.kernels(ArgMaxKernel.self).count == 1)
        #expect(program.outputMeaning == .classIndex(node: "TopK_0"))
        #expect(program.inputQuantizer == nil && program.inputType.element == .uint(8))
        #expect(try QuantizedModels.info("finn_mlp")["threshold_hits"] as? Int ?? 0 > 0, "accumulators land exactly on thresholds")
        try verifyAllEngines("finn_mlp", program, dir)
    }

    @Test("QONNX Trunc (version 1, FLOOR) after an asymmetric unsigned HALF_UP Quant, and a narrow FLOOR output: equal to qonnx's executor in four engines")
    func trunc() throws {
        let (program, dir) = try compileMatchingReference("trunc_mlp")
        _ = try compileMatchingReference("trunc_mlp", model: "cleaned.onnx")
        // The truncation keeps the unsigned input's sign: 5 unsigned bits, zero point 3.
        let truncated = try #require(program.nodes.first { $0.sourceNodes.contains("Trunc_0") })
        #expect(program.values[truncated.output]?.element == .uint(5))
        #expect(program.values[truncated.output]?.quant?.zeroPoints == [3])
        #expect(program.outputType.element == .int(8, narrow: true))
        try verifyAllEngines("trunc_mlp", program, dir)
    }

    @Test("QONNX Trunc version 2 (domain opset 2, output scale, ROUND, clamps) and a narrow output saturating at -127: equal to qonnx's executor except where float32 rounding crosses a boundary")
    func trunc2() throws {
        let (program, dir) = try compileMatchingReference("trunc2_mlp")
        let truncated = try #require(program.nodes.first { $0.sourceNodes.contains("Trunc_0") })
        #expect(program.values[truncated.output]?.element == .int(5))
        // The narrow output saturates in the requantizer itself, not through 254 thresholds.
        #expect(program.outputType.element == .int(8, narrow: true))
        #expect(program.kernels(ThresholdKernel.self).isEmpty)
        // Vector 67 sums to exactly zero in integers; qonnx's float32 products leave -8.9e-8, which FLOOR takes to -1.
        #expect(try QuantizedModels.info("trunc2_mlp")["float32_ambiguous"] as? [Int] == [67])
        try verifyAllEngines("trunc2_mlp", program, dir)
    }

    @Test("ONNX integer ops (QLinearMatMul, MatMulInteger with zero points, Cast/Mul/Add/Relu, QuantizeLinear): equal to onnxruntime in four engines")
    func qlinear() throws {
        let (program, dir) = try compileMatchingReference("qlinear_mlp")
        #expect(program.inputQuantizer?.source.contains("QuantizeLinear") == true)
        #expect(program.outputType.element == .uint(8) && program.outputType.quant?.zeroPoints == [120])
        try verifyAllEngines("qlinear_mlp", program, dir)
    }

    @Test("onnxruntime QDQ (quantize_static, per tensor and per channel): equal to onnxruntime executing the QDQ graph", arguments: ["qdq_mlp", "qdq_perchannel_mlp"])
    func qdq(name: String) throws {
        let (program, dir) = try compileMatchingReference(name)
        #expect(program.inputQuantizer?.source.contains("QuantizeLinear") == true)
        #expect(program.outputType.quant?.zeroPoints.first != 0 || program.outputType.element == .uint(8))
        try verifyAllEngines(name, program, dir)
    }
}
