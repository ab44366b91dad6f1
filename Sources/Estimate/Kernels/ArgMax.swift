// Resource model of the argmax kernel (RTL/lf_argmax.v).
import HardwareIR

extension ArgMaxKernel: ModeledKernel {
    /// A comparator and the running maximum and index registers; no DSP slice.
    public var logic: LogicEstimate {
        let x = inputType.storage.bits, y = outputType.storage.bits
        return LogicEstimate(luts: 8 + x + 2 * y, lutram: 0, flipFlops: 1 + x + 2 * y, dsp: 0)
    }
}
