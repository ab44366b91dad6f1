// Reference evaluation of the elementwise kernel: `clamp((Σ_p x_p·M_p + C) >> S)` per
// element, the scaled sum checked against its proven type (docs/numerics.md, "Elementwise").
import HardwareIR

extension ElementwiseKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        let t = outputType.element
        return try (0..<outputType.count).map { i in
            let c = (i % count) % channels
            let s = scaledValue(inputs.map { $0[i] }, channel: c)
            guard scaled.contains(s) else { throw OverflowError(kernel: node, quantity: "scaled sum", value: s, type: scaled) }
            return Swift.min(Swift.max(Requantizer.shift(s, shifts[c], halfEven: halfEven), t.min), t.max)
        }
    }
}
