// The host side of a design's input quantizer: a float input becomes the integer
// the input stream carries, with the model's own float32 steps (docs/numerics.md,
// "Host-side input quantization").
import HardwareIR
import ModelGraph

extension InputQuantizer {
    /// The integer of float input `x`.
    public func quantize(_ x: Float) -> Int {
        let mode = RoundingMode(qonnx: rounding) ?? .halfEven
        switch order {
        case .addClampRound:
            if bipolar { return x / scale + Float(zeroPoint) >= 0 ? 1 : -1 }
            var y = x / scale
            y = y + Float(zeroPoint)
            y = Swift.min(Swift.max(y, Float(lo)), Float(hi))
            return Int(mode.apply(y))
        case .roundAddClamp:
            return QuantArith.quantizeLinear(x, scale: scale, zeroPoint: zeroPoint, range: lo...hi)
        }
    }

    /// Whether `x` lies beyond the range the integers cover (so the quantizer clamps it).
    public func saturates(_ x: Float) -> Bool {
        if bipolar { return false }
        let y = Double(x) / Double(scale) + Double(zeroPoint)
        return y < Double(lo) - 0.5 || y > Double(hi) + 0.5
    }

    /// The float value integer `q` stands for.
    public func real(_ q: Int) -> Float { Float(q - zeroPoint) * scale }
}
