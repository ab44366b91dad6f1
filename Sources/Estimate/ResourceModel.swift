// Analytic resource model read from HardwareIR, for Xilinx 7-series as Yosys
// `synth_xilinx -family xc7` maps it. DSP slices and block RAM are predicted
// exactly (the tests compare them with Yosys); LUTs are a structural estimate
// (checked within 25 % on the example designs), flip-flops and LUTRAM a rough one.
import HardwareIR

/// Modelled resources of one kernel.
public struct KernelResources: Codable, Sendable, Equatable {
    /// Kernel name.
    public var name: String
    /// LUTs used as logic (LUT1–LUT6).
    public var luts: Int
    /// LUTs used as distributed RAM (input and output buffers).
    public var lutram: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// DSP slices: one per multiply-add of every lane's chain (`lanes · chainLength`) plus
    /// the kernel's shared requantizer multiplier (one, when the accumulator fits its 25-bit
    /// port; in fabric otherwise), and for a LUT-linear kernel one per outlier multiply-add
    /// (`columnLanes · outlierLanes`; its M2 multipliers are in fabric). Table lookups use none.
    public var dsp: Int
    /// 18 Kb block RAM halves (`RAMB18E1 + 2 · RAMB36E1`).
    public var bram18: Int
    /// UltraRAM blocks: LUTForge's RTL never infers UltraRAM, so always 0.
    public var uram: Int
    /// Where each read-only memory goes.
    public var memories: [MemoryPlacement]
}

/// The resource model of a program.
public enum ResourceModel {
    /// LUTs and flip-flops of the top module's glue (output beat counter, TLAST).
    static let topLUTs = 6, topFlipFlops = 8

    /// Per-kernel resources.
    public static func kernels(_ program: Program) -> [KernelResources] {
        program.kernels.map { kernel in
            let memories = kernel.memories.map(XC7MemoryMapper.place)
            let romLUTs = memories.reduce(0) { $0 + $1.luts }, romFFs = memories.reduce(0) { $0 + $1.flipFlops }
            let bram = memories.reduce(0) { $0 + $1.bram18 }
            var r = KernelResources(name: kernel.name, luts: romLUTs, lutram: 0, flipFlops: romFFs, dsp: 0, bram18: bram,
                                    uram: 0, memories: memories)
            switch kernel {
            case let .dsp(k):
                r.dsp = k.lanes * k.chainLength + (k.accumulator.bits <= 25 ? 1 : 0)
                // Control and emit (~40), per lane its accumulator, chain adders and lane mux,
                // the N-of-M input selects of sparse chains, the input-window read, and the
                // requantizer's rounding shift and clamp (≈ scaled bits × (shift bits + 1)).
                let sparseSelect = k.kept < k.blockSize ? k.lanes * k.chainLength * k.input.bits * (k.blockSize - 1) / 4 : 0
                let window = k.blocksPerCycle * k.blockSize * k.input.bits * ((k.inputCount + 63) / 64)
                r.luts += 40 + k.lanes * (k.chainLength * 8 + k.accumulator.bits) + sparseSelect + window
                    + k.scaled.bits * (k.shift.bits + 1) + (k.accumulator.bits <= 25 ? 0 : fabricMultiplierLUTs(k.accumulator.bits, k.multiplier.bits))
                r.lutram = bufferLUTs(words: k.inputCount, bits: k.input.bits, readPorts: k.blocksPerCycle * k.blockSize)
                    + k.lanes * bufferLUTs(words: k.passes, bits: k.output.bits, readPorts: 1)
                r.flipFlops += 60 + k.lanes * (k.accumulator.bits + k.chainLength * k.input.bits)
                    + 2 * k.scaled.bits + k.blocksPerCycle * k.blockSize * k.input.bits
            case let .lut(k):
                r.dsp = k.columnLanes * (k.outliers?.lanes ?? 0)
                // Control and emit (~250), the distance units of the search lanes, per column and
                // position lane the Kw:1 entry select and its accumulator, the requantizer shift,
                // and with outliers the N_IN:1 input select per outlier lane and the M2 fabric multiplier.
                r.luts += 250 + 3 * k.searchLanes * k.vectorLength * k.input.bits
                    + k.columnLanes * k.positionLanes * (k.entry.bits * k.weightCentroids / 3 + k.accumulator.bits)
                    + k.scaled.bits * (k.shift.bits + 1)
                if let o = k.outliers {
                    r.luts += k.columnLanes * o.lanes * k.input.bits * ((k.inputCount + 2) / 3)
                        + k.columnLanes * fabricMultiplierLUTs(o.accumulator.bits, o.multiplier.bits)
                }
                r.lutram = bufferLUTs(words: k.inputCount, bits: k.input.bits, readPorts: k.vectorLength)
                    + k.columnLanes * bufferLUTs(words: k.passes, bits: k.output.bits, readPorts: 1)
                r.flipFlops += 200 + k.searchLanes * k.vectorLength * (k.input.bits + k.distanceType.bits)
                    + k.columnLanes * k.positionLanes * (k.accumulator.bits + k.weightCentroids * k.entry.bits / 4)
                    + 2 * k.scaled.bits
            }
            return r
        }
    }

    /// Whole-design totals (with the top module's glue).
    public static func total(_ program: Program) -> KernelResources {
        let ks = kernels(program)
        return KernelResources(
            name: "total", luts: ks.reduce(topLUTs) { $0 + $1.luts }, lutram: ks.reduce(0) { $0 + $1.lutram },
            flipFlops: ks.reduce(topFlipFlops) { $0 + $1.flipFlops }, dsp: ks.reduce(0) { $0 + $1.dsp },
            bram18: ks.reduce(0) { $0 + $1.bram18 }, uram: 0, memories: [])
    }

    /// DSP slices of the whole design.
    public static func dsp(_ program: Program) -> Int { kernels(program).reduce(0) { $0 + $1.dsp } }

    /// A multiplier of `a × b` bits built from LUTs and carry chains.
    static func fabricMultiplierLUTs(_ a: Int, _ b: Int) -> Int { a * b * 11 / 4 }

    /// LUTs of a distributed RAM of `words × bits` read at `readPorts` addresses: RAM64M
    /// (64 words × 3 bits, 4 LUTs) per three bits and 64 words, replicated per three read ports.
    static func bufferLUTs(words: Int, bits: Int, readPorts: Int) -> Int {
        4 * ((words + 63) / 64) * ((bits + 2) / 3) * ((readPorts + 2) / 3)
    }
}
