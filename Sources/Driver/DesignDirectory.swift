// Writes a design directory atomically: everything goes to a temporary sibling
// that is renamed into place, so an interrupted run never leaves half an output.
import Foundation
import HardwareIR

/// An output directory could not be written.
public struct OutputError: Error, CustomStringConvertible {
    /// The directory.
    public var path: String
    /// Why.
    public var reason: String
    public var description: String { "\(path): cannot write output: \(reason)" }
}

/// Atomic creation of design directories.
public enum DesignDirectory {
    /// Replaces `path` with a directory holding exactly `files` (relative path → text).
    public static func write(_ files: FileSet, to path: String) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        let pid = ProcessInfo.processInfo.processIdentifier
        let temp = parent.appendingPathComponent(".\(name).tmp-\(pid)")
        let old = parent.appendingPathComponent(".\(name).old-\(pid)")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: temp)
            try fm.createDirectory(at: temp, withIntermediateDirectories: true)
            for (relative, text) in files.sorted(by: { $0.key < $1.key }) {
                let url = temp.appendingPathComponent(relative)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: target.path, isDirectory: &isDir) {
                guard isDir.boolValue else { throw OutputError(path: path, reason: "exists and is not a directory") }
                try fm.moveItem(at: target, to: old)
            }
            try fm.moveItem(at: temp, to: target)
            try? fm.removeItem(at: old)
        } catch let error as OutputError {
            try? fm.removeItem(at: temp)
            throw error
        } catch {
            try? fm.removeItem(at: temp)
            if fm.fileExists(atPath: old.path), !fm.fileExists(atPath: target.path) { try? fm.moveItem(at: old, to: target) }
            throw OutputError(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Writes one file inside an existing design directory via a temporary file and rename.
    public static func writeFile(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw OutputError(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
