// The integer engine's arithmetic and width checks, and the float interpreter's ONNX semantics.
import HardwareIR
import ModelGraph
import ReferenceEngine
import Testing

@Suite("Integer engine")
struct IntegerEngineTests {
    @Test("requantize floors after adding half, then clamps")
    func requantize() {
        let q = Requantizer(multiplier: 1, shift: 2)   // y = (acc + 2) >> 2
        #expect(IntegerEngine.requantize(2, q, to: .int(8)) == 1)
        #expect(IntegerEngine.requantize(-2, q, to: .int(8)) == 0)
        #expect(IntegerEngine.requantize(-3, q, to: .int(8)) == -1)
        #expect(IntegerEngine.requantize(-6, q, to: .int(8)) == -1)
        #expect(IntegerEngine.requantize(1000, q, to: .int(8)) == 127)
        #expect(IntegerEngine.requantize(-1000, q, to: .uint(8)) == 0)
    }

    func kernel(accumulator: IntType) -> DSPKernel {
        DSPKernel.dense(name: "k", sourceNodes: ["n"], inputCount: 2, outputCount: 1, lanes: 1, input: .int(8),
                    weight: .int(8), bias: .int(2), accumulator: accumulator, multiplier: .uint(15), shift: .uint(2),
                    scaled: .int(40), requantized: .int(8), table: nil, weights: [127, 127], biases: [0],
                    requantizers: [Requantizer(multiplier: 1, shift: 1)], inputScale: 1, outputScale: 1)
    }

    @Test("a value outside its declared width is reported, never wrapped")
    func overflow() throws {
        // 127·(-128)·2 = -32512 needs 16 bits.
        #expect(throws: OverflowError.self) { try IntegerEngine.run(kernel(accumulator: .int(12)), [-128, -128]) }
        #expect(try IntegerEngine.run(kernel(accumulator: .int(17)), [-128, -128]) == [-128])
    }

    @Test("int types")
    func types() {
        #expect(IntType.int(8).min == -128 && IntType.int(8).max == 127)
        #expect(IntType.uint(8).max == 255)
        #expect(IntType.signedFitting(-129, 5) == .int(9))
        #expect(IntType.signedFitting(0, 127) == .int(8))
        #expect(IntType.unsignedFitting(256) == .uint(9))
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

    @Test("softmax, sigmoid, relu, flatten")
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
    }
}
