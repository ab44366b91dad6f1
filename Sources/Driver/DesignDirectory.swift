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
    /// Replaces `path` with a directory holding exactly `files` (relative path → text) and `binary` files.
    public static func write(_ files: FileSet, binary: [String: Data] = [:], to path: String) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        let pid = ProcessInfo.processInfo.processIdentifier
        let temp = parent.appendingPathComponent(".\(name).tmp-\(pid)")
        let old = parent.appendingPathComponent(".\(name).old-\(pid)")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            recover(name, in: parent)
            try? fm.removeItem(at: temp)
            try fm.createDirectory(at: temp, withIntermediateDirectories: true)
            let all = files.mapValues { Data($0.utf8) }.merging(binary) { a, _ in a }
            for (relative, data) in all.sorted(by: { $0.key < $1.key }) {
                let url = temp.appendingPathComponent(relative)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url)
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

    /// Cleans up after a writer that was killed: its temporary sibling is deleted, and if it died
    /// between moving the old directory aside and moving the new one in, the old one is put back.
    static func recover(_ name: String, in parent: URL) {
        let fm = FileManager.default
        guard let siblings = try? fm.contentsOfDirectory(atPath: parent.path) else { return }
        let target = parent.appendingPathComponent(name)
        for sibling in siblings.sorted() {
            for kind in ["tmp", "old"] where sibling.hasPrefix(".\(name).\(kind)-") {
                guard let pid = Int32(sibling.dropFirst(".\(name).\(kind)-".count)), pid != ProcessInfo.processInfo.processIdentifier,
                      kill(pid, 0) != 0, errno == ESRCH else { continue }   // still running: not ours to touch
                let url = parent.appendingPathComponent(sibling)
                if kind == "old" && !fm.fileExists(atPath: target.path) {
                    try? fm.moveItem(at: url, to: target)
                } else {
                    try? fm.removeItem(at: url)
                }
            }
        }
    }

    /// Writes one file inside an existing design directory via a temporary file and rename.
    public static func writeFile(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw OutputError(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
