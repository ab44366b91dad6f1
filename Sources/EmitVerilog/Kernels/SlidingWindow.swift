// Verilog instance of the sliding-window generator (RTL/lf_sliding_window.v).
import HardwareIR

/// A Verilog literal of `value` in `bits` bits, two's complement.
func verilogLiteral(_ value: Int, bits: Int) -> String {
    let mask = bits >= 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
    return "\(bits)'h" + String(UInt64(bitPattern: Int64(value)) & mask, radix: 16)
}

extension SlidingWindowKernel: VerilogKernel {
    public static let verilogModule = "lf_sliding_window"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let x = inputType.storage
        return VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("H", "\(height)"), ("W", "\(width)"), ("C", "\(channels)"), ("KH", "\(kernelHeight)"), ("KW", "\(kernelWidth)"),
            ("SH", "\(strideHeight)"), ("SW", "\(strideWidth)"), ("DH", "\(dilationHeight)"), ("DW", "\(dilationWidth)"),
            ("PT", "\(padTop)"), ("PL", "\(padLeft)"), ("OH", "\(outHeight)"), ("OW", "\(outWidth)"), ("GROUPS", "\(groups)"),
            ("X_BITS", "\(x.bits)"), ("PAD", verilogLiteral(padValue, bits: x.bits)), ("NB", "\(memories[0].width)"),
            ("NR_FILE", memory("nr")), ("NC_FILE", memory("nc")),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
