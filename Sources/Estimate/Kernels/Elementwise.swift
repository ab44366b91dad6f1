// Resource model of the elementwise kernel (RTL/lf_elementwise.v).
import HardwareIR

extension ElementwiseKernel: ModeledKernel {
    /// One DSP slice per input's multiplier when the operands fit a DSP48E1 (in fabric
    /// otherwise), the round-and-clamp, control, and the frame buffers in distributed RAM.
    public var logic: LogicEstimate {
        var dsp = 0, luts = 60 + scaled.bits * (shift.bits + 1) + scaled.bits
        for t in inputTypes {
            let a = t.storage.bits + (t.storage.signed ? 0 : 1)
            if !ResourceModel.usesDSP(a, multiplier.bits) {
                luts += ResourceModel.smallMultiplierLUTs(a, multiplier.bits)
            } else if ResourceModel.fitsDSP(a, multiplier.bits) { dsp += 1 } else {
                luts += ResourceModel.fabricMultiplierLUTs(t.storage.bits, multiplier.bits)
            }
        }
        let lutram = inputTypes.reduce(0) { $0 + ResourceModel.bufferLUTs(words: count, bits: $1.storage.bits, readPorts: 1) }
            + ResourceModel.bufferLUTs(words: count, bits: outputType.storage.bits, readPorts: 1)
        let ffs = 40 + inputTypes.reduce(0) { $0 + $1.storage.bits } + 2 * scaled.bits
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: dsp)
    }
}
