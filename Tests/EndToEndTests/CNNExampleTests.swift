// Issue 11's example: examples/digits-cnn/train.py trains a small CNN on scikit-learn's
// 8x8 digits at test time and exports it as a float model and as a QONNX model with
// hand-built Quant nodes. The float model is compiled to int8 DSP chains and to LUT-linear
// tables, the QONNX model as it is; accuracies on the 449 test images must stay near the
// float model's (docs/examples.md records them), the QONNX design must equal qonnx's
// executor on every test image, and all three must be bit-exact in all four engines.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import Testing

@Suite("Digits CNN example", .serialized)
struct CNNExampleTests {
    static func data() throws -> String {
        try GeneratedData.directory(script: "examples/digits-cnn/train.py") { ["--out", $0, "--reference"] }
    }

    static func floatAccuracy() throws -> Double {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(try data())/accuracy.json")))
        return try #require((json as? [String: Any])?["float_accuracy"] as? Double)
    }

    /// Compiles `model`, measures accuracy on the whole test split with the Swift engine and
    /// verifies the first `vectors` test images in every engine. Returns the design and its accuracy.
    static func check(_ model: String, vectors: Int = 12, flags: (inout CompileOptions) -> Void = { _ in }) throws -> (String, Double) {
        let src = try data()
        let dir = temporaryDirectory("lutforge-digits-cnn") + "/design"
        var options = CompileOptions(model: "\(src)/\(model)", output: dir, calibration: "\(src)/X_calib.npy")
        flags(&options)
        let program = try Driver.compile(options).program
        #expect(program.kernels(SlidingWindowKernel.self).count == 4)
        var all = VerifyOptions(design: dir)
        all.inputs = "\(src)/X_test.npy"
        all.labels = "\(src)/y_test.npy"
        all.simulators = []
        let accuracy = try #require(try Driver.verify(all).accuracy)
        #expect(accuracy.count == 449)
        try writeFirstRows(of: "\(src)/X_test.npy", count: vectors, to: "\(dir)/../first.npy")
        var some = VerifyOptions(design: dir)
        some.inputs = "\(dir)/../first.npy"
        expectBitExact(try Driver.verify(some), program, vectors: vectors)
        return (dir, accuracy.hardware)
    }

    @Test("float CNN quantized by LUTForge to int8 DSP chains: within 2 points of the float model, bit-exact")
    func int8() throws {
        let (_, accuracy) = try Self.check("cnn.onnx")
        let float = try Self.floatAccuracy()
        #expect(float > 0.95, "the trained float model reaches \(float)")
        #expect(accuracy >= float - 0.02, "int8 \(accuracy) vs float \(float)")
    }

    @Test("the same float CNN on LUT-linear tables: within 3 points of the float model, bit-exact")
    func lut() throws {
        let (_, accuracy) = try Self.check("cnn.onnx", vectors: 4) { $0.flags.kind = .lut }
        let float = try Self.floatAccuracy()
        #expect(accuracy >= float - 0.03, "LUT \(accuracy) vs float \(float)")
    }

    @Test("the hand-quantized QONNX CNN: equal to qonnx's executor on all 449 test images, bit-exact")
    func qonnx() throws {
        let (dir, _) = try Self.check("cnn_qonnx.onnx")
        let outputs = try Driver.runEngine(target: dir, inputs: "\(try Self.data())/X_test.npy")
        let want = try NPY.read(path: "\(try Self.data())/qonnx_out.npy").rows.map { $0.map { Int($0) } }
        #expect(outputs.count == 449 && outputs == want, "\(zip(outputs, want).filter { $0.0 != $0.1 }.count) of \(want.count) images differ from qonnx")
    }
}
