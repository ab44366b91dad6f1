// `lutforge run`: the bit-exact Swift engine on a batch of inputs.
import Foundation
import HardwareIR
import ModelImport
import ReferenceEngine

extension Driver {
    /// Output integers of the design (a directory) or of a model compiled with default options in memory.
    public static func runEngine(target: String, inputs: String) throws -> [[Int]] {
        var isDir: ObjCBool = false
        let program: Program
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDir), isDir.boolValue {
            program = try loadDesign(target)
        } else {
            program = try lower(CompileOptions(model: target, output: ""))
        }
        let outputs = try IntegerEngine.run(program, batch: inputVectors(inputs, program: program).vectors)
        guard let layout = program.layouts[program.output] else { return outputs }
        return outputs.map(layout.toModel)
    }

    /// Writes integer vectors as an int64 `.npy`.
    public static func writeOutputs(_ rows: [[Int]], to path: String) throws {
        let width = rows.first?.count ?? 0
        let array = NPYArray(shape: [rows.count, width], dtype: .int64, values: rows.flatMap { $0.map(Double.init) })
        try DesignDirectory.writeFile(NPY.encode(array), to: path)
    }
}

extension Driver {
    /// `--checked`: the Swift engine keeps every kernel on its interpreter loop instead of the
    /// packed SIMD loops (ReferenceEngine/FastLUT.swift); the integers are the same.
    public static var checkedEngine: Bool {
        get { IntegerEngine.checked }
        set { IntegerEngine.checked = newValue }
    }
}
