// Resource model of the DSP-chain kernel (RTL/lf_dsp_chain.v).
import HardwareIR

extension DSPKernel: ModeledKernel {
    /// One DSP slice per multiply-add of every lane's chain (`lanes · chainLength`) plus the
    /// shared requantizer's multiplier while it fits one (in fabric otherwise).
    public var logic: LogicEstimate {
        let requantInDSP = accumulator.bits <= 25 && multiplier.bits <= 17
        // Control and emit (~40), per lane its accumulator, chain adders and lane mux,
        // the N-of-M input selects of sparse chains, the input-window read, and the
        // requantizer's rounding shift, offset add and clamp (≈ scaled bits × (shift bits + 1)).
        let sparseSelect = kept < blockSize ? lanes * chainLength * input.bits * (blockSize - 1) / 4 : 0
        let window = blocksPerCycle * blockSize * input.bits * ((inputCount + 63) / 64)
        let luts = 40 + lanes * (chainLength * 8 + accumulator.bits) + sparseSelect + window
            + scaled.bits * (shift.bits + 1) + (requantInDSP ? 0 : ResourceModel.fabricMultiplierLUTs(accumulator.bits, multiplier.bits))
        let lutram = ResourceModel.bufferLUTs(words: inputCount, bits: input.bits, readPorts: blocksPerCycle * blockSize)
            + lanes * ResourceModel.bufferLUTs(words: passes, bits: output.bits, readPorts: 1)
        let ffs = 60 + lanes * (accumulator.bits + chainLength * input.bits) + 2 * scaled.bits + blocksPerCycle * blockSize * input.bits
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: lanes * chainLength + (requantInDSP ? 1 : 0))
    }
}
