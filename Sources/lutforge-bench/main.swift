// Our side of bench/run.sh: times the Swift engine's kernels and prints one JSON object;
// bench/peers.py times the peers on the same shapes and bench/report.py puts them side by side.
import CFastKernels
import Dispatch
import Foundation
import HardwareIR
import Quantize
import ReferenceEngine

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
}

/// Median of `repeats` timed runs after `warmup` untimed ones.
func median(warmup: Int, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var t: [Double] = []
    for _ in 0..<repeats { t.append(try seconds(body)) }
    t.sort()
    return t.count % 2 == 1 ? t[t.count / 2] : (t[t.count / 2 - 1] + t[t.count / 2]) / 2
}

/// The integer after `--name` in `args`, or `fallback` when absent; a value that is not an integer stops the run.
func value(_ args: [String], _ name: String, _ fallback: Int) -> Int {
    guard let i = args.firstIndex(of: name) else { return fallback }
    guard i + 1 < args.count, let v = Int(args[i + 1]) else {
        FileHandle.standardError.write("lutforge-bench: \(name) needs an integer\n".data(using: .utf8)!)
        exit(2)
    }
    return v
}

/// LUT-LLM's layer shape with random codebooks, codes and int8 tables.
func lutLayer(rows: Int, cols: Int, v: Int, ka: Int, kw: Int, s: Int) -> LUTKernel {
    var rng = SplitMix64(seed: 42)
    func random(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
    let positions = (cols + v - 1) / v, groups = (rows + s - 1) / s
    return LUTKernel(
        inputCount: cols, outputCount: rows, inputType: .vector(.int(8), cols), outputType: .vector(.int(8), rows),
        vectorLength: v, activationCentroids: ka, weightCentroids: kw, groupColumns: s, distance: .l2, distanceType: .uint(17),
        centroids: (0..<(positions * ka * v)).map { _ in random(-128, 127) },
        codes: (0..<(positions * rows)).map { _ in random(0, kw - 1) }, entry: .int(8),
        tables: (0..<(positions * groups * ka * kw)).map { _ in random(-128, 127) },
        bias: .int(8), biases: [Int](repeating: 0, count: rows), accumulator: .int(20),
        requantizers: [Requantizer](repeating: Requantizer(multiplier: 1, shift: 8), count: rows),
        multiplierShift: .uint(1), shift: .uint(4), offset: .int(9), scaled: .int(21), requantized: .int(8), table: nil,
        searchLanes: 1, columnLanes: 1, positionLanes: 1)
}

func lutGemv(_ args: [String]) throws -> [String: Any] {
    let rows = value(args, "--rows", 4096), cols = value(args, "--cols", 4096), v = value(args, "--v", 2), ka = value(args, "--ka", 64)
    let kw = value(args, "--kw", 16), s = value(args, "--s", 512), repeats = value(args, "--repeats", 21)
    let k = lutLayer(rows: rows, cols: cols, v: v, ka: ka, kw: kw, s: s)
    let layer = try FastLUTLayer(k) ?? { throw CocoaError(.featureUnsupported) }()
    var rng = SplitMix64(seed: 7)
    let x = (0..<cols).map { _ in Int(rng.next() % 256) - 128 }
    let want = try k.evaluateChecked([x], node: "bench")
    let all = ProcessInfo.processInfo.activeProcessorCount
    for t in [1, all] where try k.evaluateFast([x], layer: layer, node: "bench", threads: t) != want {
        FileHandle.standardError.write("lut-gemv: the shuffle loop differs from the interpreter on \(t) thread(s)\n".data(using: .utf8)!)
        exit(1)
    }
    // Batch-1 decoding reads each layer once per token, from DRAM: the timed runs rotate over
    // copies of the layer whose codes together exceed 64 MiB (twice this machine's L3), so
    // no run finds its layer in cache. The cache-resident figure (one layer) is kept beside it.
    let codeBytes = k.positions * rows / 2
    let copies = max(1, value(args, "--copies", ((64 << 20) + codeBytes - 1) / codeBytes))
    let layers = [layer] + (1..<copies).map { _ in FastLUTLayer(k)! }
    func rotating(_ threads: Int) throws -> Double {
        var i = 0
        return try median(warmup: copies, repeats: max(repeats, 2 * copies)) {
            _ = try k.evaluateFast([x], layer: layers[i % copies], node: "bench", threads: threads); i += 1
        }
    }
    let fast1 = try rotating(1), fastAll = try rotating(all)
    let resident = try median(warmup: 3, repeats: repeats) { _ = try k.evaluateFast([x], layer: layer, node: "bench", threads: 1) }
    let checked = try median(warmup: 1, repeats: 3) { _ = try k.evaluateChecked([x], node: "bench") }
    // Bytes a batch-1 pass must read: 4-bit codes, one 16-entry int8 row per position and
    // group, the int8 centroids.
    let positions = k.positions
    let bytes = positions * rows / 2 + positions * k.groups * 16 + positions * ka * v
    let bandwidth = lf_copy_bandwidth(256 << 20, 10)
    return ["rows": rows, "cols": cols, "v": v, "ka": ka, "kw": kw, "s": s, "threads": all, "loop": FastLUTLayer.loop,
            "seconds_1": fast1, "seconds_all": fastAll, "seconds_checked_1": checked, "seconds_resident_1": resident, "copies": copies,
            "bytes": bytes, "copy_bandwidth": bandwidth, "roofline_seconds": Double(bytes) / bandwidth]
}

func kmeans(_ args: [String]) -> [String: Any] {
    let n = value(args, "--n", 1_000_000), k = value(args, "--k", 256), d = value(args, "--d", 2), problems = value(args, "--problems", 1)
    let iterations = value(args, "--iterations", 20), repeats = value(args, "--repeats", 3)
    var rng = SplitMix64(seed: 3)
    let batch = (0..<problems).map { _ in KMeansProblem(points: (0..<(n * d)).map { _ in rng.nextUnit() * 2 - 1 }, dimension: d, k: k) }
    let t = median(warmup: 0, repeats: repeats) {
        _ = problems == 1 ? [KMeans.cluster(batch[0], seed: 1, iterations: iterations)] : KMeans.cluster(batch, seed: 1, iterations: iterations)
    }
    return ["n": n, "k": k, "d": d, "problems": problems, "iterations": iterations, "seconds": t,
            "threads": ProcessInfo.processInfo.activeProcessorCount]
}

let args = Array(CommandLine.arguments.dropFirst())
let result: [String: Any]
switch args.first {
case "lut-gemv": result = try lutGemv(args)
case "kmeans": result = kmeans(args)
default:
    FileHandle.standardError.write("usage: lutforge-bench lut-gemv|kmeans [--name value ...]\n".data(using: .utf8)!)
    exit(2)
}
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
