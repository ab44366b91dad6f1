// Resource model of the sliding-window generator (RTL/lf_sliding_window.v): no DSP slice
// or block RAM, its line buffer is read asynchronously, so synthesis builds it from LUTRAM.
import HardwareIR

extension SlidingWindowKernel: ModeledKernel {
    /// The line buffer (`(KH−1)·DH + 1` rows of the map) in distributed RAM, the need
    /// tables in logic, and the position and address counters (32-bit registers that
    /// synthesis trims to what the geometry needs).
    public var logic: LogicEstimate {
        let words = bufferRows * width * channels, bits = inputType.storage.bits
        let lutram = ResourceModel.bufferLUTs(words: words, bits: bits, readPorts: 1)
        let counter = Arith.indexBits(height * width * channels + 1)
        let luts = 60 + 8 * counter + 2 * bits + (outHeight + outWidth) * counter / 16
        let ffs = 40 + 10 * counter
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: 0)
    }
}
