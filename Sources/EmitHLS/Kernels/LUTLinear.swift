// HLS instance of the LUT-linear kernel (HLS/lutforge/lut_linear.h): config struct and arrays.
import HardwareIR

extension LUTKernel: HLSKernel {
    public func hlsParameters(name n: String, comment: String) -> String {
        let e = HLSEmitter.self
        var s = """

        // \(comment): \(inputCount) -> \(outputCount), v \(vectorLength), Ka \(activationCentroids), Kw \(weightCentroids), S \(groupColumns), \(distance.rawValue)
        struct \(n)_config : lutforge::lut_linear_config {
            static const unsigned n_in = \(inputCount);
            static const unsigned n_out = \(outputCount);
            static const unsigned v = \(vectorLength);
            static const unsigned positions = \(positions);
            static const unsigned ka = \(activationCentroids);
            static const unsigned kw = \(weightCentroids);
            static const unsigned group_columns = \(groupColumns);
            static const unsigned groups = \(groups);
            static const bool distance_l2 = \(distance == .l2);
            static const unsigned search_lanes = \(searchLanes);
            static const unsigned column_lanes = \(columnLanes);
            static const unsigned position_lanes = \(positionLanes);
            static const unsigned outlier_count = \(outliers?.count ?? 0);
            typedef \(e.cType(outliers?.weight ?? .int(8))) outlier_weight_t;
            typedef \(e.cType(outliers?.accumulator ?? .int(2))) outlier_accum_t;
            static const int input_bits = \(input.bits);
            typedef \(e.cType(input)) input_t;
            typedef \(e.cType(distanceType)) dist_t;
            typedef ap_uint<\(indexBits)> index_t;
            typedef \(e.cType(entry)) entry_t;
            typedef \(e.cType(accumulator)) accum_t;
            typedef \(e.cType(scaled)) scaled_t;
            typedef \(e.cType(requantized)) requant_t;
            static const long long requant_min = \(e.literal(requantized.min));
            static const bool half_even = \(false);
            static const long long requant_max = \(e.literal(requantized.max));
        };
        static const \(e.storageType(input)) \(n)_centroids[\(centroids.count)] = {
        \(e.list(centroids))
        };
        static const \(e.storageType(.uint(codeBits))) \(n)_codes[\(codes.count)] = {
        \(e.list(codes))
        };
        static const \(e.storageType(entry)) \(n)_tables[\(tables.count)] = {
        \(e.list(tables))
        };
        static const \(e.storageType(bias)) \(n)_bias[\(outputCount)] = {
        \(e.list(biases))
        };
        static const \(e.storageType(multiplierShift)) \(n)_lshift[\(outputCount)] = {
        \(e.list((0..<outputCount).map(multiplierShift)))
        };
        static const \(e.storageType(shift)) \(n)_shift[\(outputCount)] = {
        \(e.list(requantizers.map(\.shift)))
        };
        static const \(e.storageType(offset)) \(n)_roff[\(outputCount)] = {
        \(e.list(requantizers.map(\.offset)))
        };
        // Outliers (dense-and-sparse); one zero entry when there are none.
        static const \(e.storageType(outliers?.weight ?? .int(8))) \(n)_ovalues[\(max(1, outliers?.values.count ?? 0))] = {
        \(e.list(outliers?.values ?? [0]))
        };
        static const \(e.storageType(.uint(outlierIndexBits))) \(n)_oindices[\(max(1, outliers?.indices.count ?? 0))] = {
        \(e.list(outliers?.indices ?? [0]))
        };
        static const \(e.storageType(outliers?.multiplier ?? .uint(1))) \(n)_m2[\(max(1, outliers?.multipliers.count ?? 0))] = {
        \(e.list(outliers?.multipliers ?? [0]))
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
        // Tables and codes are ROMs in block RAM; centroids are read v·search_lanes at a time.
        lines.append("LF_HLS(BIND_STORAGE variable = \(n)_tables type = rom_1p impl = bram)")
        lines.append("LF_HLS(BIND_STORAGE variable = \(n)_codes type = rom_1p impl = bram)")
        lines.append("LF_HLS(ARRAY_PARTITION variable = \(n)_centroids cyclic factor = \(vectorLength * searchLanes))")
        lines.append("lutforge::lut_linear<\(x.type), \(n)_config>(\(x.array), \(target), \(n)_centroids, \(n)_codes, \(n)_tables, \(n)_bias, \(n)_lshift, \(n)_shift, \(n)_roff, \(n)_ovalues, \(n)_oindices, \(n)_m2);")
        if let t = table {
            lines.append("lutforge::lookup<\(n)_config::requant_t, \(output.type), \(outputCount), \(t.input.min)>(\(n)_r, \(output.array), \(n)_table);")
        }
        return lines
    }
}
