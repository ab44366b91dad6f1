// Resource model of the concat kernel (RTL/lf_concat.v).
import HardwareIR

extension ConcatKernel: ModeledKernel {
    /// The frame buffer in distributed RAM and one counter per port; no DSP slice.
    public var logic: LogicEstimate {
        let bits = outputType.storage.bits, n = outputType.count
        return LogicEstimate(luts: 10 + inputTypes.count * 3 * Arith.indexBits(n + 1), lutram: ResourceModel.bufferLUTs(words: n, bits: bits, readPorts: 1),
                             flipFlops: 2 + (inputTypes.count + 1) * Arith.indexBits(n + 1), dsp: 0)
    }
}
