// Verilog instance of the elementwise kernel (RTL/lf_elementwise.v); a one-input
// kernel ties port b off.
import HardwareIR

extension ElementwiseKernel: VerilogKernel {
    public static let verilogModule = "lf_elementwise"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let f = VerilogEmitter.flag
        let a = inputTypes[0].storage, b = inputTypes.count > 1 ? inputTypes[1].storage : a
        var s = ""
        let bPort: VerilogStream
        if arity > 1 {
            bPort = inputs[1]
        } else {
            s += "    /* verilator lint_off UNUSEDSIGNAL */\n    wire \(name)_b_ready;\n    /* verilator lint_on UNUSEDSIGNAL */\n"
            bPort = VerilogStream(valid: "1'b0", ready: "\(name)_b_ready", data: "\(b.bits)'d0")
        }
        return s + VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("ARITY", "\(arity)"), ("N", "\(count)"), ("C", "\(channels)"),
            ("XA_BITS", "\(a.bits)"), ("XA_SIGNED", f(a.signed)), ("XB_BITS", "\(b.bits)"), ("XB_SIGNED", f(b.signed)),
            ("M_BITS", "\(multiplier.bits)"), ("S_BITS", "\(shift.bits)"), ("C_BITS", "\(offset.bits)"), ("P_BITS", "\(scaled.bits)"),
            ("Y_BITS", "\(outputType.storage.bits)"), ("Y_SIGNED", f(outputType.storage.signed)), ("Y_NARROW", f(outputType.element.narrow)), ("HALF_EVEN", f(halfEven)),
            ("E_FILE", memory("e")),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("a_valid", inputs[0].valid), ("a_ready", inputs[0].ready), ("a_data", inputs[0].data),
            ("b_valid", bPort.valid), ("b_ready", bPort.ready), ("b_data", bPort.data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
