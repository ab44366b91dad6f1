// HLS instance of the threshold kernel (HLS/lutforge/threshold.h).
import HardwareIR

extension ThresholdKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        let e = HLSEmitter.self
        return """

        // \(comment): \(channels) channel(s), \(thresholdCount) threshold(s) each
        struct \(n)_config {
            static const unsigned n = \(count);
            static const unsigned channels = \(channels);
            static const unsigned count = \(thresholdCount);
            static const int base = \(base);
            static const int step = \(step);
            typedef \(e.cType(thresholdType)) threshold_t;
            typedef \(e.cType(outputType.storage)) output_t;
        };
        static const \(e.storageType(thresholdType)) \(n)_thresholds[\(thresholds.count)] = {
        \(e.list(thresholds))
        };
        static const unsigned char \(n)_descending[\(channels)] = {
        \(e.list(descending.map { $0 ? 1 : 0 }))
        };

        """
    }

    public func hlsCall(name n: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        ["lutforge::threshold<\(inputs[0].type), \(n)_config>(\(inputs[0].array), \(output.array), \(n)_thresholds, \(n)_descending);"]
    }
}
