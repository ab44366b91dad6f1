// Scalar quantizers: per-channel weights, activation scales, integer multipliers.
import Foundation
import Quantize
import Testing

@Suite("Quantize")
struct QuantizeTests {
    @Test("per-channel weights use the full symmetric range of each row")
    func perChannel() {
        let (codes, scales) = WeightQuantizer.perChannel(rows: [[0.5, -1, 0.25], [0, 0, 0], [3, 1.5, -0.75]], bits: 8)
        #expect(codes[0] == [64, -127, 32])
        #expect(codes[1] == [0, 0, 0])
        #expect(scales[1] == 1)
        #expect(codes[2] == [127, 64, -32])
        #expect(abs(scales[2] - 3.0 / 127) < 1e-15)
    }

    @Test("round half to even")
    func rounding() {
        #expect(roundHalfEven(2.5) == 2)
        #expect(roundHalfEven(3.5) == 4)
        #expect(roundHalfEven(-2.5) == -2)
        #expect(ActivationQuantizer.quantize(1e9, scale: 1, lo: 0, hi: 255) == 255)
        #expect(ActivationQuantizer.quantize(-3, scale: 1, lo: 0, hi: 255) == 0)
        #expect(ActivationQuantizer.quantize(.nan, scale: 1, lo: -128, hi: 127) == 0)
    }

    @Test("multipliers: M < 2^bits, S maximal, relative error below 2^-(bits-1)",
          arguments: [1e-9, 0.000123, 0.0178, 0.5, 0.99, 1, 7.25, 1000.5, 16383])
    func multiplier(m: Double) throws {
        let q = try #require(MultiplierQuantizer.quantize(m, bits: 15))
        #expect(q.multiplier < 1 << 15)
        #expect(q.shift >= 1 && q.shift <= 62)
        if q.multiplier > 0 {
            let approx = Double(q.multiplier) / pow(2, Double(q.shift))
            #expect(abs(approx - m) / m <= pow(2, -13.0))
            // One more shift bit would overflow the multiplier (unless S is at its limit).
            #expect(q.shift == 62 || roundHalfEven(m * pow(2, Double(q.shift + 1))) >= Double(1 << 15))
        }
    }

    @Test("a ratio too large for the multiplier is refused")
    func tooLarge() {
        #expect(MultiplierQuantizer.quantize(20000, bits: 15) == nil)
    }

    @Test("activation scales")
    func scales() {
        #expect(ActivationQuantizer.unsignedScale(ObservedRange(min: 0, max: 2.55), bits: 8) == 2.55 / 255)
        #expect(ActivationQuantizer.signedScale(ObservedRange(min: -2.54, max: 1), bits: 8) == 2.54 / 127)
        #expect(ActivationQuantizer.signedScale(ObservedRange(min: 0, max: 0), bits: 8) == 1)
    }
}
