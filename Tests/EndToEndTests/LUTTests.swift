// LUT-linear kernels end to end: the digits example under default options,
// odd widths with every lane option, exhaustive tie cases on hand-built
// kernels, and Yosys confirming the datapath has no multiplier.
import Driver
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Lowering
import ModelGraph
import ModelImport
import ReferenceEngine
import Testing

func lutOptions(_ model: String, _ dir: String, _ edit: (inout LayerOverride) -> Void = { _ in }) -> CompileOptions {
    var o = CompileOptions(model: model, output: dir)
    o.flags.kind = .lut
    edit(&o.flags)
    return o
}

/// A hand-built LUT kernel over signed i8 pairs whose centroids make many exact ties:
/// neighbours at equal distance, a duplicate of centroid 0 at a higher index, and the corners.
func tieKernel(distance: Distance) -> LUTKernel {
    let centroids = [0, 0, 10, 0, -10, 0, 0, 10, 5, 5, 0, 0, -128, 127, 127, -128, -128, -128, 127, 127, 1, -1]
    let ka = centroids.count / 2, kw = 3
    // One position, two groups of two columns; entries span the whole i8 table range.
    let tables = (0..<(2 * ka * kw)).map { i in [-127, 127, 0, 1, -1, 64, -64, 100][i % 8] + (i % 5) - 2 }
        .map { min(max($0, -127), 127) }
    let searchLanes = 3
    return LUTKernel(
        inputCount: 2, outputCount: 4, inputType: .vector(.int(8), 2, quant: .scale(1)), outputType: .vector(.int(8), 4), vectorLength: 2,
        activationCentroids: ka, weightCentroids: kw, groupColumns: 2, distance: distance,
        distanceType: distance == .linf ? .uint(10) : .uint(19), centroids: centroids, codes: [0, 2, 1, 2],
        entry: .int(8), tables: tables, bias: .int(9), biases: [0, -256, 255, 3], accumulator: .int(12),
        requantizers: [Requantizer(multiplier: 1, shift: 0), Requantizer(multiplier: 1, shift: 1),
                       Requantizer(multiplier: 4, shift: 0), Requantizer(multiplier: 1, shift: 3, offset: -3)],
        multiplierShift: .uint(2), shift: .uint(2), offset: .int(3), scaled: .int(17), requantized: .int(8), table: nil,
        searchLanes: searchLanes, columnLanes: 2, positionLanes: 1)
}

@Suite("LUT-linear kernels", .serialized)
struct LUTTests {
    @Test("digits with default LUT options: bit-exact on the test split, within 2 points of float, zero DSP cells")
    func digits() throws {
        let dir = temporaryDirectory("lutforge-lut-digits") + "/design"
        let model = "\(digitsExample)/digits.onnx"
        let compiled = try Driver.compile(lutOptions(model, dir))
        #expect(compiled.program.nodes.allSatisfy { $0.kind == "lut-linear" })
        let first = try #require(compiled.program.kernels(LUTKernel.self).first)
        #expect(first.vectorLength == 2 && first.activationCentroids == 64 && first.weightCentroids == 16 && first.entry.bits == 8)
        let report = try verifyDigits(dir)
        try expectEstimateMatchesVerify(dir)
        expectBitExact(report, compiled.program, vectors: 449, simulators: ["verilator", "csim"])
        let accuracy = try #require(report.accuracy)
        #expect(try #require(accuracy.float) - accuracy.hardware <= 0.02)
        // The engine above ran its packed SIMD loops; `--checked` keeps the interpreter. Same integers.
        #expect(compiled.program.kernels(LUTKernel.self).allSatisfy { FastLUTLayer.ineligibility($0) == nil })
        let fast = try Driver.runEngine(target: dir, inputs: "\(digitsExample)/X_test.npy")
        Driver.checkedEngine = true
        defer { Driver.checkedEngine = false }
        #expect(try Driver.runEngine(target: dir, inputs: "\(digitsExample)/X_test.npy") == fast)

        let synth = try Driver.synthesize(dir, family: .xc7)
        #expect(synth.dsp == 0, "LUT datapath mapped \(synth.dsp) DSP cells: \(synth.cells)")
        #expect(synth.bram18 > 0)
        expectModelMatches(synth, compiled.program, lutTolerance: 0.25, "LUT digits")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/synth.json"))
    }

    @Test("the dense design of the same model does use DSP cells (the count is real)")
    func denseUsesDSP() throws {
        let dir = temporaryDirectory("lutforge-dense-synth") + "/design"
        let compiled = try Driver.compile(CompileOptions(model: "\(digitsExample)/digits.onnx", output: dir, lanes: 2))
        let synth = try Driver.synthesize(dir, family: .xc7)
        #expect(synth.dsp > 0)
        expectModelMatches(synth, compiled.program, lutTolerance: 0.25, "dense lanes 2")
    }

    @Test("odd widths: input not a multiple of v, outputs not a multiple of S, every lane option",
          arguments: [
            ([13, 7, 5], 2, 3, Distance.linf, (1, 1, 1)),
            ([31, 17, 11, 3], 3, 4, Distance.l2, (3, 2, 4)),
            ([9, 23, 6], 4, 5, Distance.linf, (5, 5, 2)),
            ([1, 9, 2], 2, 2, Distance.l2, (2, 1, 1)),
          ])
    func oddWidths(widths: [Int], v: Int, s: Int, distance: Distance, lanes: (Int, Int, Int)) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: .matMulAdd, softmax: true, seed: UInt64(widths.reduce(0, +) * 7))
        let model = try writeModel(graph, in: temporaryDirectory())
        let dir = temporaryDirectory() + "/design"
        let compiled = try Driver.compile(lutOptions(model, dir) {
            $0.vectorLength = v
            $0.groupColumns = s
            $0.activationCentroids = 12
            $0.weightCentroids = 5
            $0.distance = distance
            $0.searchLanes = lanes.0
            $0.columnLanes = lanes.1
            $0.positionLanes = lanes.2
        })
        var options = VerifyOptions(design: dir)
        options.vectors = 40
        options.seed = 9
        expectBitExact(try Driver.verify(options), compiled.program, vectors: 44)
    }

    @Test("sigmoid after a LUT layer, mixed with a dense layer through a per-layer config")
    func mixedConfig() throws {
        let graph = makeMLP(widths: [10, 12, 6], activations: [.sigmoid, nil], style: .gemmTransB, softmax: false, seed: 21)
        let root = temporaryDirectory()
        let model = try writeModel(graph, in: root)
        try """
        kernel: lut
        lut:
          ka: 20
          kw: 6
          v: 3
        layers:
          fc1:
            kernel: dsp
            lanes: 4
        """.write(toFile: "\(root)/config.yaml", atomically: true, encoding: .utf8)
        var options = CompileOptions(model: model, output: "\(root)/design")
        options.config = "\(root)/config.yaml"
        let compiled = try Driver.compile(options)
        #expect(compiled.program.nodes.map(\.kind) == ["lut-linear", "dsp-chain"])
        let k = try #require(compiled.program.kernels(LUTKernel.self).first)
        #expect(k.vectorLength == 3 && k.activationCentroids == 20 && k.weightCentroids == 6 && k.table != nil)
        var verify = VerifyOptions(design: "\(root)/design")
        verify.vectors = 40
        expectBitExact(try Driver.verify(verify), compiled.program, vectors: 44)
    }

    @Test("every i8 pair against tie-making centroids agrees in all three engines", arguments: Distance.allCases)
    func ties(distance: Distance) throws {
        let kernel = tieKernel(distance: distance)
        let program = Program(name: "ties", sourceFile: "ties.hwir", inputType: kernel.inputType, chain: [("ties", ["ties"], kernel)],
                              outputMeaning: .values, calibration: "none (hand-built)")
        let dir = temporaryDirectory("lutforge-ties") + "/design"
        try Driver.writeDesign(program, to: dir)
        let inputs = "\(dir)/../all-pairs.npy"
        let pairs = (-128...127).flatMap { a in (-128...127).flatMap { b in [Double(a), Double(b)] } }
        try NPY.write(NPYArray(shape: [65536, 2], dtype: .int64, values: pairs), to: inputs)
        var options = VerifyOptions(design: dir)
        options.inputs = inputs
        options.simulators = ["verilator", "csim"]
        expectBitExact(try Driver.verify(options), program, vectors: 65536, simulators: ["verilator", "csim"])
        // Icarus, event-driven and slower, on the extremes and 600 seeded pairs.
        var icarus = VerifyOptions(design: dir)
        icarus.vectors = 600
        icarus.simulators = ["icarus"]
        expectBitExact(try Driver.verify(icarus), program, vectors: 604, simulators: ["icarus"])
    }

    @Test("the reference engine breaks ties towards the lowest centroid index")
    func engineTies() {
        let k = tieKernel(distance: .linf), l2 = tieKernel(distance: .l2)
        // (0, 5): centroids 0 (0,0), 3 (0,10) and 4 (5,5) are all at 5; 0 also ties with its duplicate 5.
        #expect(k.search( [0, 5]) == [0])
        // (5, 0): (1, -1) at 4 beats the tie of (0, 0) and (10, 0) at 5.
        #expect(k.search( [5, 0]) == [10])
        // (5, 5) is centroid 4 exactly.
        #expect(k.search( [5, 5]) == [4])
        // (-5, 0): 0 and 2 (-10,0) tie at 5; (1, -1) is at 6.
        #expect(k.search( [-5, 0]) == [0])
        #expect(l2.search( [-5, 0]) == [0])
        // (8, 0): nearer to (10, 0).
        #expect(k.search( [8, 0]) == [1])
        // (5, 5) is 50 from (0,0) and (10,0) under L2, but 0 from centroid 4.
        #expect(l2.search( [5, 5]) == [4])
        // (1, -1) is centroid 10; (1, 0) is 1 from both (0, 0) and (1, -1): the lower index wins.
        #expect(k.search( [1, -1]) == [10])
        #expect(k.search( [1, 0]) == [0])
        #expect(l2.search( [1, 0]) == [0])
    }
}
