// The pass protocol, the state passes transform, the options that decide how
// each layer is lowered, and named pipelines (arrays of pass types, never strings).
@_exported import enum HardwareIR.Distance
import HardwareIR
import ModelGraph
import Quantize

/// Why a model cannot be lowered; the message names the file, the node and the reason.
public enum LoweringError: Error, CustomStringConvertible, Equatable {
    /// The model uses something LUTForge cannot map to hardware.
    case unsupported(file: String, node: String, reason: String)
    /// A width or value could not be proven to fit.
    case unprovable(file: String, node: String, reason: String)
    /// No integer realization within the widths reproduces the model's arithmetic exactly.
    case inexact(file: String, node: String, reason: String)
    /// Calibration data is missing or does not match the model.
    case calibration(file: String, reason: String)
    /// A pass broke an invariant: a LUTForge bug, reported instead of crashing.
    case internalError(file: String, pass: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupported(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .unprovable(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .inexact(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .calibration(file, reason): "\(file): calibration: \(reason)"
        case let .internalError(file, pass, reason): "\(file): internal error after pass \(pass): \(reason) (please report this)"
        }
    }
}

/// Which kernel implements a layer.
public enum KernelKind: String, Sendable, CaseIterable {
    /// Multiply-accumulate chains on DSP slices (dense, or N:M sparse).
    case dsp
    /// LUT-based vector-quantized linear layer.
    case lut
}

/// How the outliers of a dense-and-sparse layer are chosen.
public enum OutlierSelect: String, Sendable, CaseIterable {
    /// The largest-magnitude weights.
    case magnitude
    /// The weights worst reproduced by the codebooks (a first quantization decides).
    case error
}

/// Options of a LUT-linear layer (defaults follow LUT-LLM, clipped to each layer's size).
public struct LUTOptions: Sendable, Equatable {
    /// Elements per position, `v`.
    public var vectorLength = 2
    /// Activation centroids per position, `Ka`.
    public var activationCentroids = 64
    /// Weight centroids per position and column group, `Kw`.
    public var weightCentroids = 16
    /// Columns per group, `S`.
    public var groupColumns = 512
    /// Table entry width, `tbits`.
    public var tableBits = 8
    /// Distance of the centroid search.
    public var distance: Distance = .linf
    /// Centroids compared per cycle.
    public var searchLanes = 1
    /// Columns accumulated per cycle.
    public var columnLanes = 1
    /// Positions accumulated per cycle.
    public var positionLanes = 1
    /// Fraction of the layer's weights kept exactly on a sparse chain (dense-and-sparse), 0 for none.
    public var outlierFraction = 0.0
    /// How outliers are chosen.
    public var outlierSelect: OutlierSelect = .magnitude
    /// Outlier multiply-adds per column lane per cycle.
    public var outlierLanes = 1

    /// Defaults.
    public init() {}
}

/// Options of a DSP-chain layer.
public struct DSPOptions: Sendable, Equatable {
    /// Weights kept per block, `N`.
    public var kept = 4
    /// Block length, `M` (`N = M`: dense).
    public var blockSize = 4
    /// Consecutive weights pruned together (block sparsity): `N` of every `M` units of this many inputs.
    public var unit = 1
    /// Multiply-adds per lane, a multiple of `N` (default `N`: one block per cycle).
    public var chainLength: Int?
    /// Multiply-adds per group of the chain (default: the whole chain).
    public var groupSize: Int?

    /// Defaults: dense, blocks of 4.
    public init() {}

    /// Whether every weight is kept.
    public var isDense: Bool { kept == blockSize }
}

/// Everything that decides how one layer is lowered.
public struct LayerOptions: Sendable, Equatable {
    /// Kernel kind.
    public var kind: KernelKind = .dsp
    /// Output lanes of a DSP kernel (one chain each).
    public var lanes = 1
    /// DSP-chain options.
    public var dsp = DSPOptions()
    /// LUT-linear options.
    public var lut = LUTOptions()

    /// Defaults.
    public init() {}
}

/// User-chosen lowering options.
public struct LoweringOptions: Sendable {
    /// Options of every layer without an override.
    public var defaults: LayerOptions
    /// Per-layer options, by kernel name (`fc0`) or by the name of a node of the layer.
    public var perLayer: [String: LayerOptions]
    /// Float input vectors that set activation ranges and activation codebooks.
    public var calibration: [[Float]]
    /// Where the calibration vectors came from, recorded in the program.
    public var calibrationSource: String
    /// Seed of every k-means run.
    public var seed: UInt64
    /// Bits of the input quantizer LUTForge adds in front of a quantized model whose input is float.
    public var inputBits = 8

    /// Creates options.
    public init(defaults: LayerOptions = LayerOptions(), perLayer: [String: LayerOptions] = [:], calibration: [[Float]],
                calibrationSource: String, seed: UInt64 = 1) {
        self.defaults = defaults
        self.perLayer = perLayer
        self.calibration = calibration
        self.calibrationSource = calibrationSource
        self.seed = seed
    }

    /// Shorthand for dense layers with `lanes` lanes.
    public init(lanes: Int, calibration: [[Float]], calibrationSource: String) {
        var defaults = LayerOptions()
        defaults.lanes = lanes
        self.init(defaults: defaults, calibration: calibration, calibrationSource: calibrationSource)
    }

    /// The options of the layer named `name` (a kernel name) covering model nodes `nodes`.
    public func options(name: String, nodes: [String]) -> LayerOptions {
        if let o = perLayer[name] { return o }
        for node in nodes { if let o = perLayer[node] { return o } }
        return defaults
    }
}

/// How a model's values are quantized.
public enum QuantizationMode: String, Sendable {
    /// A float model: LUTForge calibrates activations and quantizes weights itself.
    case float
    /// An already-quantized model (QONNX or ONNX QDQ): its quantizers are honoured exactly.
    case quantized
}

/// Where a layout op's output really comes from: a value of the stream, seen with another shape
/// (and, after a Transpose, another element order).
public struct LayoutFact: Equatable, Sendable {
    /// The value that is streamed.
    public var source: String
    /// The logical shape (batch dimension included, as in the model).
    public var shape: [Int]
    /// `order[i]`: index in the stream of logical element `i` (nil: the same order).
    public var order: [Int]?
}

/// Everything the passes read and write, from the graph to the program.
public struct LoweringState: Sendable {
    /// The model file, for messages.
    public var file: String
    /// The imported graph.
    public var graph: Graph
    /// Options.
    public var options: LoweringOptions
    /// Float or quantized, after `classify-model`.
    public var mode: QuantizationMode = .float
    /// Static shape of every value (batch 1), after `infer-shapes`.
    public var shapes: [String: [Int]] = [:]
    /// Layout facts of the values layout ops define, after `resolve-layout`.
    public var layout: [String: LayoutFact] = [:]
    /// Observed range of every value on the calibration vectors (float models), after `calibrate-activations`.
    public var ranges: [String: ObservedRange] = [:]
    /// The lowered program, after the lowering pass.
    public var program: Program?
    /// One-line notes for the user (what was changed and why).
    public var notes: [String] = []

    /// Starts lowering `graph` read from `file`.
    public init(file: String, graph: Graph, options: LoweringOptions) {
        self.file = file
        self.graph = graph
        self.options = options
    }

    /// An unsupported-construct error at `node`.
    func unsupported(_ node: String, _ reason: String) -> LoweringError { .unsupported(file: file, node: node, reason: reason) }

    /// The streamed value behind `value` and how it is seen (identity when no layout op intervenes).
    public func resolve(_ value: String) -> LayoutFact {
        layout[value] ?? LayoutFact(source: value, shape: shapes[value] ?? [], order: nil)
    }
}

/// A lowering pass: a named transformation of the state.
public protocol Pass {
    /// `verb-noun` name.
    static var name: String { get }
    /// One line on what it does.
    static var summary: String { get }
    /// Creates the pass.
    init()
    /// Transforms the state or throws a user-facing error.
    func run(_ state: inout LoweringState) throws
}

/// Named pass sequences.
public enum Pipeline {
    /// What every model goes through before it is lowered.
    public static let prepare: [any Pass.Type] = [
        ClassifyModel.self, InferShapes.self, FoldConstants.self, ResolveLayout.self,
    ]

    /// A float model: batch norms and constant scales folded into the layers, activations
    /// calibrated, layers quantized to DSP-chain or LUT-linear kernels.
    public static let float: [any Pass.Type] = prepare + [
        CanonicalizeLinear.self, FoldBatchNorm.self, FoldScalarOps.self, CalibrateActivations.self, LowerFloatGraph.self, SizeFIFOs.self,
    ]

    /// An already-quantized model (QONNX, ONNX QDQ): integer weights taken as they are,
    /// every quantizer realized exactly by a requantizer or thresholds.
    public static let quantized: [any Pass.Type] = prepare + [
        CalibrateActivations.self, LowerQuantizedGraph.self, SizeFIFOs.self,
    ]

    /// Runs `prepare`, then the pipeline the model's mode selects, and returns the program. With
    /// `verify`, the graph is checked after every graph pass and the program after the last.
    public static func run(on state: inout LoweringState, verify: Bool = true) throws -> Program {
        for pass in prepare { try step(pass, &state, verify: verify) }
        let rest = (state.mode == .float ? float : quantized).dropFirst(prepare.count)
        for pass in rest { try step(pass, &state, verify: verify) }
        guard let program = state.program else {
            preconditionFailure("pipeline ended without a program; the last pass must produce one")
        }
        return program
    }

    /// Runs `passes` in order (tests use it to stop in the middle) and returns the program, if any.
    public static func run(_ passes: [any Pass.Type], on state: inout LoweringState, verify: Bool = true) throws -> Program? {
        for pass in passes { try step(pass, &state, verify: verify) }
        return state.program
    }

    static func step(_ pass: any Pass.Type, _ state: inout LoweringState, verify: Bool) throws {
        try pass.init().run(&state)
        guard verify else { return }
        do { try state.graph.verify() } catch {
            throw LoweringError.internalError(file: state.file, pass: pass.name, reason: "malformed graph: \(error)")
        }
        if let p = state.program {
            do { try p.verify() } catch {
                throw LoweringError.internalError(file: state.file, pass: pass.name, reason: "malformed program: \(error)")
            }
        }
    }
}
