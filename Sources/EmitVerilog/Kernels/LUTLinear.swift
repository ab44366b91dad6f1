// Verilog instance of the LUT-linear kernel (RTL/lf_lut_linear.v) and the table
// memories of its position lanes, which the top instantiates beside it.
import HardwareIR

extension LUTKernel: VerilogKernel {
    public static let verilogModule = "lf_lut_linear"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let f = VerilogEmitter.flag
        var parameters: [(String, String)] = [
            ("N_IN", "\(inputCount)"), ("N_OUT", "\(outputCount)"), ("V", "\(vectorLength)"),
            ("KA", "\(activationCentroids)"), ("KW", "\(weightCentroids)"), ("S", "\(groupColumns)"),
            ("CL", "\(columnLanes)"), ("PL", "\(positionLanes)"), ("SL", "\(searchLanes)"),
            ("X_BITS", "\(input.bits)"), ("X_SIGNED", f(input.signed)),
            ("DIST", distance == .linf ? "0" : "1"), ("D_BITS", "\(distanceType.bits)"),
            ("T_BITS", "\(entry.bits)"), ("B_BITS", "\(bias.bits)"), ("ACC_BITS", "\(accumulator.bits)"),
            ("SH_BITS", "\(shift.bits)"), ("LS_BITS", "\(multiplierShift.bits)"), ("C_BITS", "\(offset.bits)"), ("P_BITS", "\(scaled.bits)"),
            ("R_BITS", "\(requantized.bits)"), ("R_SIGNED", f(requantized.signed)),
            ("HAS_TABLE", f(table != nil)), ("Y_BITS", "\(self.output.bits)"), ("TA_BITS", "\(tableAddressBits)"),
            ("C_FILE", memory("c")), ("W_FILE", memory("w")), ("B_FILE", memory("b")),
            ("Q_FILE", memory("q")), ("T_FILE", table == nil ? "\"\"" : memory("t")),
        ]
        if let o = outliers {
            parameters += [
                ("OK", "\(o.count)"), ("OL", "\(o.lanes)"), ("OW_BITS", "\(o.weight.bits)"), ("OA_BITS", "\(o.accumulator.bits)"),
                ("M2_BITS", "\(o.multiplier.bits)"), ("O_FILE", memory("o")), ("M2_FILE", memory("m2")),
            ]
        }
        let ta = tableAddressBits, row = weightCentroids * entry.bits
        var s = "    wire [\(positionLanes * ta - 1):0] \(name)_tab_addr;\n"
        s += "    wire [\(positionLanes * row - 1):0] \(name)_tab_data;\n"
        for lane in 0..<positionLanes {
            s += "    lf_rom #(.WIDTH(\(row)), .DEPTH(\(tableDepth)), .ADDR_BITS(\(ta)), .INIT_FILE(\(memory("tab\(lane)"))))\n"
            s += "        u_\(name)_tab\(lane) (.clk(clk), .addr(\(name)_tab_addr[\(lane * ta) +: \(ta)]), .data(\(name)_tab_data[\(lane * row) +: \(row)]));\n"
        }
        return s + VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: parameters, ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
            ("tab_addr", "\(name)_tab_addr"), ("tab_data", "\(name)_tab_data"),
        ])
    }
}
