// LUT-linear lowering: clipping, proven widths, tables within tbits, the
// power-of-two requantizer, options errors, and the YAML config.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Lowering
import ModelGraph
import ReferenceEngine
import Testing

func lowerLUT(_ graph: Graph, _ edit: (inout LUTOptions) -> Void = { _ in }) throws -> (Program, [String]) {
    var defaults = LayerOptions()
    defaults.kind = .lut
    edit(&defaults.lut)
    let width = graph.inputs[0].shape.last!!
    var rng = SplitMix64(seed: 5)
    let vectors = (0..<128).map { _ in (0..<width).map { _ in Float(rng.nextUnit() * 2 - 1) } }
    return try lowerGraph(graph, options: defaults, calibration: vectors)
}

@Suite("LUT lowering")
struct LUTLoweringTests {
    @Test("defaults follow LUT-LLM, clipped to the layer, with a note")
    func defaultsClipped() throws {
        let (program, notes) = try lowerLUT(makeMLP(widths: [9, 12, 5], activations: [.relu], style: .gemmTransB, softmax: true, seed: 2))
        let luts = program.kernels(LUTKernel.self)
        guard luts.count == 2 else { Issue.record("not LUT"); return }
        let (k0, k1) = (luts[0], luts[1])
        #expect(k0.vectorLength == 2 && k0.positions == 5)
        #expect(k0.activationCentroids == 64 && k0.entry == .int(8) && k0.distance == .linf)
        #expect(k0.weightCentroids == 12 && k0.groupColumns == 12)  // Kw and S clipped to 12 outputs
        #expect(k1.weightCentroids == 5 && k1.groupColumns == 5)
        #expect(notes.contains { $0.hasPrefix("fc0: lut v=2 Ka=64 Kw=12 S=12") && $0.contains("clipped Kw from 16, S from 512") })
    }

    @Test("tables fit tbits, codes fit Kw, centroids fit the input type, and the accumulator holds its bound",
          arguments: [(2, 16, 4, 4, 1), (3, 8, 3, 2, 2), (4, 32, 6, 6, 3)])
    func widths(v: Int, ka: Int, kw: Int, tbits: Int, columnLanes: Int) throws {
        let (program, _) = try lowerLUT(makeMLP(widths: [11, 8, 3], activations: [.relu], style: .matMulAdd, softmax: false, seed: 8)) {
            $0.vectorLength = v
            $0.activationCentroids = ka
            $0.weightCentroids = kw
            $0.tableBits = tbits
            $0.groupColumns = 3
            $0.columnLanes = columnLanes
        }
        for k in program.kernels(LUTKernel.self) {
            #expect(k.groupColumns % k.columnLanes == 0)
            #expect(k.tables.allSatisfy { k.entry.contains($0) } && k.entry.bits == tbits)
            #expect(k.codes.allSatisfy { (0..<k.weightCentroids).contains($0) })
            #expect(k.centroids.allSatisfy { k.input.contains($0) })
            #expect(k.requantizers.allSatisfy { $0.multiplier.nonzeroBitCount == 1 && ($0.shift == 0 || $0.multiplier == 1) })
            #expect(k.requantizers.allSatisfy { $0.offset >= ($0.shift > 0 ? -(1 << 40) : Int.min) })
            #expect(k.accumulator.bits > k.entry.bits && k.accumulator.bits > k.bias.bits && k.scaled.bits > k.accumulator.bits)
            for n in 0..<k.outputCount {
                let bound = abs(k.biases[n]) + (0..<k.positions).reduce(0) { sum, p in
                    sum + (0..<k.activationCentroids).map { abs(k.entry(p, n / k.groupColumns, $0, k.code(p, n))) }.max()!
                }
                #expect(k.accumulator.contains(bound) && k.accumulator.contains(-bound))
            }
        }
        let t = program.inputType.element
        for v in [[Int](repeating: t.min, count: 11), [Int](repeating: t.max, count: 11), (0..<11).map { $0 % 2 == 0 ? t.min : t.max }] {
            #expect(throws: Never.self) { try IntegerEngine.run(program, v) }
        }
    }

    @Test("bad LUT options name the node")
    func badOptions() throws {
        let graph = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        do {
            _ = try lowerLUT(graph) { $0.tableBits = 20 }
            Issue.record("accepted tbits 20")
        } catch let e as LoweringError {
            #expect(e.description.contains("gemm0") && e.description.contains("tbits"))
        }
    }

    @Test("YAML config: global, lut section, per-layer overrides and clear errors")
    func config() throws {
        let c = try ConfigFile.parse("""
            kernel: lut
            lanes: 3
            lut: {v: 4, ka: 32, distance: l2}
            tbits: 6
            calibration: data/x.npy
            outliers: 0.02
            outlier_select: error
            layers:
              fc1: {kernel: dsp, lanes: 2, sparsity: "2:4", chain_length: 4, group_size: 2}
              gemm0: {ka: 8, column_lanes: 2, outlier_lanes: 3}
            """, file: "/cfg/model.yaml")
        let global = c.global.applied(to: LayerOptions())
        #expect(global.kind == .lut && global.lanes == 3 && global.lut.vectorLength == 4)
        #expect(global.lut.activationCentroids == 32 && global.lut.distance == .l2 && global.lut.tableBits == 6)
        #expect(c.calibration == "/cfg/data/x.npy")
        #expect(c.layers["fc1"]?.applied(to: global).kind == .dsp)
        #expect(c.layers["fc1"]?.applied(to: global).lanes == 2)
        #expect(c.layers["gemm0"]?.applied(to: global).lut.activationCentroids == 8)
        #expect(c.layers["gemm0"]?.applied(to: global).lut.vectorLength == 4)
        #expect(global.lut.outlierFraction == 0.02 && global.lut.outlierSelect == .error)
        #expect(c.layers["gemm0"]?.applied(to: global).lut.outlierLanes == 3)
        let fc1 = try #require(c.layers["fc1"]?.applied(to: global))
        #expect(fc1.dsp.kept == 2 && fc1.dsp.blockSize == 4 && fc1.dsp.chainLength == 4 && fc1.dsp.groupSize == 2)

        for (text, message) in [
            ("kernel: fpga", "'kernel' must be one of dsp, lut"),
            ("kaa: 3", "unknown key 'kaa'"),
            ("ka: -1", "'ka' must be an integer"),
            ("layers: {fc0: {tbits: 40}}", "'tbits' in layers.fc0 must be an integer in 2...16"),
            ("layers: [1, 2]", "'layers' must map"),
            ("- just\n- a list", "must be a mapping"),
            ("kernel: [unclosed", "not valid YAML"),
            ("outliers: 1.5", "'outliers' must be a fraction"),
            ("sparsity: 5:4", "'sparsity' must be dense or N:M"),
            ("outlier_select: random", "'outlier_select' must be magnitude or error"),
        ] {
            do {
                _ = try ConfigFile.parse(text, file: "c.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                let d = String(describing: error)
                #expect(d.hasPrefix("c.yaml: ") && d.contains(message), "\(d)")
            }
        }
    }
}
