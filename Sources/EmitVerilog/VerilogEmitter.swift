// Emit step of the Verilog backend: a pure function from a prepared program to
// text. Never modify the program here; anything to legalise belongs in VerilogPrepare.
import HardwareIR

/// Writes the RTL of a program: the top module, table images, file list and the library it uses.
public enum VerilogEmitter {
    /// Library modules every design uses, in dependency order.
    public static let libraryFiles = [
        "lf_rom.v", "lf_fabric_mul.v", "lf_round_clamp.v", "lf_lane_store.v", "lf_emit_ctrl.v", "lf_dsp_chain.v", "lf_lut_linear.v",
    ]
    /// Name of the generated top module.
    public static let topModule = "lutforge_top"

    /// All files of `rtl/`, keyed by name.
    public static func emit(_ prepared: PreparedVerilog) throws -> FileSet {
        var files: FileSet = [:]
        for name in libraryFiles { files[name] = try Library.text("RTL/\(name)") }
        files["\(topModule).v"] = top(prepared)
        for (k, name) in zip(prepared.program.kernels, prepared.instanceNames) {
            let images = switch k {
            case let .dsp(d): tableImages(d)
            case let .lut(l): tableImages(l)
            }
            for (suffix, text) in images { files["\(name)_\(suffix).mem"] = text }
        }
        files["files.f"] = (libraryFiles + ["\(topModule).v"]).joined(separator: "\n") + "\n"
        return files
    }

    /// The `.mem` images of a DSP-chain kernel: (offset, value) pairs (`w`), biases (`b`),
    /// requantizers (`q`) and the activation table (`t`).
    static func tableImages(_ k: DSPKernel) -> [(String, String)] {
        let lanes = k.lanes, chain = k.chainLength
        func output(_ p: Int, _ lane: Int) -> Int? {
            let n = p * lanes + lane
            return n < k.outputCount ? n : nil
        }
        var w = "", b = "", q = ""
        for p in 0..<k.passes {
            for t in 0..<k.cyclesPerPass {
                w += hexWord((0..<lanes).flatMap { lane in (0..<chain).flatMap { i -> [(Int, Int)] in
                    let block = t * k.blocksPerCycle + i / k.kept
                    guard let n = output(p, lane), block < k.blocks else { return [(0, k.weight.bits), (0, k.offsetBits)] }
                    let pair = k.pair(output: n, block: block, i % k.kept)
                    return [(pair.value, k.weight.bits), (pair.offset, k.offsetBits)]
                } }) + "\n"
            }
            b += hexWord((0..<lanes).map { l in (output(p, l).map { k.biases[$0] } ?? 0, k.bias.bits) }) + "\n"
            q += hexWord((0..<lanes).flatMap { l -> [(Int, Int)] in
                let r = output(p, l).map { k.requantizers[$0] } ?? Requantizer(multiplier: 0, shift: 1)
                return [(r.shift, k.shift.bits), (r.multiplier, k.multiplier.bits)]
            }) + "\n"
        }
        return [("w", w), ("b", b), ("q", q)] + activationImage(k.table)
    }

    /// The activation table image (`t`), if the kernel has a table.
    static func activationImage(_ table: ActivationTable?) -> [(String, String)] {
        guard let t = table else { return [] }
        return [("t", t.values.map { hexWord([($0, t.output.bits)]) + "\n" }.joined())]
    }

    /// The `.mem` images of a LUT kernel: centroids (`c`), codes (`w`), biases (`b`),
    /// requantizers (`q`: `{L, S}`), one table memory per position lane (`tab0`, …) and the activation table (`t`).
    static func tableImages(_ k: LUTKernel) -> [(String, String)] {
        let sl = k.searchLanes, cl = k.columnLanes, pl = k.positionLanes, ka = k.activationCentroids
        var c = "", w = "", b = "", q = ""
        for p in 0..<k.positions {
            for j in 0..<k.searchBlocks {
                c += hexWord((0..<sl).flatMap { s in (0..<k.vectorLength).map { e -> (Int, Int) in
                    let kk = j * sl + s
                    return (kk < ka ? k.centroid(p, kk, e) : 0, k.input.bits)
                } }) + "\n"
            }
        }
        for pass in 0..<k.passes {
            for pb in 0..<k.positionBlocks {
                w += hexWord((0..<pl).flatMap { lane in (0..<cl).map { col -> (Int, Int) in
                    let n = pass * cl + col, p = pb * pl + lane
                    return (n < k.outputCount && p < k.positions ? k.code(p, n) : 0, k.codeBits)
                } }) + "\n"
            }
            b += hexWord((0..<cl).map { col in
                let n = pass * cl + col
                return (n < k.outputCount ? k.biases[n] : 0, k.bias.bits)
            }) + "\n"
            q += hexWord((0..<cl).flatMap { col -> [(Int, Int)] in
                let n = pass * cl + col
                guard n < k.outputCount else { return [(0, k.shift.bits), (0, k.multiplierShift.bits)] }
                return [(k.requantizers[n].shift, k.shift.bits), (k.multiplierShift(n), k.multiplierShift.bits)]
            }) + "\n"
        }
        var images = [("c", c), ("w", w), ("b", b), ("q", q)]
        if let o = k.outliers {
            var pairs = "", m2 = ""
            for pass in 0..<k.passes {
                for cycle in 0..<o.cycles {
                    pairs += hexWord((0..<cl).flatMap { col in (0..<o.lanes).flatMap { j -> [(Int, Int)] in
                        let n = pass * cl + col, slot = cycle * o.lanes + j
                        guard n < k.outputCount, slot < o.count else { return [(0, o.weight.bits), (0, k.outlierIndexBits)] }
                        return [(o.values[n * o.count + slot], o.weight.bits), (o.indices[n * o.count + slot], k.outlierIndexBits)]
                    } }) + "\n"
                }
                m2 += hexWord((0..<cl).map { col in
                    let n = pass * cl + col
                    return (n < k.outputCount ? o.multipliers[n] : 0, o.multiplier.bits)
                }) + "\n"
            }
            images += [("o", pairs), ("m2", m2)]
        }
        for lane in 0..<pl {
            var rows = ""
            for pb in 0..<k.positionBlocks {
                let p = pb * pl + lane
                for g in 0..<k.groups {
                    for kk in 0..<ka {
                        rows += hexWord((0..<k.weightCentroids).map { (p < k.positions ? k.entry(p, g, kk, $0) : 0, k.entry.bits) }) + "\n"
                    }
                }
            }
            images.append(("tab\(lane)", rows))
        }
        return images + activationImage(k.table)
    }

    /// Hex text of fields packed least significant first, each in two's complement of its width.
    static func hexWord(_ fields: [(value: Int, bits: Int)]) -> String {
        var bits: [Bool] = []
        for (value, width) in fields {
            for i in 0..<width { bits.append((value >> i) & 1 == 1) }
        }
        while bits.count % 4 != 0 { bits.append(false) }
        var digits: [Character] = []
        for nibble in stride(from: 0, to: bits.count, by: 4) {
            var v = 0
            for i in 0..<4 where bits[nibble + i] { v |= 1 << i }
            digits.append(Character(String(v, radix: 16)))
        }
        return String(digits.reversed())
    }

    static func file(_ name: String, _ suffix: String) -> String { "{MEM_DIR, \"\(name)_\(suffix).mem\"}" }

    static func flag(_ b: Bool) -> String { b ? "1" : "0" }

    static func dspParameters(_ k: DSPKernel, _ name: String) -> [(String, String)] {
        [
            ("N_IN", "\(k.inputCount)"), ("N_OUT", "\(k.outputCount)"), ("LANES", "\(k.lanes)"),
            ("M", "\(k.blockSize)"), ("N", "\(k.kept)"), ("B", "\(k.blocksPerCycle)"), ("GS", "\(k.groupSize)"),
            ("X_BITS", "\(k.input.bits)"), ("X_SIGNED", flag(k.input.signed)),
            ("W_BITS", "\(k.weight.bits)"), ("B_BITS", "\(k.bias.bits)"), ("ACC_BITS", "\(k.accumulator.bits)"),
            ("M_BITS", "\(k.multiplier.bits)"), ("S_BITS", "\(k.shift.bits)"), ("P_BITS", "\(k.scaled.bits)"),
            ("R_BITS", "\(k.requantized.bits)"), ("R_SIGNED", flag(k.requantized.signed)),
            ("HAS_TABLE", flag(k.table != nil)), ("Y_BITS", "\(k.output.bits)"),
            ("W_FILE", file(name, "w")), ("B_FILE", file(name, "b")), ("Q_FILE", file(name, "q")),
            ("T_FILE", k.table == nil ? "\"\"" : file(name, "t")),
        ]
    }

    static func lutParameters(_ k: LUTKernel, _ name: String) -> [(String, String)] {
        [
            ("N_IN", "\(k.inputCount)"), ("N_OUT", "\(k.outputCount)"), ("V", "\(k.vectorLength)"),
            ("KA", "\(k.activationCentroids)"), ("KW", "\(k.weightCentroids)"), ("S", "\(k.groupColumns)"),
            ("CL", "\(k.columnLanes)"), ("PL", "\(k.positionLanes)"), ("SL", "\(k.searchLanes)"),
            ("X_BITS", "\(k.input.bits)"), ("X_SIGNED", flag(k.input.signed)),
            ("DIST", k.distance == .linf ? "0" : "1"), ("D_BITS", "\(k.distanceType.bits)"),
            ("T_BITS", "\(k.entry.bits)"), ("B_BITS", "\(k.bias.bits)"), ("ACC_BITS", "\(k.accumulator.bits)"),
            ("SH_BITS", "\(k.shift.bits)"), ("LS_BITS", "\(k.multiplierShift.bits)"), ("P_BITS", "\(k.scaled.bits)"),
            ("R_BITS", "\(k.requantized.bits)"), ("R_SIGNED", flag(k.requantized.signed)),
            ("HAS_TABLE", flag(k.table != nil)), ("Y_BITS", "\(k.output.bits)"), ("TA_BITS", "\(k.tableAddressBits)"),
            ("C_FILE", file(name, "c")), ("W_FILE", file(name, "w")), ("B_FILE", file(name, "b")),
            ("Q_FILE", file(name, "q")), ("T_FILE", k.table == nil ? "\"\"" : file(name, "t")),
        ] + (k.outliers.map { o in [
            ("OK", "\(o.count)"), ("OL", "\(o.lanes)"), ("OW_BITS", "\(o.weight.bits)"), ("OA_BITS", "\(o.accumulator.bits)"),
            ("M2_BITS", "\(o.multiplier.bits)"), ("O_FILE", file(name, "o")), ("M2_FILE", file(name, "m2")),
        ] } ?? [])
    }

    static func top(_ prepared: PreparedVerilog) -> String {
        let p = prepared.program
        var s = """
        // Generated by LUTForge from \(p.sourceFile). Do not edit: recompile the model.
        // Streams \(p.inputCount) \(p.input) inputs in and \(p.outputCount) \(p.output) outputs out with
        // valid/ready handshakes; latency \(p.latencyCycles) cycles without back-pressure.
        // MEM_DIR is prepended to every table image path (end it with '/').
        `default_nettype none

        module \(topModule) #(
            parameter MEM_DIR = "./"
        ) (
            input  wire        clk,
            input  wire        rst,
            input  wire        in_valid,
            output wire        in_ready,
            input  wire [\(p.input.bits - 1):0]  in_data,
            output wire        out_valid,
            input  wire        out_ready,
            output wire [\(p.output.bits - 1):0] out_data,
            output wire        out_last
        );

        """
        let count = p.kernels.count
        for i in 1..<count {
            let t = p.kernels[i].input
            s += "    wire s\(i)_valid, s\(i)_ready;\n    wire [\(t.bits - 1):0] s\(i)_data;\n"
        }
        for (i, (kernel, name)) in zip(p.kernels, prepared.instanceNames).enumerated() {
            let inPort = i == 0 ? ("in_valid", "in_ready", "in_data") : ("s\(i)_valid", "s\(i)_ready", "s\(i)_data")
            let outPort = i == count - 1 ? ("out_valid", "out_ready", "out_data") : ("s\(i + 1)_valid", "s\(i + 1)_ready", "s\(i + 1)_data")
            let module: String
            let params: [(String, String)]
            var extraPorts = ""
            s += "\n    // \(kernel.name): \(kernel.kind) \(kernel.inputCount) -> \(kernel.outputCount), from \(kernel.sourceNodes.joined(separator: ", "))\n"
            switch kernel {
            case let .dsp(k):
                module = "lf_dsp_chain"
                params = dspParameters(k, name)
            case let .lut(k):
                module = "lf_lut_linear"
                params = lutParameters(k, name)
                let ta = k.tableAddressBits, row = k.weightCentroids * k.entry.bits
                s += "    wire [\(k.positionLanes * ta - 1):0] \(name)_tab_addr;\n"
                s += "    wire [\(k.positionLanes * row - 1):0] \(name)_tab_data;\n"
                for lane in 0..<k.positionLanes {
                    s += "    lf_rom #(.WIDTH(\(row)), .DEPTH(\(k.tableDepth)), .ADDR_BITS(\(ta)), .INIT_FILE({MEM_DIR, \"\(name)_tab\(lane).mem\"}))\n"
                    s += "        u_\(name)_tab\(lane) (.clk(clk), .addr(\(name)_tab_addr[\(lane * ta) +: \(ta)]), .data(\(name)_tab_data[\(lane * row) +: \(row)]));\n"
                }
                extraPorts = ",\n        .tab_addr(\(name)_tab_addr), .tab_data(\(name)_tab_data)"
            }
            s += "    \(module) #(\n"
            s += params.map { "        .\($0.0)(\($0.1))" }.joined(separator: ",\n")
            s += "\n    ) u_\(name) (\n"
            s += "        .clk(clk), .rst(rst),\n"
            s += "        .in_valid(\(inPort.0)), .in_ready(\(inPort.1)), .in_data(\(inPort.2)),\n"
            s += "        .out_valid(\(outPort.0)), .out_ready(\(outPort.1)), .out_data(\(outPort.2))\(extraPorts)\n"
            s += "    );\n"
        }
        // TLAST-style marker on the final output beat of each inference.
        let countBits = p.outputIndexBits
        s += """

            // out_last marks the final output beat of each inference.
            reg [\(countBits - 1):0] out_count;
            assign out_last = (out_count == \(countBits)'d\(p.outputCount - 1));
            always @(posedge clk) begin
                if (rst) out_count <= \(countBits)'d0;
                else if (out_valid && out_ready) out_count <= out_last ? \(countBits)'d0 : out_count + 1'b1;
            end

        """
        s += "endmodule\n\n`default_nettype wire\n"
        return s
    }
}
