// Reference evaluation of the sliding-window generator: every window of the map, in
// raster order, padding read as the pad value (docs/numerics.md, "Sliding windows").
import HardwareIR

extension SlidingWindowKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        let x = inputs[0]
        var out: [Int] = []
        out.reserveCapacity(outputType.count)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for e in 0..<windowSize {
                    if let s = source(oy, ox, e) { out.append(x[(s.row * width + s.column) * channels + s.channel]) } else { out.append(padValue) }
                }
            }
        }
        return out
    }
}
