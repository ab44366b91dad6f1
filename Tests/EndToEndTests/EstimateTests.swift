// Issue 5: device database, memory mapping, vendor project scripts, estimate,
// report and the iCE40 bitstream.
import Driver
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Estimate and reports", .serialized)
struct EstimateTests {
    @Test("the device database has every required device, each with a source, consistent block RAM counts")
    func devices() throws {
        let devices = try DeviceDatabase.all()
        for id in ["alveo-v80", "alveo-u280", "alveo-u55c", "vck190", "vhk158", "zcu104", "arty-a7-35t", "arty-a7-100t", "ice40-up5k", "ice40-hx8k"] {
            let d = try #require(devices.first { $0.id == id }, "missing \(id)")
            #expect(!d.source.isEmpty && d.luts > 0 && d.ffs > 0 && d.clockMhz > 0, "\(id)")
            #expect(d.bram18 == 2 * d.bram36, "\(id)")
            #expect(d.memoryGbps >= 0)
        }
        #expect(Set(devices.map(\.id)).count == devices.count)
        #expect(throws: DeviceError.self) { try DeviceDatabase.device("xc9999") }
    }

    /// A ROM of `depth` random words of which `live` bits vary (the rest are zero).
    func rom(depth: Int, width: Int, live: Int, seed: UInt64 = 1) -> MemoryImage {
        var image = MemoryImage(suffix: "r", width: width)
        var rng = SplitMix64(seed: seed)
        for _ in 0..<depth {
            var fields: [(value: Int, bits: Int)] = []
            for b in 0..<width { fields.append((b < live ? Int(rng.next() & 1) : 0, 1)) }
            image.append(fields)
        }
        return image
    }

    // Each expectation was measured on this Yosys (0.23, synth_xilinx -family xc7) with one
    // lf_rom of that shape and random contents; the end-to-end tests compare whole designs.
    @Test("xc7 ROM placement follows Yosys memory_libmap: block RAM kind and count, or logic",
          arguments: [(2048, 128, 128, "RAMB18E1", 15), (1024, 128, 128, "RAMB36E1", 8), (2048, 128, 64, "RAMB36E1", 8),
                      (2400, 80, 64, "RAMB18E1", 9), (512, 16, 16, "logic", 0), (128, 36, 36, "logic", 0), (256, 32, 32, "logic", 0)])
    func romPlacement(depth: Int, width: Int, live: Int, primitive: String, bram18: Int) {
        let p = XC7MemoryMapper.place(rom(depth: depth, width: width, live: live))
        #expect(p.liveWidth == live)
        #expect(p.primitive == primitive && p.bram18 == bram18, "\(depth)x\(width) (\(live) live): \(p)")
    }

    @Test("memory images: hex text, live width and depth agree with the .mem files the emitter writes")
    func images() throws {
        let dir = temporaryDirectory() + "/design"
        let program = try Driver.compile(CompileOptions(model: "\(digitsExample)/digits.onnx", output: dir, lanes: 2)).program
        for (k, name) in zip(program.nodes, ["fc0", "fc1", "fc2"]) {
            for image in k.memories {
                let text = try String(contentsOfFile: "\(dir)/rtl/\(name)_\(image.suffix).mem", encoding: .utf8)
                #expect(text == image.hexText)
                #expect(text.split(separator: "\n").count == image.depth)
                #expect(image.liveWidth <= image.width)
            }
        }
    }

    /// Runs `script` in tclsh with every vendor command stubbed, and returns the files it names.
    func filesNamed(byTcl script: String) throws -> [String] {
        let stubs = """
        proc add_files {args} {
            set skip 0
            foreach a $args {
                if {$skip} { set skip 0; continue }
                if {$a in {-fileset -cflags -csimflags}} { set skip 1; continue }
                if {[string index $a 0] eq "-"} { continue }
                foreach f $a { puts "FILE [file normalize $f]" }
            }
        }
        proc read_verilog {args} { foreach f $args { if {[string index $f 0] ne "-"} { puts "FILE [file normalize $f]" } } }
        proc read_xdc {args} { foreach f $args { if {[string index $f 0] ne "-"} { puts "FILE [file normalize $f]" } } }
        proc unknown {args} { return "" }
        cd [file dirname [file normalize {\(script)}]]
        source {\(script)}
        """
        let dir = temporaryDirectory()
        try stubs.write(toFile: "\(dir)/check.tcl", atomically: true, encoding: .utf8)
        let r = try runCommand("/usr/bin/tclsh", ["\(dir)/check.tcl"])
        #expect(r.status == 0, "tclsh \(script): \(r.stderr)")
        return r.stdout.split(separator: "\n").filter { $0.hasPrefix("FILE ") }.map { String($0.dropFirst(5)) }
    }

    @Test("project/vivado.tcl and hls/vitis_hls.tcl parse in tclsh and name only files that exist")
    func tclScripts() throws {
        let dir = temporaryDirectory() + "/design"
        var options = CompileOptions(model: "\(digitsExample)/digits.onnx", output: dir, lanes: 2)
        options.device = "zcu104"
        options.clockMHz = 250
        _ = try Driver.compile(options)
        let vivado = try filesNamed(byTcl: "\(dir)/project/vivado.tcl")
        #expect(vivado.contains { $0.hasSuffix("rtl/lutforge_top.v") } && vivado.contains { $0.hasSuffix("rtl/fc0_w.mem") })
        #expect(vivado.contains { $0.hasSuffix("project/constraints.xdc") })
        let hls = try filesNamed(byTcl: "\(dir)/hls/vitis_hls.tcl")
        #expect(hls.contains { $0.hasSuffix("hls/lutforge_top.cpp") } && hls.contains { $0.hasSuffix("vectors/inputs.txt") })
        for f in vivado + hls { #expect(FileManager.default.fileExists(atPath: f), "named but missing: \(f)") }
        // Every RTL source and table image is in the Vivado project.
        for f in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/rtl") where f.hasSuffix(".v") || f.hasSuffix(".mem") {
            #expect(vivado.contains { $0.hasSuffix("/rtl/\(f)") }, "vivado.tcl leaves out \(f)")
        }
        let tcl = try String(contentsOfFile: "\(dir)/project/vivado.tcl", encoding: .utf8)
        #expect(tcl.contains("-part xczu7ev-ffvc1156-2-e"))
        #expect(try String(contentsOfFile: "\(dir)/project/constraints.xdc", encoding: .utf8).contains("create_clock -period 4.000"))
        #expect(try String(contentsOfFile: "\(dir)/hls/vitis_hls.tcl", encoding: .utf8).contains("set_part {xczu7ev-ffvc1156-2-e}"))
    }

    @Test("an iCE40 target gets project/ice40.sh (valid sh) and no Vivado project; its HLS script keeps an AMD part")
    func ice40Project() throws {
        let dir = temporaryDirectory() + "/design"
        var options = CompileOptions(model: "\(digitsExample)/digits.onnx", output: dir)
        options.device = "ice40-up5k"
        let program = try Driver.compile(options).program
        #expect(program.target == Target(device: "ice40-up5k", part: "up5k sg48", vendor: "Lattice", clockMHz: 12))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/project/vivado.tcl"))
        let script = try String(contentsOfFile: "\(dir)/project/ice40.sh", encoding: .utf8)
        #expect(script.contains("nextpnr-ice40 --up5k --package sg48") && script.contains("--freq 12"))
        #expect(try runCommand("/bin/sh", ["-n", "\(dir)/project/ice40.sh"]).status == 0)
        _ = try filesNamed(byTcl: "\(dir)/hls/vitis_hls.tcl")
    }

    @Test("estimate.json cycles equal verify.json's Verilator cycles; report.md has FPGA µs, CPU µs and the ratio per layer; report.svg is SVG")
    func estimateAndReport() throws {
        let dir = temporaryDirectory() + "/design"
        let graph = makeMLP(widths: [37, 23, 11, 5], activations: [.relu, .relu], style: .gemmTransB, softmax: true, seed: 21)
        let model = try writeModel(graph, in: temporaryDirectory())
        let program = try Driver.compile(CompileOptions(model: model, output: dir, lanes: 3)).program
        var verify = VerifyOptions(design: dir)
        verify.vectors = 6
        verify.simulators = ["verilator"]
        let v = try Driver.verify(verify)
        expectBitExact(v, program, vectors: 10, simulators: ["verilator"])
        let e = try Driver.estimate(dir, clockMHz: 200)
        #expect(e.latencyCycles == v.simulators["verilator"]?.cyclesPerInference)
        #expect(e.intervalCycles == v.simulators["verilator"]?.intervalCycles)
        #expect(e.layers.count == 3 && e.layers.reduce(0) { $0 + $1.latencyCycles } == e.latencyCycles)
        #expect(abs(e.latencyUs - Double(e.latencyCycles) / 200) < 0.001)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/estimate.json"))) as? [String: Any]
        #expect(json?["latency_cycles"] as? Int == e.latencyCycles)

        let r = try Driver.report(dir, repeats: 3)
        #expect(r.layers.map(\.name) == program.nodes.map(\.name))
        #expect(r.layers.allSatisfy { $0.cpuUs > 0 && $0.fpgaUs > 0 && abs($0.speedup - $0.cpuUs / $0.fpgaUs) < 0.01 * $0.speedup + 0.001 })
        let md = try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8)
        for row in r.layers { #expect(md.contains("| \(row.name) | \(row.fpgaCycles) |")) }
        #expect(md.contains("FPGA µs") && md.contains("CPU µs") && md.contains("CPU / FPGA"))
        let svg = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/report.svg"))
        let parser = XMLParser(data: svg)
        #expect(parser.parse(), "report.svg is not well-formed XML: \(String(describing: parser.parserError))")
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let saved = try decoder.decode(PerformanceReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/report.json")))
        #expect(saved.layers.map(\.fpgaCycles) == r.layers.map(\.fpgaCycles) && saved.total.fpgaCycles == program.latencyCycles)
    }

    @Test("digits (dense, block 1) gives a real iCE40 UP5K bitstream with utilisation and Fmax; a design too big says so in one line")
    func ice40() throws {
        let dir = temporaryDirectory() + "/design"
        var options = CompileOptions(model: "\(digitsExample)/digits.onnx", output: dir)
        options.flags.sparsity = parseSparsity("1:1")
        _ = try Driver.compile(options)
        let r = try Driver.synthesize(dir, family: .ice40, bitstream: true)
        let bin = try #require(r.bitstream)
        let size = try FileManager.default.attributesOfItem(atPath: "\(dir)/\(bin)")[.size] as? Int ?? 0
        #expect(size > 100_000, "UP5K bitstreams are about 104 KB; got \(size) bytes")
        #expect((r.fmaxMhz ?? 0) > 1)
        #expect(r.utilisation?["ICESTORM_LC"] != nil && r.device == "ice40-up5k")
        let synthJSON = try String(contentsOfFile: "\(dir)/synth.json", encoding: .utf8)
        #expect(synthJSON.contains("\"fmax_mhz\""))

        // The default LUT tables need more than the UP5K's 30 block RAMs.
        let big = temporaryDirectory() + "/design"
        _ = try Driver.compile(lutOptions("\(digitsExample)/digits.onnx", big))
        #expect {
            _ = try Driver.synthesize(big, family: .ice40, bitstream: true)
        } throws: { error in
            String(describing: error).contains("does not fit the ice40-up5k") && String(describing: error).contains("SB_RAM40_4K")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(big)/bitstream"))
    }
}
