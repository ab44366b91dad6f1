// HLS instance of the DSP-chain kernel (HLS/lutforge/dsp_chain.h): config struct and arrays.
import HardwareIR

extension DSPKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        let e = HLSEmitter.self
        var s = """

        // \(comment): \(inputCount) -> \(outputCount), \(kept):\(blockSize), chain \(chainLength), \(lanes) lane(s)
        struct \(n)_config : lutforge::dsp_chain_config {
            static const unsigned n_in = \(inputCount);
            static const unsigned n_out = \(outputCount);
            static const unsigned lanes = \(lanes);
            static const unsigned m = \(blockSize);
            static const unsigned kept = \(kept);
            static const unsigned blocks = \(blocks);
            static const unsigned blocks_per_cycle = \(blocksPerCycle);
            static const unsigned chain_length = \(chainLength);
            typedef \(e.cType(weight)) weight_t;
            typedef \(e.cType(accumulator)) accum_t;
            typedef \(e.cType(multiplier)) mult_t;
            typedef \(e.cType(shift)) shift_t;
            typedef \(e.cType(offset)) offset_t;
            typedef \(e.cType(scaled)) scaled_t;
            typedef \(e.cType(requantized)) requant_t;
            static const long long requant_min = \(e.literal(clampRange.lowerBound));
            static const bool half_even = \(halfEven);
            static const long long requant_max = \(e.literal(clampRange.upperBound));
        };
        static const \(e.storageType(weight)) \(n)_values[\(values.count)] = {
        \(e.list(values))
        };
        static const \(e.storageType(.uint(offsetBits))) \(n)_offsets[\(offsets.count)] = {
        \(e.list(offsets))
        };
        static const \(e.storageType(bias)) \(n)_bias[\(outputCount)] = {
        \(e.list(biases))
        };
        static const \(e.storageType(multiplier)) \(n)_mult[\(outputCount)] = {
        \(e.list(requantizers.map(\.multiplier)))
        };
        static const \(e.storageType(shift)) \(n)_shift[\(outputCount)] = {
        \(e.list(requantizers.map(\.shift)))
        };
        static const \(e.storageType(offset)) \(n)_roff[\(outputCount)] = {
        \(e.list(requantizers.map(\.offset)))
        };

        """
        if let t = table { s += t.hlsArray(n) }
        return s
    }

    public func hlsCall(name n: String, inputs: [(array: String, type: String)], output: (array: String, type: String)) -> [String] {
        let x = inputs[0]
        let target = table == nil ? output.array : "\(n)_r"
        var lines: [String] = []
        if table != nil { lines.append("\(n)_config::requant_t \(n)_r[\(outputCount)];") }
        lines.append("lutforge::dsp_chain<\(x.type), \(n)_config>(\(x.array), \(target), \(n)_values, \(n)_offsets, \(n)_bias, \(n)_mult, \(n)_shift, \(n)_roff);")
        if let t = table {
            lines.append("lutforge::lookup<\(n)_config::requant_t, \(output.type), \(outputCount), \(t.input.min)>(\(n)_r, \(output.array), \(n)_table);")
        }
        return lines
    }
}

extension ActivationTable {
    /// The table as a C array `<name>_table`.
    func hlsArray(_ name: String) -> String {
        """
        // \(function) table: entry i is for the value \(input.min) + i.
        static const \(HLSEmitter.storageType(output)) \(name)_table[\(values.count)] = {
        \(HLSEmitter.list(values))
        };

        """
    }
}
