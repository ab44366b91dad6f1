// Issue 11: convolutional networks in the forms exporters write them (PyTorch NCHW,
// Keras NHWC behind Transposes, 1-D, depthwise-separable, residual and concat blocks,
// Brevitas and FINN QONNX CNNs), generated at test time by
// scripts/testdata/cnn_models.py and quantized_models.py. Every design must be
// bit-exact in the Swift engine, Verilator, Icarus and C-simulation with cycles equal
// to the model; quantized ones must equal qonnx's executor.
import Driver
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import Testing

enum CNNModels {
    static func directory() throws -> String { try GeneratedData.directory("cnn_models.py") }
}

/// Compiles a generated float CNN with its calibration file.
func compileCNN(_ name: String, edit: (inout CompileOptions) -> Void = { _ in }) throws -> (Program, String, String) {
    let src = "\(try CNNModels.directory())/\(name)"
    let dir = temporaryDirectory("lutforge-cnn") + "/design"
    var options = CompileOptions(model: "\(src)/model.onnx", output: dir, calibration: "\(src)/calib.npy")
    edit(&options)
    return (try Driver.compile(options).program, dir, src)
}

/// Verifies in every engine on the first `vectors` inputs, and checks the design's class agrees with
/// onnxruntime's on most of them (a wrong layout would leave chance agreement).
func verifyCNN(_ program: Program, _ dir: String, _ src: String, vectors: Int = 6, agreement: Double = 0.8) throws {
    let path = "\(dir)/../inputs.npy"
    try writeFirstRows(of: "\(src)/inputs.npy", count: vectors, to: path)
    var options = VerifyOptions(design: dir)
    options.inputs = path
    let report = try Driver.verify(options)
    expectBitExact(report, program, vectors: vectors)
    // Against onnxruntime on all inputs (the Swift engine only).
    let outputs = try Driver.runEngine(target: dir, inputs: "\(src)/inputs.npy")
    let expected = try NPY.read(path: "\(src)/expected.npy").rows
    let agree = zip(outputs, expected).filter { Driver.argmax($0.0) == Driver.argmax($0.1) }.count
    #expect(Double(agree) >= agreement * Double(expected.count), "\(src): the design's class agrees with onnxruntime on \(agree) of \(expected.count)")
}

@Suite("Convolutional networks", .serialized)
struct CNNTests {
    @Test("PyTorch-form 2-D CNN (NCHW input streamed channels-last by the host): conv + batch norm + ReLU, max pool, strided padded conv, average pool, Gemm")
    func torch2d() throws {
        let (program, dir, src) = try compileCNN("torch2d")
        #expect(program.layouts[program.input] == .channelsLast(channels: 2))
        #expect(program.kernels(SlidingWindowKernel.self).count == 4)
        #expect(program.kernels(PoolKernel.self).map(\.reduction) == [.max, .sum])
        // The batch norm is folded into the first convolution, its ReLU into the requantizer.
        #expect(!program.nodes.contains { $0.sourceNodes.contains("BatchNormalization_0") && $0.kind == ElementwiseKernel.kind })
        try verifyCNN(program, dir, src)
    }

    @Test("Keras-form 2-D CNN (NHWC input behind Transposes, SAME and VALID padding, MatMul + Add head): no host reordering")
    func keras2d() throws {
        let (program, dir, src) = try compileCNN("keras2d")
        #expect(program.layouts[program.input] == nil)
        #expect(program.inputType.framesPerInference == 8 * 7)
        try verifyCNN(program, dir, src)
    }

    @Test("1-D CNN: padded and dilated convolutions, max pool, global average pool")
    func conv1d() throws {
        let (program, dir, src) = try compileCNN("conv1d")
        #expect(program.kernels(SlidingWindowKernel.self).allSatisfy { $0.height == 1 && $0.kernelHeight == 1 })
        #expect(program.kernels(SlidingWindowKernel.self).contains { $0.dilationWidth == 2 })
        try verifyCNN(program, dir, src)
    }

    @Test("depthwise-separable block: a Pad folded into a depthwise convolution (group = C, windows group by group), a pointwise convolution, a global max pool")
    func depthwiseSeparable() throws {
        let (program, dir, src) = try compileCNN("dwsep")
        let windows = program.kernels(SlidingWindowKernel.self)
        #expect(windows.first?.groups == 4 && windows.first?.padTop == 1)
        #expect(!program.nodes.contains { $0.sourceNodes == ["pad"] })
        try verifyCNN(program, dir, src)
    }

    @Test("residual block: a FIFO sized from the schedule on the skip branch; bit-exact, and no deadlock under random back-pressure")
    func residual() throws {
        let (program, dir, src) = try compileCNN("residual")
        let fifos = program.kernels(FIFOKernel.self)
        #expect(fifos.count == 1)
        // Fewer beats than the whole map would need, more than a frame.
        #expect(fifos[0].depth > 4 && fifos[0].depth < 196, "depth \(fifos[0].depth)")
        // Without the FIFO the schedule deadlocks.
        var bare = program
        bare.nodes.removeAll { $0.kind == FIFOKernel.kind }
        let fifoName = program.nodes.first { $0.kind == FIFOKernel.kind }!
        for i in bare.nodes.indices { bare.nodes[i].inputs = bare.nodes[i].inputs.map { $0 == fifoName.output ? fifoName.inputs[0] : $0 } }
        #expect(throws: ProgramError.self) { try bare.timing() }
        // The HLS top is a dataflow region whose skip-branch stream has the FIFO's depth.
        let top = try String(contentsOfFile: "\(dir)/hls/lutforge_top.cpp", encoding: .utf8)
        #expect(top.contains("LF_HLS(DATAFLOW)") && top.contains("depth = \(fifos[0].depth))"))
        #expect(top.contains("lutforge::sliding_window<") && top.contains("static void fork_"))
        try verifyCNN(program, dir, src)
        for seed in [1, 2] {
            var options = VerifyOptions(design: dir)
            options.vectors = 4
            options.simulators = ["verilator"]
            options.stallSeed = seed
            let report = try Driver.verify(options)
            #expect(report.bitExact, "stall seed \(seed)")
        }
    }

    @Test("two branches joined by a channel Concat (the input forks to both), stall-tested")
    func concat() throws {
        let (program, dir, src) = try compileCNN("concat")
        #expect(program.kernels(ConcatKernel.self).count == 1)
        try verifyCNN(program, dir, src)
        var options = VerifyOptions(design: dir)
        options.vectors = 4
        options.simulators = ["verilator"]
        options.stallSeed = 7
        #expect(try Driver.verify(options).bitExact)
    }

    @Test("LUT-linear and 2:4-sparse DSP convolutions on the same windows, bit-exact")
    func kernelsOnWindows() throws {
        let (lut, ldir, src) = try compileCNN("conv1d") { $0.flags.kind = .lut }
        #expect(lut.kernels(LUTKernel.self).count == 3)
        try verifyCNN(lut, ldir, src, vectors: 3, agreement: 0.6)
        let (sparse, sdir, _) = try compileCNN("torch2d") {
            $0.flags.kind = .dsp
            $0.flags.sparsity = (2, 4)
            $0.flags.lanes = 2
        }
        #expect(sparse.kernels(DSPKernel.self).allSatisfy { $0.kept == 2 && $0.blockSize == 4 })
        // Pruning half the weights of a 2-channel convolution without retraining costs most of the accuracy; only exactness is asked here.
        try verifyCNN(sparse, sdir, src.replacingOccurrences(of: "conv1d", with: "torch2d"), vectors: 3, agreement: 0)
    }

    @Test("Yosys xc7 against the resource model on a CNN: DSP and block RAM exactly, LUTs within 25 %")
    func resources() throws {
        let (program, dir, _) = try compileCNN("residual")
        let synth = try Driver.synthesize(dir, family: .xc7)
        expectModelMatches(synth, program, lutTolerance: 0.25, "residual")
    }

    @Test("the float CNN shipped inside the qonnx wheel (mnist-conv) compiles, and its hardware argmax equals the stored output's")
    func mnistConv() throws {
        let data = "\(repositoryRoot)/.deps/venv/lib/python3.11/site-packages/qonnx/data/onnx/mnist-conv"
        let dir = temporaryDirectory("lutforge-mnist")
        // The stored input and output, and calibration images shifted and dimmed from the input.
        let script = """
        import numpy as np, onnx
        from onnx import numpy_helper
        def load(p):
            t = onnx.TensorProto(); t.ParseFromString(open(p, 'rb').read()); return numpy_helper.to_array(t)
        x = load('\(data)/test_data_set_0/input_0.pb').reshape(28, 28).astype(np.float32)
        y = load('\(data)/test_data_set_0/output_0.pb').flatten()
        r = np.random.default_rng(5)
        cal = [x.flatten()] + [(np.roll(np.roll(x, a, 0), b, 1) * r.uniform(0.7, 1.0)).flatten() for a, b in r.integers(-2, 3, (15, 2))]
        np.save('\(dir)/x.npy', x.reshape(1, -1)); np.save('\(dir)/calib.npy', np.stack(cal).astype(np.float32))
        np.save('\(dir)/y.npy', y.reshape(1, -1).astype(np.float32))
        """
        let r = try runCommand(projectPython, ["-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        let design = "\(dir)/design"
        let program = try Driver.compile(CompileOptions(model: "\(data)/model.onnx", output: design, calibration: "\(dir)/calib.npy")).program
        #expect(program.kernels(SlidingWindowKernel.self).count == 4)
        let out = try Driver.runEngine(target: design, inputs: "\(dir)/x.npy")
        let stored = try NPY.read(path: "\(dir)/y.npy").values
        #expect(Driver.argmax(out[0]) == Driver.argmax(stored))
    }
}

@Suite("Quantized CNNs", .serialized)
struct QuantizedCNNTests {
    @Test("Brevitas-style QONNX CNN (Quant'd per-channel weights, batch norm, QuantReLU, max pool, strided padded conv, global average pool): equal to qonnx's executor, bit-exact in four engines")
    func brevitas() throws {
        let (program, dir) = try compileMatchingReference("brevitas_cnn")
        _ = try compileMatchingReference("brevitas_cnn", model: "cleaned.onnx")
        #expect(program.kernels(SlidingWindowKernel.self).count == 3)
        #expect(program.kernels(PoolKernel.self).map(\.reduction) == [.max, .sum])
        try verifyAllEngines("brevitas_cnn", program, dir)
    }

    @Test("FINN-style CNN (UINT8 input, INT2 weights, per-channel MultiThreshold maps, max pool, TopK): threshold kernels on maps, equal to qonnx's executor")
    func finn() throws {
        let (program, dir) = try compileMatchingReference("finn_cnn")
        _ = try compileMatchingReference("finn_cnn", model: "cleaned.onnx")
        #expect(program.kernels(ThresholdKernel.self).allSatisfy { $0.channels == 8 })
        #expect(try QuantizedModels.info("finn_cnn")["threshold_hits"] as? Int ?? 0 > 0, "accumulators land exactly on thresholds")
        try verifyAllEngines("finn_cnn", program, dir)
    }
}
