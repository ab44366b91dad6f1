// Resource model of the pool kernel (RTL/lf_pool.v).
import HardwareIR

extension PoolKernel: ModeledKernel {
    /// The per-channel running value in distributed RAM, one comparator or adder.
    public var logic: LogicEstimate {
        let bits = outputType.storage.bits
        let lutram = ResourceModel.bufferLUTs(words: channels, bits: bits, readPorts: 1)
        let luts = 20 + 2 * bits + Arith.indexBits(frameSize) * 2
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: 10 + 2 * Arith.indexBits(frameSize), dsp: 0)
    }
}
