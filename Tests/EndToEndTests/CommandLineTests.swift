// The command-line contract: exit status, one-line errors naming file, node and
// reason, and no output directory left behind on failure.
import Foundation
import LUTForgeTestSupport
import ModelGraph
import ModelImport
import Testing

@Suite("Command line")
struct CommandLineTests {
    func compileFails(_ model: String, mentioning parts: [String], options: [String] = []) throws {
        let out = temporaryDirectory() + "/design"
        let r = try runCommand(lutforgeExecutable, ["compile", model, "-o", out] + options)
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(r.stderr)")
        for part in parts { #expect(r.stderr.contains(part), "'\(part)' missing from: \(r.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: out))
        let siblings = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: out).deletingLastPathComponent().path)
        #expect(siblings.allSatisfy { !$0.contains("design") }, "left behind: \(siblings)")
    }

    @Test("a truncated .onnx exits non-zero with one line and no output")
    func truncated() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(digitsExample)/digits.onnx"))
        let dir = temporaryDirectory()
        for cut in [7, data.count / 3, data.count - 5] {
            let path = "\(dir)/cut\(cut).onnx"
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            try compileFails(path, mentioning: [path])
        }
    }

    @Test("an unsupported op (LSTM) names the file, the node and the op")
    func unsupportedOp() throws {
        // Rewrite a Relu into an LSTM at the protobuf level: the node keeps its name.
        var graph = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        graph.nodes[1].name = "lstm_1"
        let dir = temporaryDirectory()
        let path = try writeModel(graph, in: dir)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let relu = Data("Relu".utf8)
        let range = try #require(bytes.range(of: relu))
        bytes.replaceSubrange(range, with: Data("LSTM".utf8))
        try bytes.write(to: URL(fileURLWithPath: path))
        try compileFails(path, mentioning: [path, "lstm_1", "LSTM"])
    }

    @Test("a missing file and a non-ONNX file are clear errors")
    func missingAndWrongFormat() throws {
        try compileFails("/nonexistent/model.onnx", mentioning: ["/nonexistent/model.onnx"])
        let dir = temporaryDirectory()
        let text = "\(dir)/model.onnx"
        try Data("this is not protobuf\n".utf8).write(to: URL(fileURLWithPath: text))
        try compileFails(text, mentioning: [text])
    }

    @Test("CNN graphs LUTForge cannot map (a padded AveragePool without count_include_pad, a Pad before a Relu) are one line naming the node")
    func cnnErrors() throws {
        func cnn(_ tail: [Node]) -> Graph {
            var inits: [String: FloatTensor] = ["w": FloatTensor(shape: [4, 2, 3, 3], data: (0..<72).map { Float($0 % 7) / 7 - 0.4 })]
            inits["b"] = FloatTensor(shape: [4], data: [0.1, -0.1, 0.2, 0])
            let conv = Node(name: "conv_a", op: .conv(ConvAttributes(kernelShape: [3, 3], strides: nil, pads: [1, 1, 1, 1], dilations: nil, group: 1, autoPad: "NOTSET")),
                            inputs: ["x", "w", "b"], outputs: ["c"])
            return Graph(name: "cnn", inputs: [ValueInfo(name: "x", shape: [1, 2, 6, 6])], outputs: [ValueInfo(name: "y", shape: [nil])],
                         nodes: [conv] + tail, initializers: inits)
        }
        let dir = temporaryDirectory()
        let pool = PoolAttributes(kernelShape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], dilations: nil, autoPad: "NOTSET", ceilMode: false)
        let avg = try writeModel(cnn([Node(name: "avg_pool_1", op: .averagePool(pool, countIncludePad: false), inputs: ["c"], outputs: ["y"])]), in: dir, name: "avg")
        try compileFails(avg, mentioning: [avg, "avg_pool_1", "count_include_pad"])
        var g = cnn([Node(name: "pad_2", op: .pad(pads: nil, value: nil), inputs: ["c", "pads"], outputs: ["p"]),
                     Node(name: "relu_3", op: .relu, inputs: ["p"], outputs: ["y"])])
        g.initializers["pads"] = FloatTensor(shape: [8], ints: [0, 0, 1, 1, 0, 0, 1, 1])
        let pad = try writeModel(g, in: dir, name: "pad")
        try compileFails(pad, mentioning: [pad, "pad_2", "right before"])
    }

    @Test("an unknown device or a bad clock is one line listing the known devices, and no output")
    func badTarget() throws {
        let model = "\(digitsExample)/digits.onnx"
        try compileFails(model, mentioning: ["unknown device 'xc9999'", "arty-a7-35t", "ice40-up5k"], options: ["--device", "xc9999"])
        try compileFails(model, mentioning: ["--clock-mhz must be in (0, 2000]"], options: ["--clock-mhz", "0"])
    }

    @Test("synth --bitstream without --family ice40, and estimate of a non-design, fail in one line")
    func badSynth() throws {
        let out = temporaryDirectory() + "/design"
        #expect(try runCommand(lutforgeExecutable, ["compile", "\(digitsExample)/digits.onnx", "-o", out]).status == 0)
        let r = try runCommand(lutforgeExecutable, ["synth", out, "--bitstream"])
        #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--bitstream needs --family ice40"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/synth.json"))
        let c = try runCommand(lutforgeExecutable, ["synth", out, "--family", "ice40", "--clock-mhz", "0"])
        #expect(c.status == 1 && c.stderr.contains("--clock-mhz must be in (0, 2000]"), "\(c.stderr)")
        let e = try runCommand(lutforgeExecutable, ["estimate", temporaryDirectory()])
        #expect(e.status == 1 && e.stderr.contains("not a LUTForge design directory"), "\(e.stderr)")
    }

    @Test("a failed compile leaves the previous output intact")
    func previousOutputKept() throws {
        let dir = temporaryDirectory()
        let out = "\(dir)/design"
        let ok = try runCommand(lutforgeExecutable, ["compile", "\(digitsExample)/digits.onnx", "-o", out])
        #expect(ok.status == 0, "\(ok.stderr)")
        let before = directoryContents(out)
        let bad = "\(dir)/bad.onnx"
        try Data([0x0a, 0xff, 0xff]).write(to: URL(fileURLWithPath: bad))
        let r = try runCommand(lutforgeExecutable, ["compile", bad, "-o", out])
        #expect(r.status != 0)
        #expect(directoryContents(out) == before)
    }

    @Test("verify on a directory that is not a design fails with one line")
    func verifyNotADesign() throws {
        let dir = temporaryDirectory()
        let r = try runCommand(lutforgeExecutable, ["verify", dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains(dir))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test("run writes the Swift engine's integers, the same for a model and its design directory")
    func run() throws {
        let dir = temporaryDirectory()
        let model = "\(digitsExample)/digits.onnx"
        let design = "\(dir)/design"
        #expect(try runCommand(lutforgeExecutable, ["compile", model, "-o", design]).status == 0)
        let a = try runCommand(lutforgeExecutable, ["run", design, "--inputs", "\(digitsExample)/X_test.npy", "-o", "\(dir)/a.npy"])
        let b = try runCommand(lutforgeExecutable, ["run", model, "--inputs", "\(digitsExample)/X_test.npy", "-o", "\(dir)/b.npy"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        let ya = try NPY.read(path: "\(dir)/a.npy"), yb = try NPY.read(path: "\(dir)/b.npy")
        #expect(ya.shape == [449, 10] && ya.dtype == .int64)
        #expect(ya == yb)
        // Labels agree with the argmax of these logits for most images.
        let labels = try NPY.read(path: "\(digitsExample)/y_test.npy").values.map { Int($0) }
        let right = zip(ya.rows, labels).filter { row, label in row.firstIndex(of: row.max()!) == label }.count
        #expect(right > 420)
    }

    @Test("verify --simulators none says NOT VERIFIED, never BIT-EXACT, and leaves the vectors compile wrote untouched")
    func verifyWithoutSimulators() throws {
        let dir = temporaryDirectory()
        let design = "\(dir)/design"
        #expect(try runCommand(lutforgeExecutable, ["compile", "\(digitsExample)/digits.onnx", "-o", design]).status == 0)
        let vectors = directoryContents("\(design)/vectors")
        #expect(!vectors.isEmpty)
        // Other inputs than the compile's: verify writes its own under verify/.
        let r = try runCommand(lutforgeExecutable, ["verify", design, "--simulators", "none", "--inputs", "\(digitsExample)/X_test.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("NOT VERIFIED") && !r.stdout.contains("BIT-EXACT"), "\(r.stdout)")
        #expect(directoryContents("\(design)/vectors") == vectors)
        #expect(FileManager.default.fileExists(atPath: "\(design)/verify/inputs.txt"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(design)/verify.json"))) as? [String: Any]
        #expect(report?["verdict"] as? String == "engine-only")
    }

    @Test("a float MLP calibrated by default and verified on N(0,1) features: verify warns how much of the input it clamped, and fidelity shows the top-1 cost; calibrating on such inputs removes both")
    func inputSaturationWarning() throws {
        let dir = temporaryDirectory()
        let graph = makeMLP(widths: [13, 29, 17, 3], activations: [.relu, .relu], style: .gemmTransB, softmax: false, seed: 7)
        let model = try writeModel(graph, in: dir)
        var rng = SplitMix64(seed: 11)
        func normal() -> Double { (-2 * log(max(rng.nextUnit(), 1e-12))).squareRoot() * cos(2 * .pi * rng.nextUnit()) }
        let x = NPYArray(shape: [200, 13], dtype: .float32, values: (0..<(200 * 13)).map { _ in normal() })
        try NPY.write(x, to: "\(dir)/x.npy")
        try NPY.write(NPYArray(shape: [64, 13], dtype: .float32, values: (0..<(64 * 13)).map { _ in normal() }), to: "\(dir)/calib.npy")
        func verify(_ extra: [String]) throws -> (String, [String: Any]) {
            let design = "\(dir)/design"
            let c = try runCommand(lutforgeExecutable, ["compile", model, "-o", design] + extra)
            #expect(c.status == 0, "\(c.stderr)")
            let r = try runCommand(lutforgeExecutable, ["verify", design, "--simulators", "none", "--inputs", "\(dir)/x.npy", "--model", model])
            #expect(r.status == 0, "\(r.stderr)")
            let fidelity = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(design)/fidelity.json"))) as? [String: Any]
            return (r.stdout, fidelity ?? [:])
        }
        let (out, fidelity) = try verify([])
        let warning = out.split(separator: "\n").first { $0.hasPrefix("warning:") && $0.contains("clamped") }
        #expect(warning != nil && warning!.contains("--calibration"), "\(out)")
        // About a third of N(0,1) values lie beyond ±1.
        let share = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/design/verify.json"))) as? [String: Any])?["input_saturation"] as? Double)
        #expect(share > 0.25 && share < 0.40)
        let top1 = try #require(fidelity["top1_agreement"] as? Double)
        #expect(top1 < 0.97, "top-1 agreement \(top1)")
        let (calibrated, calibratedFidelity) = try verify(["--calibration", "\(dir)/calib.npy"])
        #expect(!calibrated.contains("clamped") || (calibratedFidelity["top1_agreement"] as? Double ?? 0) > top1, "\(calibrated)")
        #expect((calibratedFidelity["top1_agreement"] as? Double ?? 0) > top1)
    }
}
