// The LUT-based vector-quantized linear kernel (after LUT-LLM): nearest-centroid
// search over the activations, then 2-D table lookups and additions; no multiplier.

/// How a sub-vector's distance to a centroid is measured.
public enum Distance: String, Codable, Hashable, Sendable, CaseIterable {
    /// L∞: `max_j |x_j − c_j|` (LUT-LLM's choice; adders and comparators only).
    case linf
    /// Squared L2: `Σ_j (x_j − c_j)²`.
    case l2
}

/// The outlier weights of a dense-and-sparse LUT layer (after SqueezeLLM): a few
/// weights kept exactly in int8 on a sparse multiply-add chain beside the tables.
public struct OutlierChain: Codable, Hashable, Sendable {
    /// Stored (value, index) pairs per output column (rows with fewer are zero-padded).
    public var count: Int
    /// Multiply-adds per column lane per cycle.
    public var lanes: Int
    /// Values, `[outputCount][count]`.
    public var values: [Int]
    /// Input indices, `[outputCount][count]`, each in `0..<inputCount`.
    public var indices: [Int]
    /// Weight type.
    public var weight: IntType
    /// Accumulator type of `Σ value · x[index]`, proven.
    public var accumulator: IntType
    /// Per-column multiplier `M2` of the outlier accumulator in the requantizer.
    public var multipliers: [Int]
    /// Type of `M2` (unsigned).
    public var multiplier: IntType

    /// Creates a chain; Lowering is the only producer.
    public init(count: Int, lanes: Int, values: [Int], indices: [Int], weight: IntType, accumulator: IntType,
                multipliers: [Int], multiplier: IntType) {
        self.count = count
        self.lanes = lanes
        self.values = values
        self.indices = indices
        self.weight = weight
        self.accumulator = accumulator
        self.multipliers = multipliers
        self.multiplier = multiplier
    }

    /// Cycles per pass: `ceil(count / lanes)`.
    public var cycles: Int { (count + lanes - 1) / lanes }
}

/// A LUT-linear layer with its codebooks, tables and proven widths.
///
/// Input `x` (zero-padded to `positions · vectorLength`) is split into positions of
/// `vectorLength` elements; each picks its nearest activation centroid `a_p`; output
/// column `n` in group `g = n / groupColumns` accumulates `T[p][g][a_p][code[p][n]]`.
public struct LUTKernel: Codable, Hashable, Sendable {
    /// Identifier used for generated names.
    public var name: String
    /// The model nodes this kernel implements.
    public var sourceNodes: [String]
    /// Input vector length (before padding).
    public var inputCount: Int
    /// Output vector length.
    public var outputCount: Int
    /// Input element type; centroids have this type too.
    public var input: IntType
    /// Elements per position, `v`.
    public var vectorLength: Int
    /// Activation centroids per position, `Ka`.
    public var activationCentroids: Int
    /// Weight centroids per (position, group), `Kw`.
    public var weightCentroids: Int
    /// Columns per group, `S` (a multiple of `columnLanes`).
    public var groupColumns: Int
    /// Distance of the centroid search.
    public var distance: Distance
    /// Type of a distance value (unsigned), proven.
    public var distanceType: IntType
    /// Activation centroids, `[positions][Ka][v]`.
    public var centroids: [Int]
    /// Weight codes, `[positions][outputCount]`, each in `0..<Kw`.
    public var codes: [Int]
    /// Table entry type (signed `tbits`).
    public var entry: IntType
    /// Tables, `[positions][groups][Ka][Kw]`.
    public var tables: [Int]
    /// Bias type.
    public var bias: IntType
    /// Per-column bias at accumulator scale.
    public var biases: [Int]
    /// Accumulator type, proven to hold `bias + Σ_p T` for every input.
    public var accumulator: IntType
    /// Per-column requantizer; every multiplier is a power of two `2^L`, so the
    /// datapath shifts left by `L` instead of multiplying. With outliers the
    /// requantizer adds `acc_outlier · M2` before the shift.
    public var requantizers: [Requantizer]
    /// Type of `L = log2(multiplier)`.
    public var multiplierShift: IntType
    /// Type of the right shift `S`.
    public var shift: IntType
    /// Type of `acc·2^L (+ acc_outlier·M2) + half`.
    public var scaled: IntType
    /// Type the requantizer clamps to.
    public var requantized: IntType
    /// Optional table after requantization.
    public var table: ActivationTable?
    /// Outlier weights on a sparse chain (dense-and-sparse), if any.
    public var outliers: OutlierChain?
    /// Centroids compared per cycle.
    public var searchLanes: Int
    /// Output columns accumulated per cycle.
    public var columnLanes: Int
    /// Positions accumulated per cycle.
    public var positionLanes: Int
    /// Real value of one input step.
    public var inputScale: Double
    /// Real value of one output step.
    public var outputScale: Double
    /// Cycle schedule.
    public var schedule: KernelSchedule

    /// Creates a kernel; Lowering is the only producer.
    public init(name: String, sourceNodes: [String], inputCount: Int, outputCount: Int, input: IntType,
                vectorLength: Int, activationCentroids: Int, weightCentroids: Int, groupColumns: Int,
                distance: Distance, distanceType: IntType, centroids: [Int], codes: [Int], entry: IntType,
                tables: [Int], bias: IntType, biases: [Int], accumulator: IntType, requantizers: [Requantizer],
                multiplierShift: IntType, shift: IntType, scaled: IntType, requantized: IntType, table: ActivationTable?,
                outliers: OutlierChain? = nil, searchLanes: Int, columnLanes: Int,
                positionLanes: Int, inputScale: Double, outputScale: Double, schedule: KernelSchedule) {
        self.name = name
        self.sourceNodes = sourceNodes
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.input = input
        self.vectorLength = vectorLength
        self.activationCentroids = activationCentroids
        self.weightCentroids = weightCentroids
        self.groupColumns = groupColumns
        self.distance = distance
        self.distanceType = distanceType
        self.centroids = centroids
        self.codes = codes
        self.entry = entry
        self.tables = tables
        self.bias = bias
        self.biases = biases
        self.accumulator = accumulator
        self.requantizers = requantizers
        self.multiplierShift = multiplierShift
        self.shift = shift
        self.scaled = scaled
        self.requantized = requantized
        self.table = table
        self.outliers = outliers
        self.searchLanes = searchLanes
        self.columnLanes = columnLanes
        self.positionLanes = positionLanes
        self.inputScale = inputScale
        self.outputScale = outputScale
        self.schedule = schedule
    }

    /// Positions `P = ceil(inputCount / v)`.
    public var positions: Int { (inputCount + vectorLength - 1) / vectorLength }
    /// Column groups `G = ceil(outputCount / S)`.
    public var groups: Int { (outputCount + groupColumns - 1) / groupColumns }
    /// Output element type.
    public var output: IntType { table?.output ?? requantized }
    /// `L` of column `n`'s multiplier `2^L`.
    public func multiplierShift(_ n: Int) -> Int { requantizers[n].multiplier.trailingZeroBitCount }
    /// Width of a centroid index.
    public var indexBits: Int { max(1, Int.bitWidth - (activationCentroids - 1).leadingZeroBitCount) }
    /// Width of a weight code.
    public var codeBits: Int { max(1, Int.bitWidth - (weightCentroids - 1).leadingZeroBitCount) }

    /// Element `e` of activation centroid `k` at position `p`.
    public func centroid(_ p: Int, _ k: Int, _ e: Int) -> Int { centroids[(p * activationCentroids + k) * vectorLength + e] }
    /// Weight code of column `n` at position `p`.
    public func code(_ p: Int, _ n: Int) -> Int { codes[p * outputCount + n] }
    /// Table entry `T[p][g][k][w]`.
    public func entry(_ p: Int, _ g: Int, _ k: Int, _ w: Int) -> Int {
        tables[((p * groups + g) * activationCentroids + k) * weightCentroids + w]
    }
}

extension LUTKernel {
    /// Column passes: `ceil(outputCount / columnLanes)`; every pass lies in one group.
    public var passes: Int { (outputCount + columnLanes - 1) / columnLanes }
    /// Position blocks: `ceil(positions / positionLanes)`.
    public var positionBlocks: Int { (positions + positionLanes - 1) / positionLanes }
    /// Search blocks per position: `ceil(Ka / searchLanes)`.
    public var searchBlocks: Int { (activationCentroids + searchLanes - 1) / searchLanes }
    /// Width of an outlier's input index.
    public var outlierIndexBits: Int { max(1, Int.bitWidth - (inputCount - 1).leadingZeroBitCount) }
    /// Rows in each position lane's table memory: `positionBlocks · groups · Ka`.
    public var tableDepth: Int { positionBlocks * groups * activationCentroids }
    /// Address width of a table memory (at least the centroid index width).
    public var tableAddressBits: Int { max(1, Int.bitWidth - (tableDepth - 1).leadingZeroBitCount, indexBits) }
}
