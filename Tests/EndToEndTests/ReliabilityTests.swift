// Issue 6: differential testing, bad input at the command line, output safety
// under SIGKILL, and external tool failures.
import Driver
import Foundation
import FuzzEntries
import LUTForgeTestSupport
import ModelGraph
import ModelImport
import Testing

@Suite("Reliability", .serialized)
struct ReliabilityTests {
    @Test("difftest, fixed-seed CI batch: every random design is bit-exact in all three engines")
    func diffBatch() throws {
        var options = DiffTestOptions(workDirectory: temporaryDirectory("lutforge-dt"), reproDirectory: temporaryDirectory("lutforge-dt-repro"))
        options.designs = 5
        options.seed = 2026
        options.maxWidth = 80
        options.vectors = 8
        var lines: [String] = []
        let summary = Driver.diffTest(options) { lines.append($0) }
        #expect(summary.results.count == 5)
        #expect(summary.mismatches == 0 && summary.failures == 0, "\(lines.joined(separator: "\n"))")
        #expect(summary.bitExact >= 4, "\(lines.joined(separator: "\n"))")
    }

    @Test("difftest random cases cover depths 1-6, widths 1 and primes, both kernels, sparsity and outliers")
    func diffCoverage() {
        let cases = (0..<400).map { DiffCase.random(seed: Driver.diffSeed(1, $0)) }
        #expect(Set(cases.map(\.depth)) == Set(1...6))
        let widths = Set(cases.flatMap(\.widths))
        #expect(widths.contains(1) && widths.contains(293) && widths.contains(97) && widths.max()! <= 300)
        let layers = cases.flatMap(\.layers)
        #expect(layers.contains { $0["kernel"] == "dsp" && $0["sparsity"] != "dense" })
        #expect(layers.contains { $0["kernel"] == "lut" && $0["outliers"] != nil })
        #expect(layers.contains { $0["distance"] == "l2" } && layers.contains { $0["sparsity_unit"] != nil })
        #expect(Set(cases.map(\.style)).count == MLPStyle.allCases.count)
        #expect(cases.allSatisfy { !$0.softmax || $0.activations.last == "none" })
        // Graphs, not only chains: residual joins whose input fans out to the layer and the add.
        let residual = cases.filter { $0.residual != nil }
        #expect(residual.count > 20 && residual.count < 300)
        for c in residual.prefix(5) {
            let g = c.graph
            let adds = g.nodes.filter { $0.name.hasPrefix("res") }
            #expect(adds.count == c.residual?.count)
            for add in adds {
                let fanOut = g.nodes.filter { $0.inputs.contains(add.inputs[1]) }.count
                #expect(fanOut >= 2, "\(c.summary): the residual input feeds \(fanOut) node(s)")
            }
        }
    }

    @Test("a mismatch is caught, shrunk to a smaller case and written as a self-contained reproduction")
    func diffShrink() throws {
        var options = DiffTestOptions(workDirectory: temporaryDirectory("lutforge-dt"), reproDirectory: temporaryDirectory("lutforge-dt-repro"))
        options.designs = 1
        options.seed = 3
        options.maxDepth = 3
        options.maxWidth = 24
        options.vectors = 4
        options.simulators = ["verilator"]
        options.shrinkSteps = 4
        options.injectFault = true
        var lines: [String] = []
        let summary = Driver.diffTest(options) { lines.append($0) }
        let (original, outcome) = try #require(summary.results.first)
        guard case let .mismatch(repro, detail) = outcome else {
            Issue.record("expected a mismatch: \(lines.joined(separator: "\n"))")
            return
        }
        #expect(detail.hasPrefix("verilator: vector"))
        for file in ["model.onnx", "config.yaml", "case.json", "repro.sh", "design/verify.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(repro)/\(file)"), "\(file) missing from \(repro)")
        }
        let shrunk = try JSONDecoder().decode(DiffCase.self, from: Data(contentsOf: URL(fileURLWithPath: "\(repro)/case.json")))
        #expect(shrunk.widths.reduce(0, +) <= original.widths.reduce(0, +))
        // The reproduction really reproduces: its own verification disagrees.
        let verify = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(repro)/design/verify.json"))) as? [String: Any]
        #expect(verify?["bit_exact"] as? Bool == false)
        #expect(lines.contains { $0.contains("shrunk to") } || original.widths.allSatisfy { $0 == 1 })
    }

    func compileFails(_ graph: Graph, mentioning parts: [String]) throws {
        let dir = temporaryDirectory()
        let model = try writeModel(graph, in: dir)
        let out = "\(dir)/design"
        let r = try runCommand(lutforgeExecutable, ["compile", model, "-o", out])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "expected one line, got: \(r.stderr)")
        for part in [model] + parts { #expect(r.stderr.contains(part), "'\(part)' missing from: \(r.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("NaN and infinite weights, a zero-width layer and a cyclic graph: one line and exit 1 from the command line")
    func badModels() throws {
        var nan = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        nan.initializers["w0"]!.data[2] = .nan
        try compileFails(nan, mentioning: ["w0", "nan"])
        var inf = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .matMulAdd, softmax: false, seed: 1)
        inf.initializers["b1"]!.data[0] = -.infinity
        try compileFails(inf, mentioning: ["b1", "inf"])
        let empty = makeMLP(widths: [4, 0, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        try compileFails(empty, mentioning: ["gemm0"])
        var cyclic = makeMLP(widths: [4, 3, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        cyclic.nodes[0].inputs[0] = "a0"   // gemm0 reads the output of the Relu after it
        try compileFails(cyclic, mentioning: ["gemm0"])
    }

    @Test("adversarial weights (all equal, or alternating in sign) driven by all-max, all-min and alternating inputs: no engine wraps, every kernel",
          arguments: ["dense", "2:4", "lut", "lut+outliers"])
    func adversarial(kind: String) throws {
        for alternating in [false, true] {
            var graph = makeMLP(widths: [37, 13, 6], activations: [.relu], style: .gemmTransB, softmax: false, seed: 4)
            for (name, t) in graph.initializers where name.hasPrefix("w") {
                graph.initializers[name]!.data = t.data.indices.map { alternating && $0 % 2 == 1 ? -0.5 : 0.5 }
            }
            let dir = temporaryDirectory()
            var options = CompileOptions(model: try writeModel(graph, in: dir), output: "\(dir)/design", lanes: 3)
            switch kind {
            case "2:4": options.flags.sparsity = (2, 4)
            case "lut": options.flags.kind = .lut
            case "lut+outliers": options.flags.kind = .lut; options.flags.outliers = 0.1
            default: break
            }
            let program = try Driver.compile(options).program
            var verify = VerifyOptions(design: "\(dir)/design")
            verify.vectors = 4
            // The first four vectors are all-minimum, all-maximum and the two alternating ones; the
            // Swift engine throws if any value leaves its proven type, the others must then agree.
            let report = try Driver.verify(verify)
            #expect(report.bitExact, "\(kind) alternating=\(alternating)")
            #expect(report.simulators.count == 3 && report.simulators.values.allSatisfy { $0.mismatches == 0 })
            #expect(program.nodes.count == 2)
        }
    }

    @Test("a layer whose requantizer cannot be built is refused at compile time with the reason; tiny weights beside large biases compile")
    func unprovable() throws {
        // y = x0 − x1 + 1e-7 on calibration data where x0 = x1: the output range is 1e-7, so the
        // ratio of the accumulator step to the output step needs more than a 15-bit multiplier.
        var graph = makeMLP(widths: [2, 1], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        graph.initializers["w0"]!.data = [1, -1]
        graph.initializers["b0"]!.data = [1e-7]
        let dir = temporaryDirectory()
        try writeModel(graph, in: dir)
        try NPY.write(NPYArray(shape: [4, 2], dtype: .float32, values: [0.5, 0.5, -1, -1, 0.25, 0.25, 1, 1]), to: "\(dir)/X_calib.npy")
        let r = try runCommand(lutforgeExecutable, ["compile", "\(dir)/model.onnx", "-o", "\(dir)/design"])
        #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("gemm0") && r.stderr.contains("too large for a 15-bit multiplier"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/design"))

        // The old failure mode: weights around 1e-7, biases in the millions (beyond int32 at the accumulator's scale).
        var tiny = makeMLP(widths: [4, 3], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        tiny.initializers["w0"]!.data = tiny.initializers["w0"]!.data.map { $0 * 1e-7 }
        tiny.initializers["b0"]!.data = [3e6, -3e6, 1]
        let t = temporaryDirectory()
        let model = try writeModel(tiny, in: t)
        let ok = try runCommand(lutforgeExecutable, ["compile", model, "-o", "\(t)/design"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("a compile killed at any moment (SIGKILL or SIGINT) leaves the previous output whole; the next compile cleans up")
    func killMidCompile() throws {
        let dir = temporaryDirectory()
        let model = try writeModel(makeMLP(widths: [300, 300, 300, 10], activations: [.relu, .relu], style: .gemmTransB, softmax: true, seed: 5), in: dir)
        let out = "\(dir)/design"
        #expect(try runCommand(lutforgeExecutable, ["compile", model, "-o", out, "--lanes", "2"]).status == 0)
        let previous = directoryContents(out)
        // The new compile writes a different design (LUT kernels), so a half-written one would show.
        let reference = "\(dir)/reference"
        #expect(try runCommand(lutforgeExecutable, ["compile", model, "-o", reference, "--kernel", "lut", "--ka", "16"]).status == 0)
        let next = directoryContents(reference)
        var sawKill = false
        for (signal, delay) in [(SIGKILL, 0.05), (SIGKILL, 0.4), (SIGINT, 0.8), (SIGKILL, 1.2), (SIGKILL, 2.0), (SIGINT, 3.0)] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: lutforgeExecutable)
            p.arguments = ["compile", model, "-o", out, "--kernel", "lut", "--ka", "16"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: delay)
            if p.isRunning { kill(p.processIdentifier, signal); sawKill = true }
            p.waitUntilExit()
            let now = directoryContents(out)
            #expect(now == previous || now == next, "after signal \(signal) at \(delay) s the output is neither the old nor the new design")
            if now == next {   // the compile finished first: go back to the old design for the next round
                #expect(try runCommand(lutforgeExecutable, ["compile", model, "-o", out, "--lanes", "2"]).status == 0)
            }
        }
        #expect(sawKill)
        // A later compile removes the killed writers' temporary siblings.
        #expect(try runCommand(lutforgeExecutable, ["compile", model, "-o", out, "--lanes", "2"]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".design.") }
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    }

    /// A directory holding fake tools, prepended to PATH.
    func fakeTools(_ scripts: [String: String]) throws -> String {
        let bin = temporaryDirectory("lutforge-fake-bin")
        for (name, body) in scripts {
            let path = "\(bin)/\(name)"
            try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return bin
    }

    @Test("a failing verilator, a hanging yosys and a missing yosys: clear messages with the command and its last lines, never a hang")
    func toolFailures() throws {
        let dir = temporaryDirectory() + "/design"
        #expect(try runCommand(lutforgeExecutable, ["compile", "\(digitsExample)/digits.onnx", "-o", dir]).status == 0)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"

        let failing = try fakeTools(["verilator": "echo 'fake verilator: license check failed' >&2; exit 3"])
        let v = try runCommand(lutforgeExecutable, ["verify", dir, "--vectors", "2", "--simulators", "verilator"],
                               environment: ["PATH": "\(failing):\(path)"])
        #expect(v.status == 1)
        #expect(v.stderr.hasPrefix("error: `make -s obj_dir/Vlutforge_top` failed with status 2:"), "\(v.stderr)")
        #expect(v.stderr.contains("fake verilator: license check failed"), "\(v.stderr)")

        let hanging = try fakeTools(["yosys": "sleep 61"])
        let start = Date()
        let h = try runCommand(lutforgeExecutable, ["synth", dir], environment: ["PATH": "\(hanging):\(path)", "LUTFORGE_TOOL_TIMEOUT": "2"])
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(h.status == 1 && h.stderr.contains("did not finish within 2 s and was stopped"), "\(h.stderr)")
        // The whole process group went: no `sleep 61` left behind the killed script.
        #expect(try runCommand("/usr/bin/pgrep", ["-f", "sleep 61"]).status == 1)

        let empty = temporaryDirectory("lutforge-empty-bin")
        let m = try runCommand(lutforgeExecutable, ["synth", dir], environment: ["PATH": empty])
        #expect(m.status == 1 && m.stderr == "error: yosys: not found on PATH; install it with scripts/setup.sh (Debian package yosys)\n", "\(m.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/synth.json"))
    }

    @Test("config reader: unquoted N:M, hex integers, and the fuzz finds (a mapping as a key, an overflowing base-60 number) as clear errors")
    func configScalars() throws {
        let c = try ConfigFile.parse("sparsity: 2:4\nlanes: 0x4\nka: 1_024\n", file: "c.yaml")
        #expect(c.global.sparsity?.kept == 2 && c.global.sparsity?.block == 4 && c.global.lanes == 4 && c.global.activationCentroids == 1024)
        #expect(throws: UsageError.self) { try ConfigFile.parse("? {ka: 32}\n: 1\n", file: "c.yaml") }
        #expect { try ConfigFile.parse("lanes: +990000000:0220:0:200:020:0:0\n", file: "c.yaml") } throws: { error in
            String(describing: error).contains("'lanes' must be an integer")
        }
    }

    @Test("every fuzz seed and every input a fuzzer ever crashed on replays without crashing; valid seeds are accepted",
          arguments: FuzzTarget.allCases)
    func fuzzReplay(target: FuzzTarget) throws {
        let rejectedSeeds: Set<String> = ["digits_truncated.onnx"]
        var replayed = 0
        for dir in ["corpus", "regressions"] {
            let path = "\(repositoryRoot)/Fuzz/\(dir)/\(target.rawValue)"
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where !name.hasPrefix(".") {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(name)"))
                let accepted = target.run(data)
                if dir == "corpus" { #expect(accepted == !rejectedSeeds.contains(name), "\(target) seed \(name)") }
                replayed += 1
            }
        }
        #expect(replayed >= 4)
    }
}
