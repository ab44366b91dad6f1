// Resource model of the DSP-chain kernel (RTL/lf_dsp_chain.v).
import HardwareIR

extension DSPKernel: ModeledKernel {
    /// One DSP slice per multiply-add of every lane's chain (`lanes · chainLength`) unless the
    /// multiplies are too small for one (`ResourceModel.usesDSP`), plus the shared requantizer's
    /// multiplier while it fits one (in fabric otherwise).
    public var logic: LogicEstimate {
        // A one-bit M (raw accumulators) is a gate in RTL, not a multiplier.
        let requantMultiplies = multiplier.bits > 1
        let requantInDSP = requantMultiplies && accumulator.bits <= 25 && multiplier.bits <= 17
        // Control and emit (~40), per lane its accumulator, chain adders and lane mux,
        // the N-of-M input selects of sparse chains, the input-window read, and the
        // requantizer's rounding shift, offset add and clamp (≈ scaled bits × (shift bits + 1)).
        let sparseSelect = kept < blockSize ? lanes * chainLength * input.bits * (blockSize - 1) / 4 : 0
        let window = blocksPerCycle * blockSize * input.bits * ((inputCount + 63) / 64)
        // Each multiply is weight × (input + sign bit); small ones stay in LUTs.
        let (a, b) = (weight.bits, input.bits + 1)
        let macInDSP = ResourceModel.usesDSP(a, b)
        let luts = 40 + lanes * (chainLength * 8 + accumulator.bits) + sparseSelect + window
            + scaled.bits * (shift.bits + 1) + (requantInDSP || !requantMultiplies ? 0 : ResourceModel.fabricMultiplierLUTs(accumulator.bits, multiplier.bits))
            + (macInDSP ? 0 : lanes * chainLength * ResourceModel.smallMultiplierLUTs(a, b))
        let lutram = ResourceModel.bufferLUTs(words: inputCount, bits: input.bits, readPorts: blocksPerCycle * blockSize)
            + lanes * ResourceModel.bufferLUTs(words: passes, bits: output.bits, readPorts: 1)
        let ffs = 60 + lanes * (accumulator.bits + chainLength * input.bits) + 2 * scaled.bits + blocksPerCycle * blockSize * input.bits
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: (macInDSP ? lanes * chainLength : 0) + (requantInDSP ? 1 : 0))
    }
}
