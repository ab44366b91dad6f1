// End-to-end: compile real ONNX files, run Verilator and C-simulation, and demand
// the same integers as the Swift engine, including all-min and all-max inputs.
// A missing simulator fails these tests; it never skips them.
import Driver
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelGraph
import Testing

/// Compiles `model` with `lanes`, verifies it with every simulator and returns the report.
func compileAndVerify(_ model: String, lanes: Int, vectors: Int = 24, calibration: String? = nil) throws -> (Program, VerifyReport, String) {
    let dir = temporaryDirectory("lutforge-e2e") + "/design"
    let result = try Driver.compile(CompileOptions(model: model, output: dir, lanes: lanes, calibration: calibration))
    var options = VerifyOptions(design: dir)
    options.vectors = vectors
    options.seed = 42
    return (result.program, try Driver.verify(options), dir)
}

/// Verifies `dir` on the whole digits test split with labels and the float model.
func verifyDigits(_ dir: String, simulators: [String] = ["verilator", "csim"]) throws -> VerifyReport {
    var options = VerifyOptions(design: dir)
    options.simulators = simulators
    options.inputs = "\(digitsExample)/X_test.npy"
    options.labels = "\(digitsExample)/y_test.npy"
    options.floatModel = "\(digitsExample)/digits.onnx"
    return try Driver.verify(options)
}

func expectBitExact(_ report: VerifyReport, _ program: Program, vectors: Int, simulators: [String] = Driver.allSimulators) {
    #expect(report.bitExact && report.verdict == "bit-exact")
    for name in simulators {
        let s = report.simulators[name]
        #expect(s != nil, "simulator \(name) did not run")
        #expect(s?.vectors == vectors)
        #expect(s?.mismatches == 0, "\(name): \(s?.firstMismatch ?? "")")
    }
    // The analytic schedule in HardwareIR is exactly what both RTL simulators measure: the latency
    // of one vector at a time, and the steady-state interval between inferences streamed back to back.
    for name in ["verilator", "icarus"] where simulators.contains(name) {
        #expect(report.simulators[name]?.cyclesPerInference == program.latencyCycles, "\(name)")
        if vectors > 1 { #expect(report.simulators[name]?.intervalCycles == program.initiationIntervalCycles, "\(name)") }
    }
    #expect(report.modelCycles == program.latencyCycles)
    #expect(CycleModel.kernels(program).reduce(0) { $0 + $1.latencyCycles } == program.latencyCycles)
}

/// The resource model against Yosys xc7: DSP and block RAM exactly, logic LUTs within `lutTolerance` when given.
func expectModelMatches(_ synth: SynthesisReport, _ program: Program, lutTolerance: Double? = nil, _ label: String = "") {
    let model = ResourceModel.total(program)
    #expect(synth.dsp == model.dsp, "\(label): Yosys \(synth.dsp) DSP48E1, model \(model.dsp)")
    #expect(synth.bram18 == model.bram18, "\(label): Yosys \(synth.bram18) BRAM18, model \(model.bram18)")
    if let lutTolerance {
        let error = abs(Double(model.luts - synth.luts)) / Double(synth.luts)
        #expect(error <= lutTolerance, "\(label): Yosys \(synth.luts) LUT, model \(model.luts) (\(Int(error * 100))% off)")
    }
}

/// `estimate.json` (written now) against the `verify.json` Verilator figures already in `dir`.
func expectEstimateMatchesVerify(_ dir: String) throws {
    _ = try Driver.estimate(dir)
    func load(_ name: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))) as? [String: Any])
    }
    let estimate = try load("estimate.json"), verify = try load("verify.json")
    let verilator = try #require((verify["simulators"] as? [String: Any])?["verilator"] as? [String: Any])
    #expect(estimate["latency_cycles"] as? Int == verilator["cycles_per_inference"] as? Int)
    #expect(estimate["interval_cycles"] as? Int == verilator["interval_cycles"] as? Int)
}

@Suite("End to end", .serialized)
struct EndToEndTests {
    @Test("digits example: bit-exact on the whole test split, accuracy within 1 point of float")
    func digits() throws {
        let dir = temporaryDirectory("lutforge-digits") + "/design"
        let model = "\(digitsExample)/digits.onnx"
        let compiled = try Driver.compile(CompileOptions(model: model, output: dir, lanes: 4))
        let report = try verifyDigits(dir)
        try expectEstimateMatchesVerify(dir)
        expectBitExact(report, compiled.program, vectors: 449, simulators: ["verilator", "csim"])
        let accuracy = try #require(report.accuracy)
        let float = try #require(accuracy.float)
        #expect(float > 0.9)
        #expect(abs(accuracy.hardware - float) <= 0.01)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/verify.json"))
    }

    @Test("unseen odd widths, every export style, lanes that do not divide the outputs",
          arguments: [
            ([13, 7, 5], MLPStyle.gemmTransB, 1),
            ([31, 17, 11, 3], MLPStyle.matMulAdd, 3),
            ([1, 9, 2], MLPStyle.gemmScaled, 4),
            ([67, 29, 1], MLPStyle.matMulAdd, 2),
            ([5, 300, 7], MLPStyle.gemmTransB, 16),
          ])
    func oddWidths(widths: [Int], style: MLPStyle, lanes: Int) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: style, softmax: true, seed: UInt64(widths.reduce(0, +)))
        let model = try writeModel(graph, in: temporaryDirectory())
        let (program, report, _) = try compileAndVerify(model, lanes: lanes)
        #expect(program.nodeInputCounts == Array(widths.dropLast()))
        #expect(program.nodeOutputCounts == Array(widths.dropFirst()))
        expectBitExact(report, program, vectors: 28)
    }

    @Test("sigmoid tables, signed inputs, no Softmax")
    func sigmoid() throws {
        let graph = makeMLP(widths: [10, 12, 6], activations: [.sigmoid, .sigmoid], style: .gemmTransB, softmax: false, seed: 3)
        let model = try writeModel(graph, in: temporaryDirectory())
        let (program, report, _) = try compileAndVerify(model, lanes: 5)
        #expect(program.inputStorage.signed)
        #expect(program.kernels(DSPKernel.self).allSatisfy { $0.table?.function == "sigmoid" })
        #expect(program.outputMeaning == .values)
        expectBitExact(report, program, vectors: 28)
    }

    @Test("Flatten of a 4-D input and Identity between layers are followed through")
    func flattenIdentity() throws {
        var graph = makeMLP(widths: [6, 5, 4], activations: [.relu], style: .gemmTransB, softmax: true, seed: 8)
        graph.inputs = [ValueInfo(name: "image", shape: [1, 1, 2, 3])]
        graph.nodes.insert(Node(name: "flatten", op: .flatten(axis: 1), inputs: ["image"], outputs: ["x"]), at: 0)
        // gemm0 → identity → relu
        graph.nodes.insert(Node(name: "identity", op: .identity, inputs: ["h0"], outputs: ["h0i"]), at: 2)
        graph.nodes[3].inputs = ["h0i"]
        let model = try writeModel(graph, in: temporaryDirectory())
        let (program, report, _) = try compileAndVerify(model, lanes: 2)
        #expect(program.nodes.map(\.sourceNodes) == [["gemm0", "act0"], ["gemm1"]])
        expectBitExact(report, program, vectors: 28)
    }

    @Test("back-pressure: random valid/ready stalls leave the integers unchanged")
    func backPressure() throws {
        let graph = makeMLP(widths: [9, 8, 4], activations: [.relu], style: .gemmTransB, softmax: true, seed: 11)
        let model = try writeModel(graph, in: temporaryDirectory())
        let dir = temporaryDirectory() + "/design"
        _ = try Driver.compile(CompileOptions(model: model, output: dir, lanes: 3))
        var options = VerifyOptions(design: dir)
        options.vectors = 40
        options.simulators = ["verilator"]
        options.stallSeed = 5
        let report = try Driver.verify(options)
        #expect(report.bitExact)
        #expect(report.simulators["verilator"]?.mismatches == 0)
    }

    @Test("compiling the same model twice gives byte-identical directories")
    func deterministic() throws {
        let model = "\(digitsExample)/digits.onnx"
        let root = temporaryDirectory()
        _ = try Driver.compile(CompileOptions(model: model, output: "\(root)/a", lanes: 2))
        _ = try Driver.compile(CompileOptions(model: model, output: "\(root)/b", lanes: 2))
        let a = directoryContents("\(root)/a"), b = directoryContents("\(root)/b")
        #expect(!a.isEmpty)
        #expect(a == b)
        // No absolute paths leak into generated files.
        for (path, data) in a {
            #expect(!String(decoding: data, as: UTF8.self).contains(root), "\(path) contains an absolute path")
        }
    }
}
