// HLS instance of the sliding-window generator (HLS/lutforge/sliding_window.h), a streaming process.
import HardwareIR

extension SlidingWindowKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        """

        // \(comment): \(height)x\(width)x\(channels) map, \(kernelHeight)x\(kernelWidth) windows -> \(outHeight)x\(outWidth)
        struct \(n)_config {
            static const int h = \(height), w = \(width), c = \(channels);
            static const int kh = \(kernelHeight), kw = \(kernelWidth), sh = \(strideHeight), sw = \(strideWidth);
            static const int dh = \(dilationHeight), dw = \(dilationWidth), pt = \(padTop), pl = \(padLeft);
            static const int oh = \(outHeight), ow = \(outWidth), groups = \(groups);
            static const long long pad = \(padValue);
        };
        static const \(HLSEmitter.storageType(.uint(needBits))) \(n)_nr[\(outHeight)] = {
        \(HLSEmitter.list(needRows))
        };
        static const \(HLSEmitter.storageType(.uint(needBits))) \(n)_nc[\(outWidth)] = {
        \(HLSEmitter.list(needColumns))
        };

        """
    }

    /// Streams: the generator reads positions as windows need them (HLS/lutforge/sliding_window.h).
    public func hlsCall(name: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] { [] }

    public func hlsStreamCall(name n: String, input: (stream: String, type: String), output: String) -> [String]? {
        ["lutforge::sliding_window<\(input.type), \(n)_config>(\(input.stream), \(output), \(n)_nr, \(n)_nc);"]
    }
}
