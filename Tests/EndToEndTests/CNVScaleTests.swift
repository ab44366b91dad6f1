// Issue 11's scale check: FINN's CNV-w2a2-sized network (scripts/testdata/cnv.py, about
// 1.5 M 2-bit weights on a 32x32x3 UINT8 image, seeded weights with thresholds at the
// accumulators' quartiles) ending at its logits, compiled with examples/cnv/cnv.yaml's
// per-layer lanes. The Swift engine must give qonnx's executor's logits exactly, and
// Verilator and C-simulation the engine's integers with cycles equal to the model.
// scripts/scale-cnv.sh times the same network (with its TopK) in a release build.
import Driver
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ModelImport
import Testing

@Suite("CNV scale", .serialized)
struct CNVScaleTests {
    @Test("CNV-w2a2-sized network: per-layer lanes from YAML, logits equal to qonnx's executor on 8 images, Verilator and C-simulation bit-exact on 2")
    func cnv() throws {
        let src = try GeneratedData.directory(script: "scripts/testdata/cnv.py") { [$0, "8", "8"] } + "/cnv"
        let dir = temporaryDirectory("lutforge-cnv") + "/design"
        var options = CompileOptions(model: "\(src)/logits.onnx", output: dir)
        options.config = "\(repositoryRoot)/examples/cnv/cnv.yaml"
        options.device = "arty-a7-100t"
        let program = try Driver.compile(options).program
        let chains = program.kernels(DSPKernel.self)
        #expect(chains.map { $0.inputCount * $0.outputCount }.reduce(0, +) == 1_542_848, "all CNV weights on DSP chains")
        #expect(chains.map(\.lanes) == [1, 16, 8, 8, 2, 1, 1, 1, 1], "lanes from cnv.yaml by node name")
        #expect(program.kernels(SlidingWindowKernel.self).count == 8)
        let outputs = try Driver.runEngine(target: dir, inputs: "\(src)/inputs.npy")
        let want = try NPY.read(path: "\(src)/expected_logits.npy").rows.map { $0.map { Int($0) } }
        #expect(Set(want).count == want.count, "the 8 reference images have distinct logits")
        #expect(outputs == want, "\(zip(outputs, want).filter { $0.0 != $0.1 }.count) of \(want.count) images differ from qonnx")
        try writeFirstRows(of: "\(src)/inputs.npy", count: 2, to: "\(dir)/../two.npy")
        var verify = VerifyOptions(design: dir)
        verify.inputs = "\(dir)/../two.npy"
        verify.simulators = ["verilator", "csim"]
        expectBitExact(try Driver.verify(verify), program, vectors: 2, simulators: ["verilator", "csim"])
    }
}
