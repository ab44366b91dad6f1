// `lutforge-fuzz`: libFuzzer target for the readers of user files, chosen with
// LUTFORGE_FUZZ_TARGET=onnx|npy|config. Built by scripts/fuzz.sh with
// `-sanitize=fuzzer,address -D FUZZING`; in a normal build it replays files
// instead: `lutforge-fuzz onnx FILE…` prints which were accepted.
import Foundation
import FuzzEntries

#if FUZZING
let target = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["LUTFORGE_FUZZ_TARGET"] ?? "") ?? {
    FileHandle.standardError.write(Data("set LUTFORGE_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
    exit(2)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

// SwiftPM links an executable's entry point as `<module>_main`; hand it to libFuzzer's driver.
@_cdecl("lutforge_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { bytes, size in fuzzOneInput(bytes, size) }
}
#else
@main
struct Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: lutforge-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("\(path): unreadable"); continue }
            print("\(path): \(target.run(data) ? "accepted" : "rejected")")
        }
    }
}
#endif
