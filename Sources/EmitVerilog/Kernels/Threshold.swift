// Verilog instance of the threshold kernel (RTL/lf_threshold.v).
import HardwareIR

extension ThresholdKernel: VerilogKernel {
    public static let verilogModule = "lf_threshold"

    public func verilogInstance(name: String, inputs: [VerilogStream], output: VerilogStream, memory: (String) -> String) -> String {
        VerilogEmitter.instance(module: Self.verilogModule, name: name, parameters: [
            ("N", "\(count)"), ("C", "\(channels)"), ("T", "\(thresholdCount)"),
            ("X_BITS", "\(inputType.storage.bits)"), ("X_SIGNED", VerilogEmitter.flag(inputType.storage.signed)),
            ("TH_BITS", "\(thresholdType.bits)"), ("Y_BITS", "\(outputType.storage.bits)"),
            ("BASE", "\(base)"), ("STEP", "\(step)"), ("TH_FILE", memory("th")),
        ], ports: [
            ("clk", "clk"), ("rst", "rst"),
            ("in_valid", inputs[0].valid), ("in_ready", inputs[0].ready), ("in_data", inputs[0].data),
            ("out_valid", output.valid), ("out_ready", output.ready), ("out_data", output.data),
        ])
    }
}
