// Analytic resource model read from HardwareIR, for Xilinx 7-series as Yosys
// `synth_xilinx -family xc7` maps it. DSP slices and block RAM are predicted
// exactly (the tests compare them with Yosys); LUTs are a structural estimate
// (checked within 25 % on the example designs), flip-flops and LUTRAM a rough one.
// Each kernel kind's logic is modelled in Kernels/<Kind>.swift.
import HardwareIR

/// Modelled resources of one kernel.
public struct KernelResources: Codable, Sendable, Equatable {
    /// Node name.
    public var name: String
    /// LUTs used as logic (LUT1–LUT6).
    public var luts: Int
    /// LUTs used as distributed RAM (input and output buffers).
    public var lutram: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// DSP slices (see each kind's model).
    public var dsp: Int
    /// 18 Kb block RAM halves (`RAMB18E1 + 2 · RAMB36E1`).
    public var bram18: Int
    /// UltraRAM blocks: LUTForge's RTL never infers UltraRAM, so always 0.
    public var uram: Int
    /// Where each read-only memory goes.
    public var memories: [MemoryPlacement]
}

/// Logic of one kernel besides its read-only memories.
public struct LogicEstimate: Sendable, Equatable {
    public var luts: Int
    public var lutram: Int
    public var flipFlops: Int
    public var dsp: Int

    public init(luts: Int, lutram: Int, flipFlops: Int, dsp: Int) {
        self.luts = luts
        self.lutram = lutram
        self.flipFlops = flipFlops
        self.dsp = dsp
    }
}

/// A kernel kind the estimator models.
public protocol ModeledKernel: KernelDefinition {
    /// LUTs, LUTRAM, flip-flops and DSP slices of its logic; its memories are placed by `XC7MemoryMapper`.
    var logic: LogicEstimate { get }
}

/// The resource model of a program.
public enum ResourceModel {
    /// LUTs and flip-flops of the top module's glue (output beat counter, TLAST).
    static let topLUTs = 6, topFlipFlops = 8

    /// Per-kernel resources.
    public static func kernels(_ program: Program) -> [KernelResources] {
        program.nodes.map { node in
            let memories = node.memories.map(XC7MemoryMapper.place)
            let logic = (node.kernel.base as? any ModeledKernel)?.logic ?? LogicEstimate(luts: 0, lutram: 0, flipFlops: 0, dsp: 0)
            return KernelResources(name: node.name, luts: memories.reduce(logic.luts) { $0 + $1.luts }, lutram: logic.lutram,
                                   flipFlops: memories.reduce(logic.flipFlops) { $0 + $1.flipFlops }, dsp: logic.dsp,
                                   bram18: memories.reduce(0) { $0 + $1.bram18 }, uram: 0, memories: memories)
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
    public static func fabricMultiplierLUTs(_ a: Int, _ b: Int) -> Int { a * b * 11 / 4 }

    /// LUTs of a distributed RAM of `words × bits` read at `readPorts` addresses: RAM64M
    /// (64 words × 3 bits, 4 LUTs) per three bits and 64 words, replicated per three read ports.
    public static func bufferLUTs(words: Int, bits: Int, readPorts: Int) -> Int {
        4 * ((words + 63) / 64) * ((bits + 2) / 3) * ((readPorts + 2) / 3)
    }

    /// Whether a signed multiply of `a × b` bits fits one DSP48E1 (25 × 18).
    public static func fitsDSP(_ a: Int, _ b: Int) -> Bool { (a <= 25 && b <= 18) || (a <= 18 && b <= 25) }

    /// Whether synthesis puts a signed `a × b` multiply (product `a + b` bits) in a DSP slice at all:
    /// Yosys' xc7 mapping (mul2dsp with DSP_A/B_MINWIDTH 2 and DSP_Y_MINWIDTH 9, after UG901's
    /// advice that multiplies of 4 × 4 and smaller belong in LUTs) leaves smaller ones in fabric.
    public static func usesDSP(_ a: Int, _ b: Int) -> Bool { a >= 2 && b >= 2 && a + b >= 9 }

    /// A small multiply left in fabric: about one LUT per partial-product bit.
    public static func smallMultiplierLUTs(_ a: Int, _ b: Int) -> Int { a * b }
}
