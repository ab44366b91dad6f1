// HLS instance of the pool kernel (HLS/lutforge/pool.h).
import HardwareIR

extension PoolKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        """

        // \(comment): \(reduction.rawValue) of \(window) per channel
        struct \(n)_config {
            static const unsigned channels = \(channels);
            static const unsigned window = \(window);
            static const bool sum = \(reduction == .sum);
            typedef \(HLSEmitter.cType(outputType.storage)) output_t;
        };

        """
    }

    public func hlsCall(name n: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        ["lutforge::pool<\(inputs[0].type), \(n)_config>(\(inputs[0].array), \(output.array));"]
    }
}
