// Resource model of the LUT-linear kernel (RTL/lf_lut_linear.v).
import HardwareIR

extension LUTKernel: ModeledKernel {
    /// Table lookups use no DSP slice; the outlier multiply-adds of dense-and-sparse layers
    /// use one each (`columnLanes · outlierLanes`; their M2 multipliers are in fabric).
    public var logic: LogicEstimate {
        // Control and emit (~250), the distance units of the search lanes, per column and
        // position lane the Kw:1 entry select and its accumulator, the requantizer shift,
        // and with outliers the N_IN:1 input select per outlier lane and the M2 fabric multiplier.
        var luts = 250 + 3 * searchLanes * vectorLength * input.bits
            + columnLanes * positionLanes * (entry.bits * weightCentroids / 3 + accumulator.bits)
            + scaled.bits * (shift.bits + 1)
        if let o = outliers {
            luts += columnLanes * o.lanes * input.bits * ((inputCount + 2) / 3)
                + columnLanes * ResourceModel.fabricMultiplierLUTs(o.accumulator.bits, o.multiplier.bits)
        }
        let lutram = ResourceModel.bufferLUTs(words: inputCount, bits: input.bits, readPorts: vectorLength)
            + columnLanes * ResourceModel.bufferLUTs(words: passes, bits: output.bits, readPorts: 1)
        let ffs = 200 + searchLanes * vectorLength * (input.bits + distanceType.bits)
            + columnLanes * positionLanes * (accumulator.bits + weightCentroids * entry.bits / 4)
            + 2 * scaled.bits
        return LogicEstimate(luts: luts, lutram: lutram, flipFlops: ffs, dsp: columnLanes * (outliers?.lanes ?? 0))
    }
}
