// Sparse DSP chains end to end: N:M sparsity on odd widths, bit-exact in all
// three engines; Yosys DSP counts equal the resource model; 2:4 halves the DSPs.
import Driver
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Lowering
import ModelGraph
import Quantize
import Testing

func dspOptions(_ model: String, _ dir: String, lanes: Int, _ edit: (inout LayerOverride) -> Void = { _ in }) -> CompileOptions {
    var o = CompileOptions(model: model, output: dir, lanes: lanes)
    o.flags.kind = .dsp
    edit(&o.flags)
    return o
}

@Suite("Sparse DSP chains", .serialized)
struct SparseTests {
    @Test("N:M sparsity on odd widths, with chain lengths and groups that do not divide the blocks",
          arguments: [
            ([13, 7, 5], (2, 4), 4, 3, 2),
            ([31, 17, 11, 3], (1, 4), 2, 1, 3),
            ([9, 23, 6], (2, 8), 6, 4, 5),
            ([1, 9, 2], (3, 5), 3, 2, 1),
            ([67, 29, 1], (4, 8), 8, 3, 7),
          ])
    func oddWidths(widths: [Int], sparsity: (Int, Int), chain: Int, group: Int, lanes: Int) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: .gemmTransB, softmax: true, seed: UInt64(widths.reduce(0, +) * 3))
        let model = try writeModel(graph, in: temporaryDirectory())
        let dir = temporaryDirectory() + "/design"
        let compiled = try Driver.compile(dspOptions(model, dir, lanes: lanes) {
            $0.sparsity = (sparsity.0, sparsity.1)
            $0.chainLength = chain
            $0.groupSize = group
        })
        for k in compiled.program.kernels(DSPKernel.self) {
            #expect(k.kept == sparsity.0 && k.blockSize == sparsity.1)
            // Every block stores exactly N pairs with distinct offsets.
            for n in 0..<k.outputCount {
                for b in 0..<k.blocks {
                    #expect(Set((0..<k.kept).map { k.pair(output: n, block: b, $0).offset }).count == k.kept)
                }
            }
        }
        var options = VerifyOptions(design: dir)
        options.vectors = 40
        options.seed = 4
        expectBitExact(try Driver.verify(options), compiled.program, vectors: 44)
    }

    @Test("pruning keeps the N largest magnitudes of every block, ties to the lower offset")
    func pruning() {
        #expect(NMPruning.keptOffsets(row: [0.1, -0.9, 0.5, 0.2, 0.3, 0.3, -0.3, 0.0], n: 2, m: 4) == [[1, 2], [0, 1]])
        #expect(NMPruning.keptOffsets(row: [1, 2, 3], n: 1, m: 2) == [[1], [0]])
        #expect(NMPruning.apply([1, 2, 3, 4], kept: [[1], [1]], m: 2) == [0, 2, 0, 4])
        // Block sparsity: units of 2; unit scores (0.1+0.9, 0.5+0.2, 0.3+0.3, 0.3+0) keep units 0 and 1.
        #expect(NMPruning.keptOffsets(row: [0.1, -0.9, 0.5, 0.2, 0.3, 0.3, -0.3, 0.0], n: 2, m: 4, unit: 2) == [[0, 1, 2, 3]])
        #expect(NMPruning.keptOffsets(row: [0.1, -0.9, 0.5, 0.2, 0.3, 0.0, -0.3, 0.4, 1, 1], n: 1, m: 2, unit: 2)
                == [[0, 1], [2, 3], [0, 1]])
    }

    @Test("block sparsity (units of consecutive weights) is the N·u:M·u case of the same chain, bit-exact")
    func blockSparsity() throws {
        let graph = makeMLP(widths: [21, 10, 4], activations: [.relu, nil], style: .gemmTransB, softmax: true, seed: 77)
        let model = try writeModel(graph, in: temporaryDirectory())
        let dir = temporaryDirectory() + "/design"
        let compiled = try Driver.compile(dspOptions(model, dir, lanes: 3) {
            $0.sparsity = (1, 2)
            $0.sparsityUnit = 3
        })
        for k in compiled.program.kernels(DSPKernel.self) {
            #expect(k.blockSize == 6 && k.kept == 3 && k.chainLength == 3)
            for n in 0..<k.outputCount {
                for b in 0..<k.blocks {
                    // The kept offsets are one whole unit: 0, 1, 2 or 3, 4, 5.
                    let offsets = (0..<3).map { k.pair(output: n, block: b, $0).offset }
                    #expect(offsets == [0, 1, 2] || offsets == [3, 4, 5])
                }
            }
        }
        var options = VerifyOptions(design: dir)
        options.vectors = 30
        expectBitExact(try Driver.verify(options), compiled.program, vectors: 34)
    }

    @Test("Yosys DSP48E1 count equals the model for dense and each sparsity; 2:4 uses at most 55% of dense",
          arguments: [("dense", 4), ("2:4", 4), ("1:4", 4), ("2:8", 2)])
    func dspCount(sparsity: String, lanes: Int) throws {
        let dir = temporaryDirectory("lutforge-dsp-count") + "/design"
        let compiled = try Driver.compile(dspOptions("\(digitsExample)/digits.onnx", dir, lanes: lanes) {
            $0.sparsity = parseSparsity(sparsity)
        })
        let model = ResourceModel.dsp(compiled.program)
        let synth = try Driver.synthesize(dir, family: .xc7)
        #expect(synth.dsp == model, "\(sparsity): Yosys \(synth.dsp) DSP48E1, model \(model)")
        expectModelMatches(synth, compiled.program, lutTolerance: 0.25, sparsity)
        if sparsity == "2:4" {
            let dense = ResourceModel.dsp(try Driver.lower(dspOptions("\(digitsExample)/digits.onnx", "", lanes: lanes)))
            #expect(Double(synth.dsp) <= 0.55 * Double(dense))
        }
    }
}

@Suite("Dense-and-sparse LUT layers", .serialized)
struct OutlierTests {
    @Test("outliers on odd widths with signed inputs, several groups and lanes, either selection",
          arguments: [
            ([13, 7, 5], 0.05, OutlierSelect.magnitude, 1, 1),
            ([31, 17, 11, 3], 0.02, OutlierSelect.error, 2, 3),
            ([9, 23, 6], 0.1, OutlierSelect.magnitude, 3, 2),
          ])
    func oddWidths(widths: [Int], fraction: Double, select: OutlierSelect, outlierLanes: Int, columnLanes: Int) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: .matMulAdd, softmax: true, seed: UInt64(widths.reduce(0, +) * 11))
        let model = try writeModel(graph, in: temporaryDirectory())
        let dir = temporaryDirectory() + "/design"
        let compiled = try Driver.compile(lutOptions(model, dir) {
            $0.outliers = fraction
            $0.outlierSelect = select
            $0.outlierLanes = outlierLanes
            $0.columnLanes = columnLanes
            $0.groupColumns = 3 * columnLanes
            $0.activationCentroids = 10
            $0.weightCentroids = 4
        })
        #expect(compiled.program.inputStorage.signed)
        for k in compiled.program.kernels(LUTKernel.self) {
            let o = try #require(k.outliers)
            #expect(o.values.filter { $0 != 0 }.count >= 1)
            #expect(o.indices.allSatisfy { (0..<k.inputCount).contains($0) })
        }
        var options = VerifyOptions(design: dir)
        options.vectors = 40
        options.seed = 6
        expectBitExact(try Driver.verify(options), compiled.program, vectors: 44)
    }

    @Test("digits: 2% outliers are at least as accurate as none, and Yosys DSP count equals the model")
    func digits() throws {
        let model = "\(digitsExample)/digits.onnx"
        var accuracy: [Double] = []
        for fraction in [0.0, 0.02] {
            let dir = temporaryDirectory("lutforge-outliers") + "/design"
            let compiled = try Driver.compile(lutOptions(model, dir) { $0.outliers = fraction })
            let report = try verifyDigits(dir)
            try expectEstimateMatchesVerify(dir)
            expectBitExact(report, compiled.program, vectors: 449, simulators: ["verilator", "csim"])
            accuracy.append(try #require(report.accuracy).hardware)
            if fraction > 0 {
                let synth = try Driver.synthesize(dir, family: .xc7)
                #expect(synth.dsp == ResourceModel.dsp(compiled.program))
                #expect(synth.dsp == 3)   // one outlier multiply-add per layer
                expectModelMatches(synth, compiled.program, lutTolerance: 0.25, "LUT with 2% outliers")
            }
        }
        #expect(accuracy[1] >= accuracy[0])
    }
}
