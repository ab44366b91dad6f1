// Analytic resource model read from HardwareIR: what each kernel needs, to be
// checked against Yosys (DSP exactly; LUT, FF and BRAM models come later).
import HardwareIR

/// Modelled resources of one kernel.
public struct KernelResources: Codable, Sendable, Equatable {
    /// Kernel name.
    public var name: String
    /// DSP slices: one per multiply-add of every lane's chain (`lanes · chainLength`) plus
    /// the kernel's shared requantizer multiplier (one, when the accumulator fits 25 bits;
    /// in fabric otherwise), and for a LUT-linear kernel one per outlier multiply-add
    /// (`columnLanes · outlierLanes`; its M2 multipliers are in fabric). Table lookups use none.
    public var dsp: Int
}

/// The resource model of a program.
public enum ResourceModel {
    /// Per-kernel resources.
    public static func kernels(_ program: Program) -> [KernelResources] {
        program.kernels.map { kernel in
            switch kernel {
            // The requantizer shared by the lanes is one DSP48 while the accumulator fits its 25-bit port.
            case let .dsp(k): KernelResources(name: k.name, dsp: k.lanes * k.chainLength + (k.accumulator.bits <= 25 ? 1 : 0))
            case let .lut(k): KernelResources(name: k.name, dsp: k.columnLanes * (k.outliers?.lanes ?? 0))
            }
        }
    }

    /// DSP slices of the whole design.
    public static func dsp(_ program: Program) -> Int { kernels(program).reduce(0) { $0 + $1.dsp } }
}
