// HLS instance of the FIFO kernel (HLS/lutforge/pool.h).
import HardwareIR

extension FIFOKernel: HLSKernel {
    public func hlsParameters(name: String, comment: String) -> String { "\n// \(comment): depth \(depth) in RTL; the identity here\n" }

    public func hlsCall(name: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        ["lutforge::fifo_copy<\(inputs[0].type), \(type.count), \(output.type)>(\(inputs[0].array), \(output.array));"]
    }
}
