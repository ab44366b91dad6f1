// Errors of every reader in ModelImport; each message starts with the file.

/// Why a model or data file could not be read.
public enum ImportError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The bytes are not a well-formed file of the expected format.
    case malformed(file: String, reason: String)
    /// A node uses an op, or an attribute value, LUTForge does not implement.
    case unsupported(file: String, node: String, reason: String)
    /// A tensor or attribute is present but unusable (external data, wrong type, bad shape).
    case invalidTensor(file: String, tensor: String, reason: String)
    /// The graph is structurally wrong.
    case invalidGraph(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): cannot read: \(reason)"
        case let .malformed(file, reason): "\(file): \(reason)"
        case let .unsupported(file, node, reason): "\(file): node '\(node)': \(reason)"
        case let .invalidTensor(file, tensor, reason): "\(file): tensor '\(tensor)': \(reason)"
        case let .invalidGraph(file, reason): "\(file): \(reason)"
        }
    }
}
