// Compile options from the command line and from a YAML config file, with
// per-layer overrides. Precedence: defaults < config file < command-line flags,
// then each layer's section of the config file.
import Foundation
import Lowering
import Yams

/// A partial set of layer options: only what was given.
public struct LayerOverride: Sendable {
    public var kind: KernelKind?
    public var lanes: Int?
    public var vectorLength: Int?
    public var activationCentroids: Int?
    public var weightCentroids: Int?
    public var groupColumns: Int?
    public var tableBits: Int?
    public var distance: Distance?
    public var searchLanes: Int?
    public var columnLanes: Int?
    public var positionLanes: Int?
    public var sparsity: (kept: Int, block: Int)?
    public var outliers: Double?
    public var outlierSelect: OutlierSelect?
    public var outlierLanes: Int?
    public var chainLength: Int?
    public var groupSize: Int?
    public var sparsityUnit: Int?

    /// Nothing overridden.
    public init() {}

    /// `base` with every given field replaced.
    public func applied(to base: LayerOptions) -> LayerOptions {
        var o = base
        if let kind { o.kind = kind }
        if let lanes { o.lanes = lanes }
        if let vectorLength { o.lut.vectorLength = vectorLength }
        if let activationCentroids { o.lut.activationCentroids = activationCentroids }
        if let weightCentroids { o.lut.weightCentroids = weightCentroids }
        if let groupColumns { o.lut.groupColumns = groupColumns }
        if let tableBits { o.lut.tableBits = tableBits }
        if let distance { o.lut.distance = distance }
        if let searchLanes { o.lut.searchLanes = searchLanes }
        if let columnLanes { o.lut.columnLanes = columnLanes }
        if let positionLanes { o.lut.positionLanes = positionLanes }
        if let sparsity { (o.dsp.kept, o.dsp.blockSize) = sparsity }
        if let outliers { o.lut.outlierFraction = outliers }
        if let outlierSelect { o.lut.outlierSelect = outlierSelect }
        if let outlierLanes { o.lut.outlierLanes = outlierLanes }
        if let chainLength { o.dsp.chainLength = chainLength }
        if let groupSize { o.dsp.groupSize = groupSize }
        if let sparsityUnit { o.dsp.unit = sparsityUnit }
        return o
    }
}

/// What a config file says.
public struct ConfigFile: Sendable {
    /// Options for every layer.
    public var global = LayerOverride()
    /// Options by kernel name (`fc0`) or node name.
    public var layers: [String: LayerOverride] = [:]
    /// Calibration file, resolved against the config file's directory.
    public var calibration: String?

    static let layerKeys: Set<String> = ["kernel", "lanes", "sparsity", "sparsity_unit", "chain_length", "group_size", "v", "ka", "kw", "s", "tbits",
                                         "distance", "search_lanes", "column_lanes", "position_lanes", "outliers", "outlier_select", "outlier_lanes"]

    /// Reads and checks a config file.
    public static func read(path: String) throws -> ConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw UsageError("\(path): cannot read: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// A YAML node as plain values (String-keyed dictionaries, arrays, Int, Double, Bool, String).
    /// Yams' own `load` traps on a non-string key such as `? {a: 1}`, so the tree is walked here.
    static func plain(_ node: Node, file: String) throws -> Any {
        switch node {
        case let .scalar(scalar):
            // Numbers are parsed here: Yams traps on an overflowing sexagesimal such as 99999999999:1.
            // A value YAML 1.1 would read as base 60 (`2:4`) stays a string, which is what it means here.
            let text = scalar.string
            switch Resolver.default.resolveTag(of: node) {
            case .null: return NSNull()
            case .bool: return node.bool ?? text
            case .int: return integer(text) ?? text
            case .float: return Double(text.replacingOccurrences(of: "_", with: "")) ?? text
            default: return text
            }
        case let .mapping(mapping):
            var out: [String: Any] = [:]
            for (key, value) in mapping {
                guard case let .scalar(k) = key else { throw UsageError("\(file): keys must be plain names, not mappings or sequences") }
                out[k.string] = try plain(value, file: file)
            }
            return out
        case let .sequence(sequence):
            return try sequence.map { try plain($0, file: file) }
        case .alias:
            throw UsageError("\(file): YAML aliases are not supported")
        }
    }

    /// A YAML integer in decimal or `0x` hexadecimal, with `_` separators; nil otherwise.
    static func integer(_ text: String) -> Int? {
        var t = text.replacingOccurrences(of: "_", with: "")
        var sign = 1
        if t.hasPrefix("-") { sign = -1; t.removeFirst() } else if t.hasPrefix("+") { t.removeFirst() }
        let value: Int?
        value = t.hasPrefix("0x") ? Int(t.dropFirst(2), radix: 16) : Int(t)
        return value.flatMap { v in sign < 0 ? (v == Int.min ? nil : -v) : v }
    }

    /// Parses config text; `file` names it in messages and anchors relative paths.
    public static func parse(_ text: String, file: String) throws -> ConfigFile {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw UsageError("\(file): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        let root = try node.map { try plain($0, file: file) }
        var config = ConfigFile()
        guard let root else { return config }
        guard let top = root as? [String: Any] else { throw UsageError("\(file): the config must be a mapping of keys to values") }
        let sections: Set<String> = ["lut", "layers", "calibration"]
        for key in top.keys.sorted() where !layerKeys.contains(key) && !sections.contains(key) {
            throw UsageError("\(file): unknown key '\(key)' (known: \(layerKeys.union(sections).sorted().joined(separator: ", ")))")
        }
        // LUT options may stand at the top level or in a `lut:` section.
        var flat = top.filter { !sections.contains($0.key) }
        if let lut = top["lut"] {
            guard let section = lut as? [String: Any] else { throw UsageError("\(file): 'lut' must be a mapping") }
            for (k, v) in section {
                guard layerKeys.contains(k), !["kernel", "lanes", "sparsity", "sparsity_unit", "chain_length", "group_size"].contains(k) else {
                    throw UsageError("\(file): unknown key '\(k)' in lut")
                }
                flat[k] = v
            }
        }
        config.global = try override(flat, file: file, context: "")
        if let c = top["calibration"] {
            guard let s = c as? String, !s.isEmpty else { throw UsageError("\(file): 'calibration' must be a file path") }
            config.calibration = s.hasPrefix("/") ? s : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(s).path
        }
        if let layers = top["layers"] {
            guard let map = layers as? [String: Any] else { throw UsageError("\(file): 'layers' must map layer names to options") }
            for (name, value) in map {
                guard let section = value as? [String: Any] else { throw UsageError("\(file): layers.\(name) must be a mapping") }
                config.layers[name] = try override(section, file: file, context: " in layers.\(name)")
            }
        }
        return config
    }

    static func override(_ map: [String: Any], file: String, context: String) throws -> LayerOverride {
        var o = LayerOverride()
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = map[key] else { return nil }
            guard let i = v as? Int, range.contains(i) else {
                throw UsageError("\(file): '\(key)'\(context) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(v)")
            }
            return i
        }
        for key in map.keys.sorted() where !layerKeys.contains(key) {
            throw UsageError("\(file): unknown key '\(key)'\(context) (known: \(layerKeys.sorted().joined(separator: ", ")))")
        }
        if let k = map["kernel"] {
            guard let s = k as? String, let kind = KernelKind(rawValue: s) else {
                throw UsageError("\(file): 'kernel'\(context) must be one of \(KernelKind.allCases.map(\.rawValue).joined(separator: ", ")), got \(k)")
            }
            o.kind = kind
        }
        if let d = map["distance"] {
            guard let s = d as? String, let distance = Distance(rawValue: s) else {
                throw UsageError("\(file): 'distance'\(context) must be linf or l2, got \(d)")
            }
            o.distance = distance
        }
        if let sp = map["sparsity"] {
            guard let parsed = parseSparsity("\(sp)") else {
                throw UsageError("\(file): 'sparsity'\(context) must be dense or N:M with 1 ≤ N ≤ M, got \(sp)")
            }
            o.sparsity = parsed
        }
        if let f = map["outliers"] {
            guard let v = (f as? Double) ?? (f as? Int).map(Double.init), v >= 0, v < 1 else {
                throw UsageError("\(file): 'outliers'\(context) must be a fraction in [0, 1), got \(f)")
            }
            o.outliers = v
        }
        if let sel = map["outlier_select"] {
            guard let s = sel as? String, let v = OutlierSelect(rawValue: s) else {
                throw UsageError("\(file): 'outlier_select'\(context) must be magnitude or error, got \(sel)")
            }
            o.outlierSelect = v
        }
        o.outlierLanes = try int("outlier_lanes", 1...4096)
        o.chainLength = try int("chain_length", 1...4096)
        o.groupSize = try int("group_size", 1...4096)
        o.sparsityUnit = try int("sparsity_unit", 1...256)
        o.lanes = try int("lanes", 1...4096)
        o.vectorLength = try int("v", 1...64)
        o.activationCentroids = try int("ka", 1...65536)
        o.weightCentroids = try int("kw", 1...65536)
        o.groupColumns = try int("s", 1...1 << 20)
        o.tableBits = try int("tbits", 2...16)
        o.searchLanes = try int("search_lanes", 1...4096)
        o.columnLanes = try int("column_lanes", 1...4096)
        o.positionLanes = try int("position_lanes", 1...4096)
        return o
    }
}

/// `dense` (4:4) or `N:M` with `1 ≤ N ≤ M ≤ 256`.
public func parseSparsity(_ text: String) -> (kept: Int, block: Int)? {
    if text == "dense" { return (4, 4) }
    let parts = text.split(separator: ":")
    guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), n >= 1, n <= m, m <= 256 else { return nil }
    return (n, m)
}
