// HLS instance of the FIFO kernel: a copy process whose output stream gets the
// FIFO's depth (HLS/lutforge/pool.h fifo_copy; the top's STREAM pragma).
import HardwareIR

extension FIFOKernel: HLSKernel {
    public func hlsParameters(name: String, comment: String) -> String { "\n// \(comment): depth \(depth), the depth of its output stream\n" }

    /// Streams: see `hlsStreamCall`.
    public func hlsCall(name: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] { [] }

    public func hlsStreamCall(name: String, input: (stream: String, type: String), output: String) -> [String]? {
        ["lutforge::fifo_copy<\(input.type), \(type.count)>(\(input.stream), \(output));"]
    }
}
