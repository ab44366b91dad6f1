// Hand-built HardwareIR that hits the arithmetic corners directly: exact rounding
// ties (negative and positive), both clamps, the most negative weight, and a
// table addressed by every value of a signed type. All three engines must agree.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import ReferenceEngine
import Testing

/// Kernel 0: one i8 input, outputs x, -x, 127x+5 and -128x-5 at several (M, S), clamped to i8.
/// Kernel 1: four i8 inputs to three outputs through a scrambled 256-entry table.
func cornerProgram() -> Program {
    let k0 = DSPKernel.dense(
        inputCount: 1, outputCount: 4, lanes: 3, inputType: .vector(.int(8), 1, quant: .scale(1)),
        weight: .int(8), bias: .int(4), accumulator: .int(18), multiplier: .uint(15), shift: .uint(4), offset: .int(16),
        scaled: .int(34), requantized: .int(8), table: nil,
        weights: [1, -1, 127, -128], biases: [0, 0, 5, -5],
        requantizers: [Requantizer(multiplier: 1, shift: 1), Requantizer(multiplier: 3, shift: 2),
                       Requantizer(multiplier: 16384, shift: 15), Requantizer(multiplier: 32767, shift: 8)])
    let table = ActivationTable(function: "scramble", input: .int(8), output: .uint(8),
                                values: (0..<256).map { ($0 * 37 + 11) % 256 })
    let k1 = DSPKernel.dense(
        inputCount: 4, outputCount: 3, lanes: 3, inputType: .vector(.int(8), 4),
        weight: .int(8), bias: .int(8), accumulator: .int(19), multiplier: .uint(15), shift: .uint(3), offset: .int(8),
        scaled: .int(35), requantized: .int(8), table: table,
        weights: [1, 1, 0, 0, 0, 0, 1, -1, -128, 127, 3, -7], biases: [0, 1, -128],
        requantizers: [Requantizer(multiplier: 1, shift: 1), Requantizer(multiplier: 5, shift: 3, offset: -100),
                       Requantizer(multiplier: 1, shift: 6)])
    // k0 gives 4 outputs; k1 reads them.
    return Program(name: "corners", sourceFile: "corners.hwir", inputType: k0.inputType,
                   chain: [("k0", ["corner0"], k0), ("k1", ["corner1"], k1)], outputMeaning: .values, calibration: "none (hand-built)")
}

@Suite("Hand-built HardwareIR")
struct HandBuiltIRTests {
    @Test("every i8 input: rounding ties, clamps and table addressing agree in all three engines")
    func corners() throws {
        let program = cornerProgram()
        let dir = temporaryDirectory("lutforge-corners") + "/design"
        try Driver.writeDesign(program, to: dir)
        let inputs = "\(dir)/../all-i8.npy"
        try NPY.write(NPYArray(shape: [256, 1], dtype: .int64, values: (-128...127).map(Double.init)), to: inputs)
        var options = VerifyOptions(design: dir)
        options.inputs = inputs
        let report = try Driver.verify(options)
        expectBitExact(report, program, vectors: 256)
    }

    @Test("a dataflow graph (a fork into a chain and a residual add, half-even rounding, thresholds, a concat reading one stream twice, an argmax): bit-exact in four engines, cycles equal to the handshake replay")
    func graph() throws {
        let program = handBuiltGraphProgram()
        let dir = temporaryDirectory("lutforge-graph") + "/design"
        try Driver.writeDesign(program, to: dir)
        var options = VerifyOptions(design: dir)
        options.vectors = 200
        let report = try Driver.verify(options)
        expectBitExact(report, program, vectors: 204)
        // Back-pressure on a forking graph: random stalls change no integer.
        var stalled = VerifyOptions(design: dir)
        stalled.vectors = 60
        stalled.simulators = ["verilator"]
        stalled.stallSeed = 3
        #expect(try Driver.verify(stalled).bitExact)
    }

    @Test("half-even requantizers round exact ties to the even neighbour in every engine")
    func halfEven() throws {
        // y = round_half_even((x·1 + 0) / 2) over every i8 input: ties at every odd x.
        let k = DSPKernel.dense(inputCount: 1, outputCount: 2, lanes: 2, inputType: .vector(.int(8), 1, quant: .scale(1)), weight: .int(2),
                                bias: .int(2), accumulator: .int(12), multiplier: .uint(2), shift: .uint(2), offset: .int(3),
                                scaled: .int(16), requantized: .int(8), table: nil, weights: [1, -1], biases: [0, 0],
                                requantizers: [Requantizer(multiplier: 1, shift: 1, offset: 0), Requantizer(multiplier: 3, shift: 2, offset: 1)],
                                halfEven: true)
        #expect(try k.evaluate([[3]], node: "k") == [2, -2])   // 1.5 → 2; (−9 + 1)/4 = −2 exactly
        #expect(try k.evaluate([[5]], node: "k") == [2, -4])   // 2.5 → 2; −14/4 = −3.5 → −4
        #expect(try k.evaluate([[-3]], node: "k") == [-2, 2])  // −1.5 → −2; 10/4 = 2.5 → 2
        let program = Program(name: "even", sourceFile: "even.hwir", inputType: k.inputType, chain: [("k", ["k"], k)], outputMeaning: .values,
                              calibration: "hand-built")
        let dir = temporaryDirectory("lutforge-even") + "/design"
        try Driver.writeDesign(program, to: dir)
        let inputs = "\(dir)/../all-i8.npy"
        try NPY.write(NPYArray(shape: [256, 1], dtype: .int64, values: (-128...127).map(Double.init)), to: inputs)
        var options = VerifyOptions(design: dir)
        options.inputs = inputs
        expectBitExact(try Driver.verify(options), program, vectors: 256)
    }

    @Test("the reference engine rounds half up after the floor shift and clamps")
    func engineCorners() throws {
        let k0 = try #require(cornerProgram().kernels(DSPKernel.self).first)
        // (x·1 + 1) >> 1: ties go up, the shift floors.
        #expect(try ReferenceCheck.run(k0, [1])[0] == 1)
        #expect(try ReferenceCheck.run(k0, [-1])[0] == 0)
        #expect(try ReferenceCheck.run(k0, [-3])[0] == -1)
        #expect(try ReferenceCheck.run(k0, [127])[0] == 64)
        // (-x·3 + 2) >> 2 for x = -128: 386 >> 2 = 96.
        #expect(try ReferenceCheck.run(k0, [-128])[1] == 96)
        // 127·127 + 5 = 16134; ·16384 >> 15 ≈ 8067: clamps to 127. -128·127 - 5 saturates low.
        #expect(try ReferenceCheck.run(k0, [127])[2] == 127)
        #expect(try ReferenceCheck.run(k0, [127])[3] == -128)
    }
}

enum ReferenceCheck {
    static func run(_ k: DSPKernel, _ x: [Int]) throws -> [Int] { try k.evaluate([x], node: "k0") }
}
