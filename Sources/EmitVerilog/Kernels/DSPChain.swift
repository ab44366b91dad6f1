// Verilog instance of the DSP-chain kernel (RTL/lf_dsp_chain.v).
import HardwareIR

extension DSPKernel: VerilogKernel {
    public static let verilogModule = "lf_dsp_chain"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let f = VerilogEmitter.flag
        let parameters: [(String, String)] = [
            ("N_IN", "\(inputCount)"), ("N_OUT", "\(outputCount)"), ("LANES", "\(lanes)"),
            ("M", "\(blockSize)"), ("N", "\(kept)"), ("B", "\(blocksPerCycle)"), ("GS", "\(groupSize)"),
            ("X_BITS", "\(input.bits)"), ("X_SIGNED", f(input.signed)),
            ("W_BITS", "\(weight.bits)"), ("B_BITS", "\(bias.bits)"), ("ACC_BITS", "\(accumulator.bits)"),
            ("M_BITS", "\(multiplier.bits)"), ("S_BITS", "\(shift.bits)"), ("C_BITS", "\(offset.bits)"), ("P_BITS", "\(scaled.bits)"),
            ("R_BITS", "\(requantized.bits)"), ("R_SIGNED", f(requantized.signed)), ("R_NARROW", f(table == nil && outputType.element.narrow)),
            ("HAS_TABLE", f(table != nil)), ("Y_BITS", "\(self.output.bits)"), ("HALF_EVEN", f(halfEven)),
            ("W_FILE", memory("w")), ("B_FILE", memory("b")), ("Q_FILE", memory("q")),
            ("T_FILE", table == nil ? "\"\"" : memory("t")),
        ]
        return VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: parameters, ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
