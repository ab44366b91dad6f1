// HLS instance of the sliding-window generator (HLS/lutforge/sliding_window.h).
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

        """
    }

    public func hlsCall(name n: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        ["lutforge::sliding_window<\(inputs[0].type), \(n)_config>(\(inputs[0].array), \(output.array));"]
    }
}
