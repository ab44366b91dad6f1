// The integer engine's arithmetic and width checks, every kernel kind's
// reference evaluation, and the float interpreter's ONNX and QONNX semantics.
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import ModelGraph
import ReferenceEngine
import Testing

@Suite("Integer engine")
struct IntegerEngineTests {
    @Test("requantize adds the offset, floors, then clamps")
    func requantize() {
        let q = Requantizer(multiplier: 1, shift: 2)   // y = (acc + 2) >> 2
        #expect(q.offset == 2)
        #expect(q.apply(2, lo: -128, hi: 127) == 1)
        #expect(q.apply(-2, lo: -128, hi: 127) == 0)
        #expect(q.apply(-3, lo: -128, hi: 127) == -1)
        #expect(q.apply(-6, lo: -128, hi: 127) == -1)
        #expect(q.apply(1000, lo: -128, hi: 127) == 127)
        #expect(q.apply(-1000, lo: 0, hi: 255) == 0)
        // An explicit offset folds a bias: (acc·3 − 7) >> 1.
        #expect(Requantizer(multiplier: 3, shift: 1, offset: -7).apply(5, lo: -128, hi: 127) == 4)
        #expect(Requantizer(multiplier: 1, shift: 0).offset == 0)
    }

    func kernel(accumulator: IntType) -> DSPKernel {
        DSPKernel.dense(inputCount: 2, outputCount: 1, lanes: 1, inputType: .vector(.int(8), 2), weight: .int(8), bias: .int(2),
                        accumulator: accumulator, multiplier: .uint(15), shift: .uint(2), offset: .int(3), scaled: .int(40),
                        requantized: .int(8), table: nil, weights: [127, 127], biases: [0],
                        requantizers: [Requantizer(multiplier: 1, shift: 1)])
    }

    @Test("a value outside its declared width is reported, never wrapped")
    func overflow() throws {
        // 127·(-128)·2 = -32512 needs 16 bits.
        #expect(throws: OverflowError.self) { try kernel(accumulator: .int(12)).evaluate([[-128, -128]], node: "k") }
        #expect(try kernel(accumulator: .int(17)).evaluate([[-128, -128]], node: "k") == [-128])
    }

    @Test("int types")
    func types() {
        #expect(IntType.int(8).min == -128 && IntType.int(8).max == 127)
        #expect(IntType.uint(8).max == 255)
        #expect(IntType.signedFitting(-129, 5) == .int(9))
        #expect(IntType.signedFitting(0, 127) == .int(8))
        #expect(IntType.unsignedFitting(256) == .uint(9))
        #expect(ElementType.bipolar.storage == .int(2) && ElementType.bipolar.contains(-1) && !ElementType.bipolar.contains(0))
    }

    @Test("threshold, elementwise, argmax and concat kernels evaluate as documented")
    func kinds() throws {
        let t = ThresholdKernel(inputType: .vector(.int(8), 3), outputType: .vector(.int(4), 3), channels: 3, thresholdCount: 2,
                                thresholdType: .int(9), thresholds: [-5, 5, 0, 0, 10, -10], descending: [false, false, true],
                                base: -1, step: 1)
        // Channel 0: levels at -5 and 5; channel 1: two thresholds at 0; channel 2 descending: x ≤ 10, x ≤ -10.
        #expect(try t.evaluate([[-6, -1, 11]], node: "t") == [-1, -1, -1])
        #expect(try t.evaluate([[-5, 0, 10]], node: "t") == [0, 1, 0])
        #expect(try t.evaluate([[5, 3, -10]], node: "t") == [1, 1, 1])
        try t.check(node: "t")
        let e = ElementwiseKernel(inputTypes: [.vector(.int(8), 2), .vector(.uint(8), 2)], outputType: .vector(.int(8), 2), channels: 1,
                                  multipliers: [3, -2], offsets: [4], shifts: [3], multiplier: .int(3), offset: .int(4), shift: .uint(2),
                                  scaled: .int(12))
        // (a·3 − b·2 + 4) >> 3, clamped to i8.
        #expect(try e.evaluate([[10, -128], [5, 0]], node: "e") == [(30 - 10 + 4) >> 3, (-384 + 4) >> 3])
        try e.check(node: "e")
        let a = ArgMaxKernel(inputType: .vector(.int(8), 4))
        #expect(try a.evaluate([[3, 7, 7, -1]], node: "a") == [1])
        #expect(a.outputType.storage == .uint(2))
        let c = ConcatKernel(inputTypes: [.vector(.int(8), 2), .vector(.int(8), 1)])
        #expect(try c.evaluate([[1, 2], [3]], node: "c") == [1, 2, 3])
    }

    @Test("a program runs its nodes over named values; verify() rejects a type mismatch and a cycle")
    func programs() throws {
        let x = TensorType.vector(.int(8), 2)
        let add = ElementwiseKernel(inputTypes: [x, x], outputType: x, channels: 1, multipliers: [1, 1], offsets: [0], shifts: [0],
                                    multiplier: .int(2), offset: .int(2), shift: .uint(1), scaled: .int(10))
        let p = Program(name: "p", sourceFile: "p", values: ["in": x, "y": x],
                        nodes: [KernelNode(name: "add", sourceNodes: [], kernel: add, inputs: ["in", "in"], output: "y")],
                        input: "in", output: "y", outputMeaning: .values, calibration: "")
        try p.verify()
        #expect(try IntegerEngine.run(p, [100, -3]) == [127, -6])
        var bad = p
        bad.values["y"] = .vector(.int(9), 2)
        #expect(throws: ProgramError.self) { try bad.verify() }
        var cyclic = p
        cyclic.nodes[0].inputs = ["y", "in"]
        #expect(throws: ProgramError.self) { try cyclic.verify() }
    }
}

@Suite("Float interpreter")
struct FloatInterpreterTests {
    @Test("Gemm honours alpha, beta, transA and transB")
    func gemm() throws {
        // A = [[1, 2]] (1×2); B stored transposed as [[3, 4], [5, 6]] (2×2) → A·Bᵀ = [[11, 17]].
        let g = Graph(name: "g", inputs: [ValueInfo(name: "a", shape: [1, 2])], outputs: [ValueInfo(name: "y", shape: [1, 2])],
                      nodes: [Node(name: "gemm", op: .gemm(alpha: 2, beta: 0.5, transA: false, transB: true),
                                   inputs: ["a", "b", "c"], outputs: ["y"])],
                      initializers: ["b": FloatTensor(shape: [2, 2], data: [3, 4, 5, 6]), "c": FloatTensor(shape: [2], data: [10, 20])])
        #expect(try FloatInterpreter.run(g, input: [1, 2]) == [27, 44])
        var t = g
        t.nodes[0].op = .gemm(alpha: 1, beta: 1, transA: true, transB: false)
        t.inputs[0].shape = [2, 1]
        // Aᵀ (1×2) · B = [1·3 + 2·5, 1·4 + 2·6] + c
        #expect(try FloatInterpreter.run(t, input: [1, 2]) == [23, 36])
    }

    @Test("softmax, sigmoid, relu, flatten, transpose, reshape")
    func elementwise() throws {
        let g = Graph(name: "g", inputs: [ValueInfo(name: "x", shape: [1, 1, 3])], outputs: [ValueInfo(name: "s", shape: [1, 3])],
                      nodes: [Node(name: "f", op: .flatten(axis: 1), inputs: ["x"], outputs: ["f"]),
                              Node(name: "r", op: .relu, inputs: ["f"], outputs: ["r"]),
                              Node(name: "s", op: .softmax(axis: -1), inputs: ["r"], outputs: ["s"])],
                      initializers: [:])
        let y = try FloatInterpreter.run(g, input: [-1, 0, 0])
        #expect(y.count == 3 && abs(y[0] - 1.0 / 3) < 1e-6)
        let env = try FloatInterpreter.evaluate(g, input: [1, 2, 3])
        #expect(env["f"]?.shape == [1, 3])
        let t = FloatInterpreter.transpose(FloatTensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]), perm: [1, 0])
        #expect(t.shape == [3, 2] && t.data == [1, 4, 2, 5, 3, 6])
        #expect(try FloatInterpreter.reshapeTarget([1, 2, 3], [0, -1], allowZero: false, Node(name: "r", op: .identity, inputs: [], outputs: [])) == [1, 6])
    }

    @Test("QONNX Quant clamps, then rounds half to even, in float32; zero points, narrow ranges, 1-bit signed")
    func quant() {
        func q(_ x: Float, _ s: Float = 0.5, z: Float = 0, bits: Int = 4, signed: Bool = true, narrow: Bool = false, r: RoundingMode = .halfEven) -> Float {
            QuantArith.quantInteger(x, scale: s, zeroPoint: z, bits: bits, signed: signed, narrow: narrow, rounding: r)
        }
        // Exact ties on a power-of-two scale: 0.25/0.5 = 0.5 → 0, 0.75/0.5 = 1.5 → 2, -1.25 → -2.5 → -2.
        #expect(q(0.25) == 0 && q(0.75) == 2 && q(-1.25) == -2 && q(1.25) == 2)
        #expect(q(100) == 7 && q(-100) == -8 && q(-100, narrow: true) == -7)
        #expect(q(100, signed: false) == 15 && q(100, signed: false, narrow: true) == 14 && q(-3, signed: false) == 0)
        #expect(q(1.3, z: 3) == 6)   // 2.6 + 3 = 5.6 → 6
        #expect(q(-0.1, bits: 1) == -1 && q(0, bits: 1) == 1)
        // Clamp first: 7.6 clamps to 7 before rounding (rounding first would give 8, then clamp 7; 7.4 likewise).
        #expect(q(3.8) == 7)
        #expect(q(1.25, r: .floor) == 2 && q(1.25, r: .ceil) == 3 && q(-1.25, r: .halfUp) == -3 && q(-1.25, r: .halfDown) == -2)
        #expect(q(-1.25, r: .down) == -2 && q(-1.25, r: .up) == -3)
        #expect(QuantArith.bipolar(0, scale: 2) == 2 && QuantArith.bipolar(-0.1, scale: 2) == -2)
    }

    @Test("ONNX QuantizeLinear rounds x / s half to even and saturates; the ORT requantizer and BatchNorm coefficients")
    func onnxQuantizers() {
        #expect(QuantArith.quantizeLinear(2.5, scale: 1, zeroPoint: 0, range: -128...127) == 2)
        #expect(QuantArith.quantizeLinear(3.5, scale: 1, zeroPoint: 10, range: 0...255) == 14)
        #expect(QuantArith.quantizeLinear(1000, scale: 1, zeroPoint: 0, range: -128...127) == 127)
        #expect(QuantArith.requantizeORT(5, multiplier: 0.5, zeroPoint: 3, range: 0...255) == 5)   // 2.5 → 2, + 3
        #expect(QuantArith.requantizeORT(-1000, multiplier: 0.5, zeroPoint: 3, range: 0...255) == 0)
        let (s, b) = QuantArith.batchNormCoefficients(gamma: 2, beta: 1, mean: 3, variance: 4 - 1e-5, epsilon: 1e-5)
        #expect(abs(s - 1) < 1e-6 && abs(b - (-2)) < 1e-6)
    }

    @Test("MultiThreshold counts thresholds ≤ x per channel (axis 1 for NC), then scales and biases")
    func multiThreshold() throws {
        let g = Graph(name: "g", inputs: [ValueInfo(name: "x", shape: [1, 2])], outputs: [ValueInfo(name: "y", shape: [1, 2])],
                      nodes: [Node(name: "mt", op: .multiThreshold(outDType: "INT2", outScale: 1, outBias: -2, dataLayout: ""),
                                   inputs: ["x", "t"], outputs: ["y"])],
                      initializers: ["t": FloatTensor(shape: [2, 3], data: [0, 1, 2, -1, -0.5, 5])])
        #expect(try FloatInterpreter.run(g, input: [1, -0.5]) == [0, 0])
        #expect(try FloatInterpreter.run(g, input: [2, 5]) == [1, 1])
    }
}

@Suite("Float interpreter, window ops")
struct WindowOpTests {
    @Test("Conv (1-D, 2-D, pads, strides, dilations, auto_pad, groups, depthwise), ConvInteger, QLinearConv, the pools and Pad equal onnxruntime exactly",
          arguments: ["conv2d", "conv2d_pad_stride", "conv2d_dilated", "conv2d_same_upper", "conv2d_same_lower", "conv2d_group2",
                      "conv2d_depthwise", "conv2d_pointwise", "conv1d", "conv_integer", "qlinear_conv", "maxpool", "maxpool_pad",
                      "maxpool_ceil", "avgpool", "avgpool_pad_include", "avgpool_pad_exclude", "global_avgpool", "global_maxpool",
                      "maxpool1d", "pad"])
    func windowOp(name: String) throws {
        let dir = "\(try GeneratedData.directory("window_ops.py"))/\(name)"
        let graph = try ONNXReader.read(path: "\(dir)/model.onnx")
        let x = try NPY.read(path: "\(dir)/input.npy"), want = try NPY.read(path: "\(dir)/output.npy")
        let y = try FloatInterpreter.evaluate(graph, input: x.values.map { Float($0) })[graph.outputs[0].name]!
        #expect(y.shape == want.shape)
        if let ints = y.ints {
            #expect(ints == want.values.map { Int($0) })
        } else {
            let wrong = zip(y.data, want.values).filter { Double($0) != $1 }.count
            #expect(wrong == 0, "\(name): \(wrong) of \(y.count) values differ; first \(Array(zip(y.data, want.values).filter { Double($0) != $1 }.prefix(3)))")
        }
    }
}
