// Runs external tools (make, verilator, g++, simulators) with a time limit and
// turns every failure into one clear message with the command and its last lines.
import Foundation

/// An external command that could not run or did not succeed.
public enum ToolError: Error, CustomStringConvertible, Equatable {
    /// The executable is not installed.
    case notFound(tool: String, hint: String)
    /// It exited non-zero; `tail` is the end of its output.
    case failed(command: String, status: Int32, tail: String)
    /// It ran past its time limit and was killed.
    case timedOut(command: String, seconds: Double)

    public var description: String {
        switch self {
        case let .notFound(tool, hint): "\(tool): not found on PATH; \(hint)"
        case let .failed(command, status, tail): "`\(command)` failed with status \(status):\n\(tail)"
        case let .timedOut(command, seconds): "`\(command)` did not finish within \(Int(seconds)) s and was stopped"
        }
    }
}

/// One declarative invocation: which executable, with which arguments, in which workspace.
public struct Invocation: Sendable, Equatable {
    /// Executable name (looked up on PATH) or path.
    public var executable: String
    /// Arguments.
    public var arguments: [String]
    /// Working directory.
    public var workspace: String
    /// Time limit in seconds.
    public var timeout: Double
    /// Hint printed when the executable is missing.
    public var installHint: String

    /// Creates an invocation.
    public init(_ executable: String, _ arguments: [String], in workspace: String, timeout: Double, installHint: String = "run scripts/setup.sh") {
        self.executable = executable
        self.arguments = arguments
        self.workspace = workspace
        self.timeout = timeout
        self.installHint = installHint
    }

    /// Shell-like rendering for messages.
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }
}

/// Executes invocations.
public enum ToolRunner {
    /// Whether `tool` is on PATH.
    public static func available(_ tool: String) -> Bool { resolve(tool) != nil }

    static func resolve(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs the invocation to completion and returns its combined output; throws on any failure.
    @discardableResult
    public static func run(_ inv: Invocation) throws -> String {
        guard let exe = resolve(inv.executable) else {
            throw ToolError.notFound(tool: inv.executable, hint: inv.installHint)
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lutforge-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = inv.arguments
        process.currentDirectoryURL = URL(fileURLWithPath: inv.workspace)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if done.wait(timeout: .now() + inv.timeout) == .timedOut {
            process.terminate()
            if done.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL); done.wait() }
            try? handle.close()
            throw ToolError.timedOut(command: inv.commandLine, seconds: inv.timeout)
        }
        try? handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let tail = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(15).joined(separator: "\n")
            throw ToolError.failed(command: inv.commandLine, status: process.terminationStatus, tail: tail)
        }
        return output
    }
}
