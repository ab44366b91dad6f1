// Verilog instance of the FIFO kernel (RTL/lf_fifo.v).
import HardwareIR

extension FIFOKernel: VerilogKernel {
    public static let verilogModule = "lf_fifo"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("W", "\(type.storage.bits)"), ("DEPTH", "\(depth)"),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
