// Locates the hand-written kernel libraries (`RTL/`, `HLS/`, `sim/`) that
// generated designs instantiate and that the emitters copy into a design directory.
import Foundation

/// The LUTForge source tree: its RTL, HLS and harness libraries.
public enum Library {
    /// `$LUTFORGE_HOME` when set, else the checkout this binary was built from.
    public static var root: URL {
        if let home = ProcessInfo.processInfo.environment["LUTFORGE_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home)
        }
        // Sources/HardwareIR/Library.swift → the package root.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Text of a library file such as `RTL/lf_dsp_chain.v`.
    public static func text(_ relativePath: String) throws -> String {
        let url = root.appendingPathComponent(relativePath)
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw LibraryError(path: url.path)
        }
    }
}

/// A library file is missing: the checkout is incomplete or LUTFORGE_HOME is wrong.
public struct LibraryError: Error, CustomStringConvertible {
    /// The path looked for.
    public var path: String
    public var description: String { "\(path): LUTForge library file not found (set LUTFORGE_HOME to the LUTForge checkout)" }
}

/// Generated files: relative path → contents, emitted in path order.
public typealias FileSet = [String: String]
