// Lowering: the HardwareIR dump as a golden snapshot, the graph passes one by one,
// widths proven from bounds and never exceeded, notes, and every unsupported
// graph shape as a clear error.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Lowering
import ModelGraph
import ReferenceEngine
import Testing

let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots").path

func lowerGraph(_ graph: Graph, lanes: Int, calibration: [[Float]]? = nil) throws -> (Program, [String]) {
    var o = LayerOptions()
    o.lanes = lanes
    return try lowerGraph(graph, options: o, calibration: calibration)
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

    @Test("the JSON form round-trips exactly, inline and with the weights in a blob")
    func json() throws {
        let (program, _) = try lowerGraph(makeMLP(widths: [27, 40, 2], activations: [.sigmoid], style: .matMulAdd, softmax: false, seed: 2))
        #expect(try Program.fromJSON(program.jsonData()) == program)
        let blobs = BlobWriter()
        let data = try program.jsonData(blobs: blobs)
        #expect(blobs.data.count >= 27 * 40)
        #expect(data.count < (try program.jsonData()).count)
        #expect(try Program.fromJSON(data, blobs: ["weights.bin": blobs.data]) == program)
        #expect(throws: (any Error).self) { try Program.fromJSON(data) }
    }

    @Test("the pipelines are lists of pass types with verb-noun names, and every pass leaves a verified graph")
    func pipelines() throws {
        for pass in Pipeline.float + Pipeline.quantized {
            #expect(pass.name.split(separator: "-").count >= 2 && pass.name == pass.name.lowercased(), "\(pass.name)")
            #expect(!pass.summary.isEmpty)
        }
        #expect(Pipeline.float.prefix(Pipeline.prepare.count).map { $0.name } == Pipeline.prepare.map { $0.name })
        // Stepping through the float pipeline by hand: the graph verifies after each pass, and the program at the end.
        let graph = makeMLP(widths: [5, 4, 3], activations: [.relu], style: .gemmScaled, softmax: false, seed: 3)
        var rng = SplitMix64(seed: 1)
        var state = LoweringState(file: "t.onnx", graph: graph, options: LoweringOptions(calibration: (0..<16).map { _ in (0..<5).map { _ in Float(rng.nextUnit()) } }, calibrationSource: "t"))
        for pass in Pipeline.float {
            _ = try Pipeline.run([pass], on: &state)
            try state.graph.verify()
        }
        try #require(state.program).verify()
        #expect(state.mode == .float)
        #expect(state.graph.nodes.allSatisfy { if case .gemm = $0.op { false } else { true } })
    }

    @Test("fold-batch-norm and fold-scalar-ops rewrite the weights: the float model computes the same values")
    func folding() throws {
        var graph = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 9)
        graph.initializers["g"] = FloatTensor(shape: [3], data: [1.5, -0.5, 2])
        graph.initializers["be"] = FloatTensor(shape: [3], data: [0.1, 0.2, -0.3])
        graph.initializers["m"] = FloatTensor(shape: [3], data: [0.05, -0.1, 0])
        graph.initializers["v"] = FloatTensor(shape: [3], data: [0.5, 2, 1])
        graph.initializers["two"] = FloatTensor(shape: [], data: [2])
        graph.nodes += [Node(name: "bn", op: .batchNormalization(epsilon: 1e-5), inputs: ["h0", "g", "be", "m", "v"], outputs: ["bn"]),
                        Node(name: "scale", op: .mul, inputs: ["bn", "two"], outputs: ["y"])]
        graph.outputs = [ValueInfo(name: "y", shape: [1, 3])]
        var state = LoweringState(file: "t.onnx", graph: graph, options: LoweringOptions(calibration: [[0.5, -1, 0.25, 1]], calibrationSource: "t"))
        _ = try Pipeline.run(Array(Pipeline.float.prefix(7)), on: &state)
        #expect(!state.graph.nodes.contains { $0.op == .mul || $0.op.onnxName == "BatchNormalization" })
        #expect(state.notes.contains { $0.contains("'bn' folded") } && state.notes.contains { $0.contains("'scale' by a constant folded") })
        for x: [Float] in [[0.5, -1, 0.25, 1], [1, 1, -1, 0]] {
            let a = try FloatInterpreter.run(graph, input: x), b = try FloatInterpreter.run(state.graph, input: x)
            for (u, w) in zip(a, b) { #expect(abs(u - w) <= 1e-5 * max(1, abs(u))) }
        }
    }

    @Test("resolve-layout: a Transpose before a layer permutes its weights instead of the stream")
    func transposedInput() throws {
        var graph = makeMLP(widths: [6, 4], activations: [], style: .gemmTransB, softmax: false, seed: 4)
        graph.inputs = [ValueInfo(name: "img", shape: [1, 2, 3])]
        graph.nodes.insert(contentsOf: [Node(name: "tr", op: .transpose(perm: [0, 2, 1]), inputs: ["img"], outputs: ["t"]),
                                        Node(name: "fl", op: .flatten(axis: 1), inputs: ["t"], outputs: ["x"])], at: 0)
        let (program, _) = try lowerGraph(graph)
        #expect(program.nodes.count == 1 && program.inputCount == 6)
        // Input element (i, j) of img is stream element i·3 + j; the model reads it at logical j·2 + i.
        let k = try #require(program.kernels(DSPKernel.self).first)
        let w = graph.initializers["w0"]!
        let codes = (0..<4).map { n in (0..<6).map { k.weight(output: n, input: $0) } }
        for n in 0..<4 {
            // The largest float weight of row n (logical column c) must be the 127 (or -127) at stream column perm(c).
            let row = Array(w.data[(n * 6)..<((n + 1) * 6)])
            let c = row.indices.max { abs(row[$0]) < abs(row[$1]) }!
            let (i, j) = (c % 2, c / 2)
            #expect(abs(codes[n][i * 3 + j]) == 127)
        }
    }

    @Test("accumulator widths hold the proven bound, and adversarial inputs never overflow",
          arguments: [[3, 8, 2], [64, 40, 40, 10], [1, 1], [200, 3]])
    func provenWidths(widths: [Int]) throws {
        let graph = makeMLP(widths: widths, activations: Array(repeating: .relu, count: widths.count - 2) + [nil],
                            style: .gemmTransB, softmax: false, seed: UInt64(widths.count))
        let (program, _) = try lowerGraph(graph)
        for k in program.kernels(DSPKernel.self) {
            let x = k.inputType.element
            for n in 0..<k.outputCount {
                let r = Arith.dotRange((0..<k.inputCount).map { k.weight(output: n, input: $0) }, xlo: x.min, xhi: x.max, bias: k.biases[n])
                #expect(k.accumulator.contains(r.lo) && k.accumulator.contains(r.hi))
                let q = k.requantizers[n]
                #expect(k.scaled.contains(q.scaled(r.lo)) && k.scaled.contains(q.scaled(r.hi)))
            }
            #expect(k.accumulator.bits >= k.weight.bits + k.input.bits + 2)
            #expect(k.accumulator.bits > k.bias.bits)
            #expect(k.scaled.bits > k.accumulator.bits)
            #expect(k.requantizers.allSatisfy { $0.shift >= 1 && $0.multiplier < 1 << k.multiplier.bits })
        }
        #expect(program.nodes.count == widths.count - 1)
        let t = program.inputType.element, n = program.inputCount
        for v in [[Int](repeating: t.min, count: n), [Int](repeating: t.max, count: n),
                  (0..<n).map { $0 % 2 == 0 ? t.min : t.max }, (0..<n).map { $0 % 2 == 0 ? t.max : t.min }] {
            #expect(throws: Never.self) { try IntegerEngine.run(program, v) }
        }
    }

    @Test("schedule: passes, compute and drain per kernel; the latency of a chain sums them")
    func schedule() throws {
        let (program, _) = try lowerGraph(makeMLP(widths: [10, 7, 3], activations: [.sigmoid], style: .gemmTransB, softmax: false, seed: 4), lanes: 3)
        // Dense is 4:4: fc0 issues 3 blocks of 4 per pass (a pass lasts max(3, 3 lanes) cycles) over
        // 3 passes; fc1 issues 2 blocks in its only pass. Drain: 6 + lanes, +1 with the sigmoid table.
        let s0 = program.nodes[0].schedule, s1 = program.nodes[1].schedule
        #expect(s0.passes == 3 && s0.computeCycles == 2 * 3 + 3 && s0.drainCycles == 10 && s0.outputBeats == 7)
        #expect(s1.passes == 1 && s1.computeCycles == 2 && s1.drainCycles == 9 && s1.outputBeats == 3)
        // The handshake replay agrees with the closed form of a chain: the first load, then per
        // kernel its busy cycles and its emit (the next kernel loads while it emits).
        #expect(program.latencyCycles == 10 + (9 + 10 + 7) + (2 + 9 + 3))
        #expect(program.initiationIntervalCycles == max(s0.occupancyCycles, s1.occupancyCycles))
        let shares = try program.timing().latencyShares
        #expect(shares == [10 + 9 + 10 + 7, 2 + 9 + 3])
    }

    @Test("a residual join: the input fans out to the layer and the elementwise add")
    func residual() throws {
        let graph = makeMLP(widths: [8, 8, 3], activations: [.relu, nil], style: .matMulAdd, softmax: false, seed: 6, residual: [0])
        let (program, _) = try lowerGraph(graph)
        #expect(program.nodes.map(\.kind) == ["dsp-chain", "elementwise", "dsp-chain"])
        let add = try #require(program.kernels(ElementwiseKernel.self).first)
        #expect(add.arity == 2)
        #expect(program.consumers(of: program.input).count == 2)
        #expect(program.latencyCycles > 0)
    }

    @Test("unsupported graph shapes name the node and the reason")
    func errors() throws {
        var early = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: true, seed: 1)
        // Softmax in the middle: move it before the second Gemm.
        early.nodes = [early.nodes[0], Node(name: "mid_softmax", op: .softmax(axis: -1), inputs: ["h0"], outputs: ["s"]),
                       Node(name: "gemm1", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: ["s", "w1", "b1"], outputs: ["h1"])]
        early.outputs = [ValueInfo(name: "h1", shape: [1, 2])]
        expectLoweringError(early, ["mid_softmax", "Softmax"])

        var transA = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        transA.nodes[0].op = .gemm(alpha: 1, beta: 1, transA: true, transB: true)
        expectLoweringError(transA, ["gemm0", "transA"])

        var dynamicWeight = makeMLP(widths: [4, 3], activations: [], style: .matMulAdd, softmax: false, seed: 1)
        dynamicWeight.nodes[0].inputs[1] = "x"
        dynamicWeight.initializers["w0"] = nil
        expectLoweringError(dynamicWeight, ["matmul0", "constant"])

        var mismatch = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        mismatch.initializers["w1"] = FloatTensor(shape: [2, 5], data: [Float](repeating: 0.1, count: 10))
        expectLoweringError(mismatch, ["gemm1", "5 inputs", "receives 3"])

        var sigmoid = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        sigmoid.nodes.insert(Node(name: "first_sigmoid", op: .sigmoid, inputs: ["x"], outputs: ["sx"]), at: 0)
        sigmoid.nodes[1].inputs[0] = "sx"
        expectLoweringError(sigmoid, ["first_sigmoid", "must follow"])

        var conv = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        conv.nodes.insert(Node(name: "conv0", op: .conv(ConvAttributes(kernelShape: [1], strides: nil, pads: nil, dilations: nil, group: 1, autoPad: "NOTSET")),
                               inputs: ["x", "w0"], outputs: ["c"]), at: 0)
        conv.nodes[1].inputs[0] = "c"
        expectLoweringError(conv, ["conv0", "Conv"])
    }

    @Test("a 16-bit quantizer whose float32 steps no requantizer reproduces: the error names the node and how far the nearest one misses")
    func inexactQuantizer() throws {
        // x·330.123 + 3e7 − 3e7 in float32 rounds to multiples of 2: jittered steps of a 16-bit Quant (over 4096 levels).
        func quant(_ name: String, _ x: String, _ out: String, scale: Float, bits: Float) -> [Node] {
            [Node(name: name, op: .quant(signed: true, narrow: false, rounding: .halfEven), inputs: [x, name + "_s", name + "_z", name + "_b"], outputs: [out])]
        }
        var inits: [String: FloatTensor] = [:]
        for (n, s, b) in [("q_in", Float(1) / 16, Float(8)), ("q_out", Float(1), Float(16))] {
            inits[n + "_s"] = FloatTensor(shape: [], data: [s])
            inits[n + "_z"] = FloatTensor(shape: [], data: [0])
            inits[n + "_b"] = FloatTensor(shape: [], data: [b])
        }
        inits["k"] = FloatTensor(shape: [], data: [330.123])
        inits["big"] = FloatTensor(shape: [], data: [3e7])
        inits["minus"] = FloatTensor(shape: [], data: [-3e7])
        let nodes = quant("q_in", "x", "a", scale: 1 / 16, bits: 8) + [
            Node(name: "scale", op: .mul, inputs: ["a", "k"], outputs: ["b"]),
            Node(name: "up", op: .add, inputs: ["b", "big"], outputs: ["c"]),
            Node(name: "down", op: .add, inputs: ["c", "minus"], outputs: ["d"]),
        ] + quant("q_out", "d", "y", scale: 1, bits: 16)
        let graph = Graph(name: "jitter", inputs: [ValueInfo(name: "x", shape: [1, 3])], outputs: [ValueInfo(name: "y", shape: [1, 3])],
                          nodes: nodes, initializers: inits)
        expectLoweringError(graph, ["node 'q_out'", "no integer requantizer within 24 bits", "the nearest (M ", "is wrong on", "of 256 inputs", "65536 output levels"])
    }

    @Test("a ReLU before the first layer and a dead branch are fine: an elementwise kernel, and nothing")
    func relaxedShapes() throws {
        var relu = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        relu.nodes.insert(Node(name: "first_relu", op: .relu, inputs: ["x"], outputs: ["rx"]), at: 0)
        relu.nodes[1].inputs[0] = "rx"
        relu.nodes.append(Node(name: "side", op: .relu, inputs: ["x"], outputs: ["unused"]))
        let (program, _) = try lowerGraph(relu)
        #expect(program.nodes.map(\.kind) == ["elementwise", "dsp-chain"])
        #expect(program.nodes[0].sourceNodes == ["first_relu"])
        #expect(program.kernels(ElementwiseKernel.self)[0].outputType.element == .uint(8))
    }

    @Test("weights tiny next to their biases (a Keras export): the bias lives in the requantizer offset, no int32 limit")
    func tinyWeights() throws {
        var g = makeMLP(widths: [3, 2], activations: [.relu], style: .matMulAdd, softmax: false, seed: 1)
        g.initializers["w0"] = FloatTensor(shape: [3, 2], data: [1e-6, -2e-6, 3e-6, 1e-6, -1e-6, 2e-6])
        g.initializers["b0"] = FloatTensor(shape: [2], data: [0.05, 0.07])
        let x: [[Float]] = (0..<16).map { i in [Float(i) / 16, -Float(i) / 16, 0.5] }
        let (program, _) = try lowerGraph(g, calibration: x)
        let k = try #require(program.kernels(DSPKernel.self).first)
        #expect(k.biases.allSatisfy { $0 == 0 })
        // The outputs are the biases, quantized: 0.05 and 0.07 at the calibrated scale.
        let scale = try #require(k.outputType.quant?.scales.first)
        let y = try IntegerEngine.run(program, [0, 0, 0])
        #expect(abs(Double(y[0]) * scale - 0.05) <= scale && abs(Double(y[1]) * scale - 0.07) <= scale)
    }
}
