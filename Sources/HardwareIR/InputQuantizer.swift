// How the host turns a float input into the integers the design's input stream
// carries: the model's own input quantizer (QONNX Quant, ONNX QuantizeLinear) or
// the one LUTForge chose (calibrated float models, float inputs of quantized models).

/// `q = clamp(round(x / scale) + zeroPoint)` in float32, in the order and rounding the model defines.
public struct InputQuantizer: Codable, Hashable, Sendable {
    /// Where the zero point is added.
    public enum Order: String, Codable, Hashable, Sendable {
        /// QONNX `Quant`: `x / s + z`, clamp, then round.
        case addClampRound
        /// ONNX `QuantizeLinear`: round `x / s`, then add `z` and saturate.
        case roundAddClamp
    }

    /// Scale `s` (float32).
    public var scale: Float
    /// Zero point `z`.
    public var zeroPoint: Int
    /// Smallest integer.
    public var lo: Int
    /// Largest integer.
    public var hi: Int
    /// Rounding: a QONNX rounding mode name (`ROUND` is half to even).
    public var rounding: String
    /// Order of the steps.
    public var order: Order
    /// One-bit signed QONNX quantizers and `BipolarQuant` take the sign: `x / s ≥ 0 ? 1 : −1`.
    public var bipolar: Bool
    /// Where it comes from, for messages (`Quant node 'q0'`, `calibrated`).
    public var source: String

    /// Creates a quantizer.
    public init(scale: Float, zeroPoint: Int, lo: Int, hi: Int, rounding: String = "ROUND", order: Order = .roundAddClamp,
                bipolar: Bool = false, source: String) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.lo = lo
        self.hi = hi
        self.rounding = rounding
        self.order = order
        self.bipolar = bipolar
        self.source = source
    }
}
