// Verilog instance of the concat kernel (RTL/lf_concat.v): its ports packed into buses.
import HardwareIR

extension ConcatKernel: VerilogKernel {
    public static let verilogModule = "lf_concat"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let k = inputTypes.count
        let counts = (0..<4).map { $0 < k ? inputTypes[$0].frameSize : 0 }
        var s = "    wire [\(k - 1):0] \(name)_ready;\n"
        for (i, port) in inputs.enumerated() { s += "    assign \(port.ready) = \(name)_ready[\(i)];\n" }
        return s + VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("K", "\(k)"), ("X_BITS", "\(outputType.storage.bits)"),
            ("N0", "\(counts[0])"), ("N1", "\(counts[1])"), ("N2", "\(counts[2])"), ("N3", "\(counts[3])"),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", "{\(inputs.reversed().map(\.valid).joined(separator: ", "))}"), ("in_ready", "\(name)_ready"),
            ("in_data", "{\(inputs.reversed().map(\.data).joined(separator: ", "))}"),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
