// The kernel registry: every registered kind has every side (semantics, reference
// evaluation, Verilog instance, HLS instance, cycle and resource models), each in a
// file of its own, and decodes back through the registry.
import EmitHLS
import EmitVerilog
import Estimate
import Foundation
import HardwareIR
import LUTForgeTestSupport
import ReferenceEngine
import Testing

@Suite("Kernel registry")
struct RegistryTests {
    @Test("every registered kind implements every concern, in its own files")
    func everySide() throws {
        #expect(KernelRegistry.kinds.count >= 6)
        #expect(Set(KernelRegistry.kinds.map { $0.kind }).count == KernelRegistry.kinds.count, "kind names are unique")
        for kind in KernelRegistry.kinds {
            #expect(kind is any ReferenceKernel.Type, "\(kind.kind): no reference evaluation")
            #expect(kind is any VerilogKernel.Type, "\(kind.kind): no Verilog instance")
            #expect(kind is any HLSKernel.Type, "\(kind.kind): no HLS instance")
            #expect(kind is any ModeledKernel.Type, "\(kind.kind): no resource model")
            #expect(!kind.summary.isEmpty)
            // One file per concern, named after the kind.
            let file = String(describing: kind).replacingOccurrences(of: "Kernel", with: "")
            let name = ["DSP": "DSPChain", "LUT": "LUTLinear"][file] ?? file
            for module in ["HardwareIR", "ReferenceEngine", "EmitVerilog", "EmitHLS", "Estimate"] {
                let path = "\(repositoryRoot)/Sources/\(module)/Kernels/\(name).swift"
                #expect(FileManager.default.fileExists(atPath: path), "\(path) is missing")
            }
            #expect(FileManager.default.fileExists(atPath: "\(repositoryRoot)/RTL/\((kind as! any VerilogKernel.Type).verilogModule).v"))
        }
    }

    @Test("a program with every kind round-trips through the registry's JSON and blobs, and verifies")
    func roundTrip() throws {
        let program = handBuiltGraphProgram()
        try program.verify()
        #expect(Set(program.nodes.map(\.kind)).count == 5)
        let blobs = BlobWriter(inlineLimit: 4)
        let decoded = try Program.fromJSON(try program.jsonData(blobs: blobs), blobs: ["weights.bin": blobs.data])
        #expect(decoded == program)
        var broken = String(decoding: try program.jsonData(), as: UTF8.self)
        broken = broken.replacingOccurrences(of: "\"kind\":\"threshold\"", with: "\"kind\":\"warp-drive\"")
        #expect(throws: (any Error).self) { try Program.fromJSON(Data(broken.utf8)) }
    }
}
