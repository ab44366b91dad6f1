// Lowering: the HardwareIR dump as a golden snapshot, widths proven from bounds
// and never exceeded, notes, and every unsupported graph shape as a clear error.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Lowering
import ModelGraph
import ReferenceEngine
import Testing

let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots").path

func lowerGraph(_ graph: Graph, lanes: Int = 1, calibration: [[Float]]? = nil) throws -> (Program, [String]) {
    let width = graph.inputs[0].shape.last!!
    var rng = SplitMix64(seed: 77)
    let vectors = calibration ?? (0..<64).map { _ in (0..<width).map { _ in Float(rng.nextUnit() * 2 - 1) } }
    var state = LoweringState(file: "test.onnx", graph: graph, options: LoweringOptions(lanes: lanes, calibration: vectors, calibrationSource: "64 test vectors"))
    let program = try Pipeline.run(Pipeline.mlp, on: &state)
    return (program, state.notes)
}

func expectLoweringError(_ graph: Graph, _ parts: [String]) {
    do {
        _ = try lowerGraph(graph)
        Issue.record("lowering succeeded; expected an error mentioning \(parts)")
    } catch {
        let text = String(describing: error)
        #expect(text.hasPrefix("test.onnx: "), "\(text)")
        for p in parts { #expect(text.contains(p), "'\(p)' not in: \(text)") }
        #expect(!text.contains("\n"))
    }
}

@Suite("Lowering")
struct LoweringTests {
    @Test("HardwareIR dump of a small MLP matches the snapshot")
    func snapshot() throws {
        let graph = makeMLP(widths: [6, 5, 3], activations: [.relu], style: .gemmTransB, softmax: true, seed: 5)
        let (program, notes) = try lowerGraph(graph, lanes: 2)
        try assertSnapshot(program.dump(), path: "\(snapshots)/small-mlp.hwir")
        #expect(notes.contains { $0.contains("Softmax 'softmax'") && $0.contains("argmax") })
        #expect(program.outputMeaning == .logits(softmaxNode: "softmax"))
    }

    @Test("the JSON form round-trips exactly")
    func json() throws {
        let (program, _) = try lowerGraph(makeMLP(widths: [7, 4, 2], activations: [.sigmoid], style: .matMulAdd, softmax: false, seed: 2))
        #expect(try Program.fromJSON(program.jsonData()) == program)
    }

    @Test("accumulator widths hold the proven bound, and adversarial inputs never overflow",
          arguments: [[3, 8, 2], [64, 40, 40, 10], [1, 1], [200, 3]])
    func provenWidths(widths: [Int]) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: .gemmTransB, softmax: false, seed: UInt64(widths.count))
        let (program, _) = try lowerGraph(graph)
        for case let .dsp(k) in program.kernels {
            let xMag = max(-k.input.min, k.input.max)
            for n in 0..<k.outputCount {
                let bound = abs(k.biases[n]) + (0..<k.inputCount).reduce(0) { $0 + abs(k.weight(output: n, input: $1)) * xMag }
                #expect(k.accumulator.contains(bound) && k.accumulator.contains(-bound))
            }
            #expect(k.accumulator.bits >= k.weight.bits + k.input.bits + 2)
            #expect(k.accumulator.bits > k.bias.bits)
            #expect(k.scaled.bits > k.accumulator.bits)
            #expect(k.requantizers.allSatisfy { $0.shift >= 1 && $0.multiplier < 1 << k.multiplier.bits })
        }
        #expect(program.kernels.count == widths.count - 1)
        let t = program.input, n = program.inputCount
        for v in [[Int](repeating: t.min, count: n), [Int](repeating: t.max, count: n),
                  (0..<n).map { $0 % 2 == 0 ? t.min : t.max }, (0..<n).map { $0 % 2 == 0 ? t.max : t.min }] {
            #expect(throws: Never.self) { try IntegerEngine.run(program, v) }
        }
    }

    @Test("schedule: passes, compute and drain per kernel; latency sums them")
    func schedule() throws {
        let (program, _) = try lowerGraph(makeMLP(widths: [10, 7, 3], activations: [.sigmoid], style: .gemmTransB, softmax: false, seed: 4), lanes: 3)
        // Dense is 4:4: fc0 issues 3 blocks of 4 per pass (a pass lasts max(3, 3 lanes) cycles) over
        // 3 passes; fc1 issues 2 blocks in its only pass. Drain: 6 + lanes, +1 with the sigmoid table.
        let s0 = program.kernels[0].schedule, s1 = program.kernels[1].schedule
        #expect(s0.passes == 3 && s0.computeCycles == 2 * 3 + 3 && s0.drainCycles == 10 && s0.emitCycles == 7)
        #expect(s1.passes == 1 && s1.computeCycles == 2 && s1.drainCycles == 9 && s1.emitCycles == 3)
        #expect(program.latencyCycles == 10 + (9 + 10 + 7) + (2 + 9 + 3))
    }

    @Test("unsupported graph shapes name the node and the reason")
    func errors() throws {
        var early = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: true, seed: 1)
        // Softmax in the middle: move it before the second Gemm.
        early.nodes = [early.nodes[0], Node(name: "mid_softmax", op: .softmax(axis: -1), inputs: ["h0"], outputs: ["s"]),
                       Node(name: "gemm1", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["s", "w1", "b1"], outputs: ["h1"])]
        early.outputs = [ValueInfo(name: "h1", shape: [1, 2])]
        expectLoweringError(early, ["mid_softmax", "Softmax"])

        var branch = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        branch.nodes.append(Node(name: "side", op: .relu, inputs: ["x"], outputs: ["r"]))
        expectLoweringError(branch, ["feeds 2 nodes"])

        var relu = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        relu.nodes.insert(Node(name: "first_relu", op: .relu, inputs: ["x"], outputs: ["rx"]), at: 0)
        relu.nodes[1].inputs[0] = "rx"
        expectLoweringError(relu, ["first_relu", "must follow"])

        var transA = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        transA.nodes[0].op = .gemm(alpha: 1, beta: 1, transA: true, transB: true)
        expectLoweringError(transA, ["gemm0", "transA"])

        var dynamicWeight = makeMLP(widths: [4, 3], activations: [], style: .matMulAdd, softmax: false, seed: 1)
        dynamicWeight.nodes[0].inputs[1] = "x"
        expectLoweringError(dynamicWeight, ["matmul0", "constant"])

        var mismatch = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        mismatch.initializers["w1"] = FloatTensor(shape: [2, 5], data: [Float](repeating: 0.1, count: 10))
        expectLoweringError(mismatch, ["gemm1", "5 inputs", "receives 3"])
    }

    @Test("a bias that cannot be proven to fit int32 is a compile error")
    func unprovableBias() throws {
        var g = makeMLP(widths: [2, 2], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        g.initializers["b0"] = FloatTensor(shape: [2], data: [1e6, 0])
        g.initializers["w0"] = FloatTensor(shape: [2, 2], data: [1e-6, 1e-6, 1e-6, 1e-6])
        do {
            _ = try lowerGraph(g, calibration: [[1e-3, 1e-3]])
            Issue.record("accepted")
        } catch let e as LoweringError {
            #expect(e.description.contains("gemm0") && e.description.contains("int32"))
        }
    }
}
