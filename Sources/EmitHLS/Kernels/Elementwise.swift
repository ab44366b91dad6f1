// HLS instance of the elementwise kernel (HLS/lutforge/elementwise.h).
import HardwareIR

extension ElementwiseKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        let e = HLSEmitter.self
        return """

        // \(comment): \(arity) input(s), \(channels) channel(s)
        struct \(n)_config {
            static const unsigned n = \(count);
            static const unsigned channels = \(channels);
            static const unsigned arity = \(arity);
            typedef \(e.cType(scaled)) scaled_t;
            typedef \(e.cType(outputType.storage)) requant_t;
            static const long long requant_min = \(e.literal(outputType.element.min));
            static const bool half_even = \(halfEven);
            static const long long requant_max = \(e.literal(outputType.element.max));
        };
        static const \(e.storageType(multiplier)) \(n)_mult[\(multipliers.count)] = {
        \(e.list(multipliers))
        };
        static const \(e.storageType(offset)) \(n)_offset[\(channels)] = {
        \(e.list(offsets))
        };
        static const \(e.storageType(shift)) \(n)_shift[\(channels)] = {
        \(e.list(shifts))
        };

        """
    }

    public func hlsCall(name n: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        let b = inputs.count > 1 ? inputs[1] : inputs[0]
        return ["lutforge::elementwise<\(inputs[0].type), \(b.type), \(n)_config>(\(inputs[0].array), \(b.array), \(output.array), \(n)_mult, \(n)_offset, \(n)_shift);"]
    }
}
