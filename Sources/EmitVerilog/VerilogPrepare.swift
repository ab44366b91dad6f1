// Prepare step of the Verilog backend: checks and legalises what emission needs
// (identifiers, file names, table images) without touching the program.
import HardwareIR

/// The program plus everything the Verilog emission prints, decided up front.
public struct PreparedVerilog: Sendable {
    /// The program, unchanged.
    public let program: Program
    /// Legal Verilog instance name per kernel.
    public let instanceNames: [String]

    /// Legalises kernel names into Verilog identifiers (letters, digits, `_`; not starting with a digit).
    public init(_ program: Program) {
        self.program = program
        var used = Set<String>()
        instanceNames = program.kernels.map { k in
            var name = String(k.name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
            if name.first.map({ !$0.isLetter }) ?? true { name = "k_" + name }
            while used.contains(name) { name += "_" }
            used.insert(name)
            return name
        }
    }
}
