// `lutforge synth`: Yosys synthesis of a design directory, recorded in synth.json.
import Estimate
import Foundation

extension Driver {
    /// Synthesises the design's RTL and writes `synth.json`.
    public static func synthesize(_ design: String, family: Family) throws -> SynthesisReport {
        _ = try loadDesign(design)
        let report = try Synthesis.run(designDir: design, family: family)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try DesignDirectory.writeFile(try encoder.encode(report) + Data("\n".utf8), to: "\(design)/synth.json")
        return report
    }
}
