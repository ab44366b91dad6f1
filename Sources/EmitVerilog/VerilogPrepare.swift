// Prepare step of the Verilog backend: checks and legalises what emission needs
// (identifiers of instances and stream wires) without touching the program.
import HardwareIR

/// The program plus everything the Verilog emission prints, decided up front.
public struct PreparedVerilog: Sendable {
    /// The program, unchanged.
    public let program: Program
    /// Legal Verilog instance name per node, in program order.
    public let instanceNames: [String]
    /// Legal wire prefix per value.
    public let wireNames: [String: String]

    /// Legalises node and value names into Verilog identifiers (letters, digits, `_`; not starting with a digit).
    public init(_ program: Program) {
        self.program = program
        var used: Set<String> = ["clk", "rst", "in_valid", "in_ready", "in_data", "out_valid", "out_ready", "out_data", "out_last", "out_count"]
        func legal(_ raw: String, prefix: String) -> String {
            var name = String(raw.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
            if name.first.map({ !$0.isLetter }) ?? true { name = prefix + name }
            while used.contains(name) { name += "_" }
            used.insert(name)
            return name
        }
        instanceNames = program.nodes.map { legal($0.name, prefix: "k_") }
        var wires: [String: String] = [:]
        for value in [program.input] + program.nodes.map(\.output) { wires[value] = legal("s_" + value, prefix: "s_") }
        wireNames = wires
    }
}
