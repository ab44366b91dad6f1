// HLS instance of the argmax kernel (HLS/lutforge/argmax.h).
import HardwareIR

extension ArgMaxKernel: HLSKernel {
    public func hlsParameters(name: String, comment: String) -> String { "\n// \(comment): argmax over \(inputType.count) elements\n" }

    public func hlsCall(name: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        ["lutforge::argmax<\(inputs[0].type), \(inputType.count), \(output.type)>(\(inputs[0].array), \(output.array));"]
    }
}
