// HLS instance of the concat kernel (HLS/lutforge/concat.h).
import HardwareIR

extension ConcatKernel: HLSKernel {
    public func hlsParameters(name: String, comment: String) -> String { "\n// \(comment): \(inputTypes.map { String($0.frameSize) }.joined(separator: " + ")) elements per frame\n" }

    public func hlsCall(name: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        var offset = 0
        return zip(inputs, inputTypes).map { x, t in
            defer { offset += t.frameSize }
            return "lutforge::concat_part<\(x.type), \(t.frameSize), \(offset), \(output.type)>(\(x.array), \(output.array));"
        }
    }
}
