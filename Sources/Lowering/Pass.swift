// The pass protocol, the state passes transform, and named pipelines (arrays of
// pass types, never strings).
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
    /// Calibration data is missing or does not match the model.
    case calibration(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupported(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .unprovable(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .calibration(file, reason): "\(file): calibration: \(reason)"
        }
    }
}

/// Which kernel implements a layer.
public enum KernelKind: String, Sendable, CaseIterable {
    /// Multiply-accumulate on DSP lanes (dense today; N:M sparse chains later).
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

    /// The options of `layer`.
    public func options(for layer: LinearLayer) -> LayerOptions {
        if let o = perLayer[layer.name] { return o }
        for node in layer.nodes { if let o = perLayer[node] { return o } }
        return defaults
    }
}

/// What a float linear layer does after its matrix product.
public enum LayerActivation: String, Equatable, Sendable {
    case none, relu, sigmoid
}

/// A fully connected layer recovered from the graph: `act(W·x + b)`.
public struct LinearLayer: Equatable, Sendable {
    /// Kernel name (`fc0`, …).
    public var name: String
    /// Graph nodes it covers.
    public var nodes: [String]
    /// Weights as rows, `[outputs][inputs]`.
    public var weight: [[Float]]
    /// Bias per output.
    public var bias: [Float]
    /// Activation after the bias.
    public var activation: LayerActivation
    /// Graph value holding `W·x + b`.
    public var preActivationValue: String
    /// Graph value holding the layer's output.
    public var outputValue: String

    /// Inputs.
    public var inputCount: Int { weight.first?.count ?? 0 }
    /// Outputs.
    public var outputCount: Int { weight.count }
}

/// Calibrated ranges of one layer.
public struct LayerRanges: Equatable, Sendable {
    /// Range of `W·x + b`.
    public var preActivation: ObservedRange
    /// Range of the layer output.
    public var output: ObservedRange
}

/// Everything the passes read and write, from the graph to the program.
public struct LoweringState: Sendable {
    /// The model file, for messages.
    public var file: String
    /// The imported graph.
    public var graph: Graph
    /// Options.
    public var options: LoweringOptions
    /// Linear layers, after `ExtractLinearChain`.
    public var layers: [LinearLayer] = []
    /// Name of a final Softmax that was dropped, if any.
    public var finalSoftmax: String?
    /// Range of the model input, after `CalibrateActivations`.
    public var inputRange: ObservedRange?
    /// Per-layer ranges, after `CalibrateActivations`.
    public var ranges: [LayerRanges] = []
    /// The lowered program, after `LowerLayers`.
    public var program: Program?
    /// One-line notes for the user (what was changed and why).
    public var notes: [String] = []

    /// Starts lowering `graph` read from `file`.
    public init(file: String, graph: Graph, options: LoweringOptions) {
        self.file = file
        self.graph = graph
        self.options = options
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
    /// ONNX MLP to dense int8 or LUT-linear kernels, per layer.
    public static let mlp: [any Pass.Type] = [
        ExtractLinearChain.self, CalibrateActivations.self, LowerLayers.self,
    ]

    /// Runs `passes` in order and returns the program.
    public static func run(_ passes: [any Pass.Type], on state: inout LoweringState) throws -> Program {
        for pass in passes { try pass.init().run(&state) }
        guard let program = state.program else {
            preconditionFailure("pipeline ended without a program; the last pass must produce one")
        }
        return program
    }
}
