// Emitters: partial golden checks of the generated Verilog and C++, table image
// packing, and the generated RTL and HLS of every kernel kind being legal and
// warning-free under the real tools: Verilator -Wall, Icarus -g2005, Yosys, g++ -Werror.
@testable import EmitHLS
@testable import EmitVerilog
import Foundation
import HardwareIR
import LUTForgeTestSupport
import Simulate
import Testing

func sampleProgram(lanes: Int, table: Bool) -> Program {
    let t = table ? ActivationTable(function: "sigmoid", input: .int(8), output: .uint(8), values: (0..<256).map { $0 }) : nil
    let k0 = DSPKernel.dense(
        inputCount: 3, outputCount: 5, lanes: lanes, inputType: .vector(.uint(8), 3, quant: .scale(0.5)), outputQuant: .scale(0.25),
        weight: .int(8), bias: .int(9), accumulator: .int(19), multiplier: .uint(15), shift: .uint(5), offset: .int(26),
        scaled: .int(35), requantized: table ? .int(8) : .uint(8), table: t,
        weights: [1, -2, 3, -128, 127, 0, 5, 6, 7, -8, -9, -10, 11, 12, 13], biases: [-256, 255, 0, 1, -1],
        requantizers: (0..<5).map { Requantizer(multiplier: 16384 + $0, shift: 20 + $0) })
    let k1 = DSPKernel.dense(
        inputCount: 5, outputCount: 2, lanes: min(lanes, 2), inputType: k0.outputType, outputQuant: .scale(1),
        weight: .int(8), bias: .int(4), accumulator: .int(20), multiplier: .uint(15), shift: .uint(4), offset: .int(10),
        scaled: .int(36), requantized: .int(16), table: nil, weights: [1, 2, 3, 4, 5, -1, -2, -3, -4, -5], biases: [7, -8],
        requantizers: [Requantizer(multiplier: 3, shift: 1), Requantizer(multiplier: 5, shift: 9, offset: -300)])
    return Program(name: "sample", sourceFile: "sample.onnx", inputType: k0.inputType,
                   chain: [("fc0", ["gemm0", "act0"], k0), ("fc1", ["gemm1"], k1)], outputMeaning: .logits(softmaxNode: "softmax"), calibration: "test")
}

/// A graph with every kind besides the two linear ones (see LUTForgeTestSupport).
func graphProgram() -> Program { handBuiltGraphProgram() }

func writeRTL(_ program: Program) throws -> String {
    let dir = temporaryDirectory("lutforge-lint")
    for (name, text) in try VerilogEmitter.emit(PreparedVerilog(program)) {
        try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
    }
    return dir
}

/// Verilator -Wall lint, Icarus -g2005 elaboration and Yosys parsing of `dir`, each with no warning.
func expectLegalVerilog(_ dir: String, _ label: String) throws {
    let lint = try ToolRunner.run(Invocation("verilator", ["--lint-only", "-Wall", "--top-module", "lutforge_top", "-F", "files.f"],
                                             in: dir, timeout: 120, installHint: "run scripts/setup.sh"))
    #expect(!lint.contains("%Warning") && !lint.contains("%Error"), "\(label): \(lint)")
    let files = try String(contentsOfFile: "\(dir)/files.f", encoding: .utf8).split(separator: "\n").map(String.init)
    let icarus = try ToolRunner.run(Invocation("iverilog", ["-g2005", "-Wall", "-Wno-sensitivity-entire-array", "-s", "lutforge_top", "-o", "/dev/null"] + files,
                                               in: dir, timeout: 120, installHint: "run scripts/setup.sh"))
    #expect(!icarus.contains("warning") && !icarus.contains("error"), "\(label): \(icarus)")
    let yosys = try ToolRunner.run(Invocation("yosys", ["-q", "-p", "read_verilog -defer \(files.joined(separator: " ")); hierarchy -check -top lutforge_top; proc"],
                                              in: dir, timeout: 300, installHint: "run scripts/setup.sh"))
    #expect(!yosys.lowercased().contains("warning") && !yosys.contains("ERROR"), "\(label): \(yosys)")
}

@Suite("Emitters")
struct EmitTests {
    @Test("table image words pack lanes least significant first in two's complement")
    func hexWords() {
        func hex(_ fields: [(value: Int, bits: Int)]) -> String {
            var image = MemoryImage(suffix: "x", width: fields.reduce(0) { $0 + $1.bits })
            image.append(fields)
            return String(image.hexText.dropLast())
        }
        #expect(hex([(-1, 8)]) == "ff")
        #expect(hex([(1, 8), (-128, 8)]) == "8001")
        #expect(hex([(5, 3), (1, 1)]) == "d")
        #expect(hex([(3, 5), (16384, 15)]) == "80003")
        #expect(hex([(-256, 9)]) == "100")
        #expect(hex([(-1, 64), (1, 2)]) == "1ffffffffffffffff")
    }

    @Test("live width counts the bit columns that change between words")
    func liveWidth() {
        var image = MemoryImage(suffix: "x", width: 12)
        image.append([(5, 4), (0, 4), (-1, 4)])
        image.append([(6, 4), (0, 4), (-1, 4)])
        #expect(image.liveWidth == 2)   // bits 0 and 1 differ; the rest are constant columns
        image.append([(6, 4), (8, 4), (-1, 4)])
        #expect(image.liveWidth == 3)
    }

    @Test("pair, bias and requantizer images hold every output once, zero-padded lanes")
    func images() throws {
        let files = try VerilogEmitter.emit(PreparedVerilog(sampleProgram(lanes: 2, table: false)))
        // fc0: 3 passes of 3 cycles (blocks of 1); a pair is {offset (1 bit), value (8 bits)}.
        // Pass 0, input 0: lanes = outputs 0 and 1 → values 1 and -128.
        let w = try #require(files["fc0_w.mem"]).split(separator: "\n")
        #expect(w.count == 9)
        #expect(w[0] == "10001")
        #expect(w[6] == "0000b")   // pass 2: output 4 (weight 11) and a padding lane
        let b = try #require(files["fc0_b.mem"]).split(separator: "\n")
        // 9-bit biases, two lanes: (-256, 255), (0, 1), (-1, padding).
        #expect(b == ["1ff00", "00200", "001ff"])
        // fc1's second output: {C = -300 (10 bits), M = 5 (15 bits), S = 9 (4 bits)} in lane 1, after lane 0's 29 bits.
        let q = try #require(files["fc1_q.mem"]).split(separator: "\n")
        let word = try #require(UInt64(q[0], radix: 16))
        let lane1 = word >> 29
        #expect(lane1 & 0xf == 9 && (lane1 >> 4) & 0x7fff == 5 && Int(lane1 >> 19) == (1 << 10) - 300)
        #expect(files["fc0_t.mem"] == nil)
    }

    @Test("top module wires the kernels with proven widths; a fork ANDs the readies of every reader")
    func verilogTop() throws {
        let files = try VerilogEmitter.emit(PreparedVerilog(sampleProgram(lanes: 2, table: true)))
        try fileCheck(try #require(files["lutforge_top.v"]), """
            CHECK: // Generated by LUTForge from sample.onnx
            CHECK: module lutforge_top #(
            CHECK-NEXT: parameter MEM_DIR = "./"
            CHECK: input  wire [7:0]  in_data,
            CHECK: output wire [15:0] out_data
            CHECK: lf_dsp_chain #(
            CHECK: .N_IN(3),
            CHECK-NEXT: .N_OUT(5),
            CHECK-NEXT: .LANES(2),
            CHECK-NEXT: .M(1),
            CHECK-NEXT: .N(1),
            CHECK: .ACC_BITS(19),
            CHECK: .C_BITS(26),
            CHECK-NEXT: .P_BITS(35),
            CHECK: .HAS_TABLE(1),
            CHECK: .T_FILE({MEM_DIR, "fc0_t.mem"})
            CHECK: ) u_fc0 (
            CHECK: .out_valid(s_x1_valid),
            CHECK-NOT: u_fc0
            CHECK: ) u_fc1 (
            CHECK: .in_valid(s_x1_valid),
            CHECK: endmodule
            """)
        #expect(files["files.f"] == VerilogEmitter.libraryFiles.joined(separator: "\n") + "\nlutforge_top.v\n")
        #expect(files["fc0_t.mem"]?.split(separator: "\n").count == 256)
        let graph = try #require(try VerilogEmitter.emit(PreparedVerilog(graphProgram()))["lutforge_top.v"])
        try fileCheck(graph, """
            CHECK: // in feeds 2 readers: a beat moves when all are ready.
            CHECK-NEXT: assign in_ready = s_in_rdy0 & s_in_rdy1;
            CHECK-NEXT: assign s_in_fire = in_valid & in_ready;
            CHECK: // th feeds 2 readers
            CHECK: assign out_valid = s_am_valid;
            """)
    }

    @Test("HLS instantiates the library kernels from config structs")
    func hls() throws {
        let files = try HLSEmitter.emit(sampleProgram(lanes: 2, table: true))
        try fileCheck(try #require(files["params.h"]), """
            CHECK: struct fc0_config : lutforge::dsp_chain_config {
            CHECK-NEXT: static const unsigned n_in = 3;
            CHECK-NEXT: static const unsigned n_out = 5;
            CHECK-NEXT: static const unsigned lanes = 2;
            CHECK: typedef ap_int<19> accum_t;
            CHECK: typedef ap_int<26> offset_t;
            CHECK: typedef ap_int<35> scaled_t;
            CHECK: static const long long requant_min = -128;
            CHECK: static const signed char fc0_values[15] = {
            CHECK-NEXT: 1, -2, 3, -128, 127, 0, 5, 6, 7, -8, -9, -10, 11, 12, 13
            CHECK: static const short fc0_bias[5] = {
            CHECK: static const int fc0_roff[5] = {
            CHECK: static const unsigned char fc0_table[256] = {
            CHECK: typedef ap_int<16> requant_t;
            """)
        try fileCheck(try #require(files["lutforge_top.cpp"]), """
            CHECK: static void read_input(hls::stream<input_t> &in, hls::stream<v_x0_t> &out) {
            CHECK: static void p_fc0(hls::stream<v_x0_t> &i0, hls::stream<v_x1_t> &o) {
            CHECK-NEXT: static v_x0_t x0[3];
            CHECK-NEXT: static v_x1_t y[5];
            CHECK: x0[i] = i0.read();
            CHECK: fc0_config::requant_t fc0_r[5];
            CHECK-NEXT: lutforge::dsp_chain<v_x0_t, fc0_config>(x0, fc0_r, fc0_values, fc0_offsets, fc0_bias, fc0_mult, fc0_shift, fc0_roff);
            CHECK-NEXT: lutforge::lookup<fc0_config::requant_t, v_x1_t, 5, -128>(fc0_r, y, fc0_table);
            CHECK: o.write(y[i]);
            CHECK: lutforge::dsp_chain<v_x1_t, fc1_config>(x0, y,
            CHECK: out.write(output_t(in.read()));
            CHECK: void lutforge_top(hls::stream<input_t> &in, hls::stream<output_t> &out) {
            CHECK: LF_HLS(INTERFACE axis port = in)
            CHECK: LF_HLS(DATAFLOW)
            CHECK: hls::stream<v_x1_t> s_x1("s_x1");
            CHECK: read_input(in, s_x0);
            CHECK-NEXT: p_fc0(s_x0, s_x1);
            CHECK-NEXT: p_fc1(s_x1, s_x2);
            CHECK-NEXT: write_output(s_x2, out);
            """)
        try fileCheck(try #require(files["vitis_hls.tcl"]), """
            CHECK: set_top lutforge_top
            CHECK: csim_design
            CHECK: csynth_design
            CHECK: cosim_design
            CHECK: export_design
            """)
    }

    @Test("emitted RTL is legal Verilog-2005: Verilator -Wall, Icarus -g2005 and Yosys accept it with no warning",
          arguments: [(1, false), (2, true), (5, false), (4, true)])
    func lint(lanes: Int, table: Bool) throws {
        try expectLegalVerilog(try writeRTL(sampleProgram(lanes: lanes, table: table)), "lanes \(lanes) table \(table)")
    }

    @Test("every kernel kind and a forking graph are legal Verilog-2005 in all three front ends")
    func lintGraph() throws {
        try expectLegalVerilog(try writeRTL(graphProgram()), "graph")
    }

    @Test("emitted HLS of every kernel kind compiles with g++ -std=c++17 -Wall -Wextra -Werror against the real ap_types")
    func hlsCompiles() throws {
        for program in [sampleProgram(lanes: 2, table: true), graphProgram()] {
            let dir = temporaryDirectory("lutforge-hls")
            for (name, text) in try HLSEmitter.emit(program) {
                let url = URL(fileURLWithPath: "\(dir)/\(name)")
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            try ToolRunner.run(Invocation("make", ["-s", "csim", "AP_TYPES=\(CSimBackend.apTypesDirectory)"], in: dir, timeout: 300))
            #expect(FileManager.default.isExecutableFile(atPath: "\(dir)/csim"))
        }
    }
}
