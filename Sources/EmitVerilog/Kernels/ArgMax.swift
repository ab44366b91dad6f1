// Verilog instance of the argmax kernel (RTL/lf_argmax.v).
import HardwareIR

extension ArgMaxKernel: VerilogKernel {
    public static let verilogModule = "lf_argmax"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("N", "\(inputType.count)"), ("X_BITS", "\(inputType.storage.bits)"), ("X_SIGNED", VerilogEmitter.flag(inputType.storage.signed)),
            ("Y_BITS", "\(outputType.storage.bits)"),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
