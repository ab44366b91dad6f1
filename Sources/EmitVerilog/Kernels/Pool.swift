// Verilog instance of the pool kernel (RTL/lf_pool.v).
import HardwareIR

extension PoolKernel: VerilogKernel {
    public static let verilogModule = "lf_pool"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        let x = inputType.storage
        return VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("N", "\(frameSize)"), ("C", "\(channels)"), ("X_BITS", "\(x.bits)"), ("X_SIGNED", VerilogEmitter.flag(x.signed)),
            ("Y_BITS", "\(outputType.storage.bits)"), ("SUM", VerilogEmitter.flag(reduction == .sum)),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
