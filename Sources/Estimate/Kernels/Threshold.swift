// Resource model of the threshold kernel (RTL/lf_threshold.v).
import HardwareIR

extension ThresholdKernel: ModeledKernel {
    /// No DSP slice: one comparator per threshold (about a LUT per two bits on the carry
    /// chain), the count adder tree, control, and the output buffer in distributed RAM.
    public var logic: LogicEstimate {
        let compare = thresholdCount * (thresholdType.bits + 1) / 2
        let count = thresholdCount * 2
        let luts = 30 + compare + count + outputType.storage.bits * 2
        let lutram = ResourceModel.bufferLUTs(words: self.count, bits: outputType.storage.bits, readPorts: 1)
        let ffs = 20 + inputType.storage.bits + 2 * Arith.indexBits(self.count)
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: 0)
    }
}
