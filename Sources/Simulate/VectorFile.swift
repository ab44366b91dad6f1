// The plain-text vector format the harnesses read and write: a header line
// "<vectors> <width>", then one vector of decimal integers per line.
import Foundation

/// Reader and writer of harness vector files.
public enum VectorFile {
    /// Text of `vectors`, each of length `width`.
    public static func encode(_ vectors: [[Int]], width: Int) -> String {
        var s = "\(vectors.count) \(width)\n"
        for v in vectors { s += v.map(String.init).joined(separator: " ") + "\n" }
        return s
    }

    /// Parses vector text; `file` names it in messages.
    public static func decode(_ text: String, file: String) throws -> [[Int]] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { throw SimulationError.badOutput(file: file, reason: "empty") }
        let header = lines.removeFirst().split(separator: " ").compactMap { Int($0) }
        guard header.count == 2, header[0] == lines.count else {
            throw SimulationError.badOutput(file: file, reason: "header says \(header) but \(lines.count) vectors follow")
        }
        return try lines.enumerated().map { i, line in
            let v = line.split(separator: " ").compactMap { Int($0) }
            guard v.count == header[1] else {
                throw SimulationError.badOutput(file: file, reason: "vector \(i) has \(v.count) values, expected \(header[1])")
            }
            return v
        }
    }
}

/// A simulation that ran but whose results are unusable.
public enum SimulationError: Error, CustomStringConvertible, Equatable {
    /// An output file is missing or malformed.
    case badOutput(file: String, reason: String)
    /// The simulator printed a warning, which LUTForge treats as a failure.
    case warning(simulator: String, line: String)
    /// A required support file is missing.
    case missingSupport(path: String, hint: String)

    public var description: String {
        switch self {
        case let .badOutput(file, reason): "\(file): \(reason)"
        case let .warning(sim, line): "\(sim): simulation warning treated as an error: \(line)"
        case let .missingSupport(path, hint): "\(path): not found; \(hint)"
        }
    }
}
