// swift-tools-version:6.0
// LUTForge: quantized neural networks to bit-exact FPGA accelerators.
import PackageDescription

let package = Package(
    name: "LUTForge",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lutforge", targets: ["lutforge"]),
        .library(name: "LUTForge", targets: ["Driver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "ModelGraph"),
        .target(name: "ModelImport", dependencies: [
            "ModelGraph", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .target(name: "Quantize", dependencies: ["ModelGraph", "CFastKernels"]),
        .target(name: "HardwareIR"),
        .target(name: "CFastKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "ReferenceEngine", dependencies: ["ModelGraph", "ModelImport", "HardwareIR", "CFastKernels"]),
        .target(name: "Lowering", dependencies: ["ModelGraph", "Quantize", "HardwareIR", "ReferenceEngine"]),
        .target(name: "EmitVerilog", dependencies: ["HardwareIR"]),
        .target(name: "EmitHLS", dependencies: ["HardwareIR"]),
        .target(name: "Simulate", dependencies: ["HardwareIR"]),
        .target(name: "Estimate", dependencies: [
            "HardwareIR", "Simulate", "ReferenceEngine", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Driver", dependencies: [
            "ModelGraph", "ModelImport", "Quantize", "HardwareIR", "Lowering", "ReferenceEngine",
            "EmitVerilog", "EmitHLS", "Simulate", "Estimate", .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "lutforge", dependencies: [
            "Driver", "HardwareIR", "Lowering", "Estimate", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lutforge-bench", dependencies: ["ReferenceEngine", "HardwareIR", "Quantize", "CFastKernels"]),
        .target(name: "FuzzEntries", dependencies: ["Driver", "ModelImport", "ModelGraph"]),
        .executableTarget(name: "lutforge-fuzz", dependencies: ["FuzzEntries"]),
        .target(name: "LUTForgeTestSupport", dependencies: ["Driver", "ModelImport", "ModelGraph", "HardwareIR", "Lowering"],
                path: "Tests/LUTForgeTestSupport"),
        .testTarget(name: "ModelImportTests", dependencies: [
            "ModelImport", "ModelGraph", "LUTForgeTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "QuantizeTests", dependencies: ["Quantize", "CFastKernels"]),
        .testTarget(name: "ReferenceEngineTests", dependencies: ["ReferenceEngine", "CFastKernels", "Quantize", "HardwareIR", "ModelGraph", "ModelImport", "LUTForgeTestSupport"]),
        .testTarget(name: "LoweringTests", dependencies: ["Lowering", "HardwareIR", "ModelImport", "ReferenceEngine", "Driver", "LUTForgeTestSupport"],
                    exclude: ["Snapshots"]),
        .testTarget(name: "EmitTests", dependencies: ["EmitVerilog", "EmitHLS", "HardwareIR", "Simulate", "LUTForgeTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "Driver", "Simulate", "ReferenceEngine", "ModelImport", "HardwareIR", "Lowering", "Estimate", "ModelGraph", "Quantize",
            "LUTForgeTestSupport", "lutforge", "FuzzEntries",
        ]),
    ],
    swiftLanguageModes: [.v5]
)
