// Resource model of the FIFO kernel (RTL/lf_fifo.v).
import HardwareIR

extension FIFOKernel: ModeledKernel {
    /// `depth` words in distributed RAM, pointers and the count.
    public var logic: LogicEstimate {
        let a = Arith.indexBits(depth)
        let lutram = ResourceModel.bufferLUTs(words: depth, bits: type.storage.bits, readPorts: 1)
        return LogicEstimate(luts: 10 + 4 * a, lutram: lutram, flipFlops: 3 * a + 2, dsp: 0)
    }
}
