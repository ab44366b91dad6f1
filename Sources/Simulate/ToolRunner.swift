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

    /// `timeout`, capped by `$LUTFORGE_TOOL_TIMEOUT` (seconds) when that is set.
    static func timeLimit(_ timeout: Double) -> Double {
        guard let cap = ProcessInfo.processInfo.environment["LUTFORGE_TOOL_TIMEOUT"].flatMap(Double.init), cap > 0 else { return timeout }
        return min(timeout, cap)
    }

    /// Runs the invocation to completion and returns its combined output; throws on any failure.
    @discardableResult
    public static func run(_ inv: Invocation) throws -> String {
        guard let exe = resolve(inv.executable) else {
            throw ToolError.notFound(tool: inv.executable, hint: inv.installHint)
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lutforge-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let limit = timeLimit(inv.timeout)
        let status = try spawnAndWait(exe, inv.arguments, in: inv.workspace, log: log.path, limit: limit)
        guard let status else { throw ToolError.timedOut(command: inv.commandLine, seconds: limit) }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let tail = output.split(separator: "\n", omittingEmptySubsequences: false).suffix(15).joined(separator: "\n")
            throw ToolError.failed(command: inv.commandLine, status: status, tail: tail)
        }
        return output
    }

    /// Runs `exe` in its own process group with stdout and stderr to `log` and returns its exit
    /// status, or nil when it outlived `limit` seconds: then the whole group (make's compilers,
    /// a script's children) gets SIGTERM and, 2 s later, SIGKILL.
    static func spawnAndWait(_ exe: String, _ arguments: [String], in workspace: String, log: String, limit: Double) throws -> Int32? {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ToolError.failed(command: exe, status: -1, tail: "cannot create \(log)") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        posix_spawn_file_actions_addclose(&actions, fd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        // coreutils env changes into the workspace and execs the tool (Swift's Glibc lacks addchdir_np).
        let argv = (["/usr/bin/env", "--chdir=\(workspace)", "--", exe] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
        guard rc == 0 else { throw ToolError.failed(command: exe, status: rc, tail: String(cString: strerror(rc))) }
        ActiveGroup.enter(pid)
        defer { ActiveGroup.leave() }
        let deadline = Date().addingTimeInterval(limit)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR {
                kill(-pid, SIGKILL)
                return -1
            }
            if Date() >= deadline {
                kill(-pid, SIGTERM)
                let grace = Date().addingTimeInterval(2)
                while waitpid(pid, &status, WNOHANG) == 0 && Date() < grace { usleep(20_000) }
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return nil
            }
            usleep(5_000)
        }
        // Exit status, or 128 + signal like a shell reports it.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}

/// The process group of the tool running now. lutforge's own SIGINT/SIGTERM handler passes
/// the signal on to it, because a tool in its own group does not get the terminal's Ctrl-C.
enum ActiveGroup {
    nonisolated(unsafe) static var group: pid_t = 0
    nonisolated(unsafe) static var installed = false

    static func enter(_ pid: pid_t) {
        if !installed {
            installed = true
            for sig in [SIGINT, SIGTERM] {
                signal(sig) { received in
                    let g = ActiveGroup.group
                    if g > 0 { kill(-g, SIGTERM) }
                    _exit(128 + received)
                }
            }
        }
        group = pid
    }

    static func leave() { group = 0 }
}
