// The LUT-linear layer packed for the CPU's byte shuffles (CFastKernels): codes four bits
// each in 32-column blocks, table rows of 16 int8 entries. Same integers as the checked
// loop in Kernels/LUTLinear.swift; `--checked` (IntegerEngine.checked) keeps that loop.
import CFastKernels
import Foundation
import HardwareIR

/// A buffer the C loops read and write directly, freed with its owner.
final class CBuffer<T> {
    let base: UnsafeMutablePointer<T>, count: Int
    init(_ values: [T]) {
        count = values.count
        base = .allocate(capacity: max(1, count))
        base.initialize(from: values, count: count)
    }
    init(zeros count: Int, _ zero: T) { self.count = count; base = .allocate(capacity: max(1, count)); base.initialize(repeating: zero, count: count) }
    deinit { base.deinitialize(count: count); base.deallocate() }
}

/// A LUT-linear kernel's tables and codes in the shuffle loop's layout.
public final class FastLUTLayer: @unchecked Sendable {
    let positions: Int, vectorLength: Int, centroidCount: Int, groups: Int, outputCount: Int
    /// Positions rounded up to even: the AVX2 loop takes two per step (the extra one has
    /// zero codes and a zero row).
    let padded: Int
    let linf: Bool
    /// Row-major `[positions][Ka][v]`, or transposed `[positions][v][kap]` when `search32`.
    let centroids: CBuffer<Int32>
    /// Distances provably fit int32, so the SIMD search runs on the transposed centroids.
    public let search32: Bool
    let paddedCentroids: Int
    /// `[positions][Ka][groups][16]`, rows padded with zeros beyond Kw.
    let tables: CBuffer<Int8>
    /// `[blocks][padded][16]`: byte j of a block's position holds columns j and 16 + j.
    let codes: CBuffer<UInt8>
    let blockGroup: CBuffer<Int32>
    /// Column of each block's first lane; lanes past the group's end are padding.
    let blockColumn: [Int]
    let blockWidth: [Int]

    /// Why `kernel` cannot take the shuffle loop, or nil when it can.
    public static func ineligibility(_ k: LUTKernel) -> String? {
        if k.weightCentroids > 16 { return "Kw = \(k.weightCentroids) > 16 (codes wider than 4 bits)" }
        if k.entry.min < -128 || k.entry.max > 127 { return "table entries of type \(k.entry) are wider than int8" }
        if k.input.min < Int(Int32.min) || k.input.max > Int(Int32.max) { return "inputs of type \(k.input) are wider than int32" }
        // int32 partial sums: every position adds at most 128 in magnitude.
        if k.positions > (Int(Int32.max) / 128) { return "\(k.positions) positions overflow an int32 partial sum" }
        return nil
    }

    /// Packs `k`; nil when it cannot take the shuffle loop (see `ineligibility`).
    public init?(_ k: LUTKernel) {
        guard Self.ineligibility(k) == nil else { return nil }
        // Values outside the declared types (a kernel that fails `verify()`) stay on the interpreter.
        guard k.tables.allSatisfy({ (-128...127).contains($0) }), k.codes.allSatisfy({ (0..<16).contains($0) }),
              k.centroids.allSatisfy({ (Int(Int32.min)...Int(Int32.max)).contains($0) }) else { return nil }
        positions = k.positions; vectorLength = k.vectorLength; centroidCount = k.activationCentroids
        groups = k.groups; outputCount = k.outputCount; linf = k.distance == .linf
        padded = (positions + 1) / 2 * 2
        let values = k.centroids + [k.input.min, k.input.max]
        let span = (values.max() ?? 0) - (values.min() ?? 0)
        search32 = span < 46_341 && (linf || vectorLength * span * span <= Int(Int32.max))
        let kap = (centroidCount + 7) / 8 * 8
        paddedCentroids = kap
        if search32 {
            var t = [Int32](repeating: 0, count: positions * vectorLength * kap)
            for p in 0..<positions {
                for e in 0..<vectorLength {
                    for c in 0..<kap { t[(p * vectorLength + e) * kap + c] = Int32(k.centroid(p, c < centroidCount ? c : 0, e)) }
                }
            }
            centroids = CBuffer(t)
        } else {
            centroids = CBuffer(k.centroids.map { Int32($0) })
        }
        var t = [Int8](repeating: 0, count: positions * groups * centroidCount * 16)
        let kw = k.weightCentroids
        for p in 0..<positions {
            for g in 0..<groups {
                for a in 0..<centroidCount {
                    let from = ((p * groups + g) * centroidCount + a) * kw, to = ((p * centroidCount + a) * groups + g) * 16
                    for w in 0..<kw { t[to + w] = Int8(k.tables[from + w]) }
                }
            }
        }
        tables = CBuffer(t)
        var bg: [Int32] = [], bc: [Int] = [], bw: [Int] = []
        for g in 0..<groups {
            let end = min((g + 1) * k.groupColumns, outputCount)
            for c in stride(from: g * k.groupColumns, to: end, by: 32) {
                bg.append(Int32(g)); bc.append(c); bw.append(min(32, end - c))
            }
        }
        blockGroup = CBuffer(bg); blockColumn = bc; blockWidth = bw
        var packed = [UInt8](repeating: 0, count: bc.count * padded * 16)
        for b in 0..<bc.count {
            for p in 0..<positions {
                let row = (b * padded + p) * 16
                for j in 0..<bw[b] {
                    let c = UInt8(k.codes[p * outputCount + bc[b] + j])
                    packed[row + j % 16] |= j < 16 ? c : c << 4
                }
            }
        }
        codes = CBuffer(packed)
    }

    /// Bytes of the packed arrays.
    var bytes: Int { centroids.count * 4 + tables.count + codes.count }

    /// The shuffle loop this machine runs: "avx2", "ssse3" or "c".
    public static var loop: String { ["c", "ssse3", "avx2"][Int(lf_simd_level())] }

    /// Buffers of one evaluation, reused so that a vector allocates nothing but its result.
    final class Scratch {
        let x: CBuffer<Int32>, assign: CBuffer<Int32>, rows: CBuffer<Int8>, acc: CBuffer<Int32>
        init(_ l: FastLUTLayer) {
            x = CBuffer(zeros: l.positions * l.vectorLength, 0)
            assign = CBuffer(zeros: l.positions, 0)
            rows = CBuffer(zeros: l.groups * l.padded * 16, 0)
            acc = CBuffer(zeros: l.blockGroup.count * 32, 0)
        }
    }
    private let lock = NSLock()
    private var spare: [Scratch] = []

    /// Table sums of every column for one input vector (no bias): the search and row gather
    /// split by positions, then the lookups by column blocks, across `threads` threads.
    public func sums(_ x: ArraySlice<Int>, threads: Int) -> [Int] {
        lock.lock()
        let scratch = spare.popLast() ?? Scratch(self)
        lock.unlock()
        defer { lock.lock(); spare.append(scratch); lock.unlock() }
        let (xs, assign, rows, acc) = (scratch.x.base, scratch.assign.base, scratch.rows.base, scratch.acc.base)
        var i = 0
        for value in x where i < scratch.x.count { xs[i] = Int32(value); i += 1 }
        while i < scratch.x.count { xs[i] = 0; i += 1 }
        let (P, v, ka, kap) = (positions, vectorLength, centroidCount, paddedCentroids)
        let linfFlag: Int32 = linf ? 1 : 0
        func parallel(_ count: Int, _ body: (Int, Int) -> Void) {
            let chunks = max(1, min(threads, count))
            if chunks == 1 { body(0, count) } else {
                DispatchQueue.concurrentPerform(iterations: chunks) { body($0 * count / chunks, ($0 + 1) * count / chunks) }
            }
        }
        parallel(P) { p0, p1 in
            guard p1 > p0 else { return }
            if search32 {
                lf_lut_search32(xs + p0 * v, Int32(p1 - p0), Int32(v), Int32(ka), Int32(kap), centroids.base + p0 * v * kap, linfFlag, assign + p0)
            } else {
                lf_lut_search(xs + p0 * v, Int32(p1 - p0), Int32(v), Int32(ka), centroids.base + p0 * ka * v, linfFlag, assign + p0)
            }
            lf_lut_gather_rows(tables.base, Int32(padded), Int32(p0), Int32(p1), Int32(groups), Int32(ka), assign, rows)
        }
        parallel(blockGroup.count) { b0, b1 in
            lf_lut_accumulate(codes.base, rows, Int32(padded), Int32(b0), Int32(b1), blockGroup.base, acc)
        }
        return [Int](unsafeUninitializedCapacity: outputCount) { out, n in
            for b in 0..<blockGroup.count {
                for j in 0..<blockWidth[b] { out[blockColumn[b] + j] = Int(acc[b * 32 + j]) }
            }
            n = outputCount
        }
    }
}

/// Packed layers by the identity of their kernels' storage. An entry keeps the kernel's
/// arrays alive, so an address in the cache cannot be reused by another array; a kernel
/// whose codes, tables or centroids change gets new storage (copy on write) and a new entry.
/// The oldest entries leave once the packed layers pass 1 GiB, so a model whose layers
/// all fit stays packed across vectors however many layers it has.
enum FastLUTCache {
    private struct Key: Hashable { let codes: UInt, tables: UInt, centroids: UInt, shape: [Int] }
    private final class Entry {
        let kernel: LUTKernel, layer: FastLUTLayer?, bytes: Int
        init(_ k: LUTKernel, _ l: FastLUTLayer?) { kernel = k; layer = l; bytes = l?.bytes ?? 0 }
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [Key: Entry] = [:]
    nonisolated(unsafe) private static var order: [Key] = []
    nonisolated(unsafe) private static var bytes = 0
    private static let capacity = 1 << 30

    private static func address(_ a: [Int]) -> UInt { a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }

    static func layer(for k: LUTKernel) -> FastLUTLayer? {
        let key = Key(codes: address(k.codes), tables: address(k.tables), centroids: address(k.centroids),
                      shape: [k.inputCount, k.outputCount, k.vectorLength, k.activationCentroids, k.weightCentroids,
                              k.groupColumns, k.distance == .linf ? 1 : 0, k.entry.min, k.entry.max, k.input.min, k.input.max])
        lock.lock()
        if let e = entries[key] { lock.unlock(); return e.layer }
        lock.unlock()
        let layer = FastLUTLayer(k)
        lock.lock()
        defer { lock.unlock() }
        if entries[key] == nil {
            let e = Entry(k, layer)
            entries[key] = e; order.append(key); bytes += e.bytes
            while bytes > capacity, order.count > 1 {
                let old = order.removeFirst()
                bytes -= entries[old]?.bytes ?? 0
                entries[old] = nil
            }
        }
        return layer
    }
}
