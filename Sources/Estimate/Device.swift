// The device database: FPGA parts and boards with their resources, off-chip
// memory bandwidth and a typical clock, read from data/devices.yaml (every
// entry names its source there).
import Foundation
import HardwareIR
import Yams

/// One FPGA device or board.
public struct Device: Codable, Sendable, Equatable {
    /// Short name used on the command line (`arty-a7-35t`).
    public var id: String
    /// Full name.
    public var name: String
    /// `AMD` or `Lattice`.
    public var vendor: String
    /// `versal`, `ultrascale-plus`, `7series` or `ice40`.
    public var family: String
    /// Vivado part, or nextpnr device and package (`up5k sg48`).
    public var part: String
    /// LUTs (6-input on AMD, 4-input on iCE40).
    public var luts: Int
    /// Flip-flops.
    public var ffs: Int
    /// DSP slices.
    public var dsps: Int
    /// DSP primitive (`DSP48E1`, `DSP48E2`, `DSP58`, `SB_MAC16`).
    public var dspKind: String
    /// 36 Kb block RAMs.
    public var bram36: Int
    /// 18 Kb block RAM halves (`2 · bram36`).
    public var bram18: Int
    /// 288 Kb UltraRAM blocks.
    public var uram: Int
    /// 4 Kb embedded block RAMs (iCE40).
    public var ebr4k: Int
    /// 256 Kb single-port RAMs (iCE40 UltraPlus).
    public var spram: Int
    /// Off-chip memory, in words.
    public var memory: String
    /// Off-chip memory bandwidth, GB/s (0 when there is none).
    public var memoryGbps: Double
    /// A typical clock for a design on this device, MHz.
    public var clockMhz: Double
    /// Where the figures come from.
    public var source: String
    /// True when every resource count was read in the cited source.
    public var verified: Bool

    enum CodingKeys: String, CodingKey {
        case id, name, vendor, family, part, luts, ffs, dsps, bram36, bram18, uram, ebr4k, spram, memory, source, verified
        case dspKind = "dsp_kind", memoryGbps = "memory_gbps", clockMhz = "clock_mhz"
    }

    /// Xilinx/AMD parts, which the xc7 resource model and vivado.tcl serve.
    public var isAMD: Bool { vendor == "AMD" }
}

/// The device database could not be read, or a device is unknown.
public struct DeviceError: Error, CustomStringConvertible {
    /// The message.
    public var message: String
    public var description: String { message }
}

/// `data/devices.yaml`.
public enum DeviceDatabase {
    /// The database file in the LUTForge checkout.
    public static var path: String { Library.root.appendingPathComponent("data/devices.yaml").path }

    /// Every device, in file order.
    public static func all() throws -> [Device] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw DeviceError(message: "\(path): device database not found (set LUTFORGE_HOME to the LUTForge checkout)")
        }
        do {
            let decoder = YAMLDecoder()
            return try decoder.decode([Device].self, from: text, userInfo: [:])
        } catch {
            throw DeviceError(message: "\(path): unreadable device database: \(error)")
        }
    }

    /// The device called `id`.
    public static func device(_ id: String) throws -> Device {
        let devices = try all()
        guard let d = devices.first(where: { $0.id == id }) else {
            throw DeviceError(message: "unknown device '\(id)' (known: \(devices.map(\.id).joined(separator: ", ")))")
        }
        return d
    }

    /// The device a design is compiled for when none is named.
    public static let defaultID = "arty-a7-35t"
}
