// k-means with k-means++ seeding: the vector quantizer behind LUT-linear
// codebooks. Deterministic for a seed, whatever the thread count.
import CFastKernels
import Dispatch
import Foundation

/// Deterministic 64-bit generator (SplitMix64): the same seed gives the same numbers everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    /// Seeds the generator.
    public init(seed: UInt64) { state = seed }
    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform double in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// One clustering problem: `count` points of `dimension` values, row-major.
public struct KMeansProblem: Sendable {
    /// Points, `[count][dimension]`.
    public var points: [Double]
    /// Values per point.
    public var dimension: Int
    /// Clusters wanted.
    public var k: Int

    /// Creates a problem.
    public init(points: [Double], dimension: Int, k: Int) {
        precondition(dimension > 0 && points.count % dimension == 0 && k > 0)
        self.points = points
        self.dimension = dimension
        self.k = k
    }

    /// Number of points.
    public var count: Int { points.count / dimension }
}

/// Result of one clustering.
public struct KMeansResult: Equatable, Sendable {
    /// Centroids, `[k][dimension]`.
    public var centroids: [Double]
    /// Cluster of each point.
    public var assignment: [Int]
}

/// Lloyd's k-means with k-means++ seeding.
public enum KMeans {
    /// Squared distance between point `i` of `a` and centroid `j` of `b`.
    @inline(__always)
    static func squaredDistance(_ a: UnsafeBufferPointer<Double>, _ i: Int, _ b: UnsafeBufferPointer<Double>, _ j: Int, _ d: Int) -> Double {
        var s = 0.0
        for e in 0..<d {
            let diff = a[i * d + e] - b[j * d + e]
            s += diff * diff
        }
        return s
    }

    /// Points per chunk of a large problem's passes. Chunks are fixed by the point count, not
    /// the thread count, and their partial sums are added in chunk order, so the result is
    /// the same on any number of cores; a problem of fewer than two chunks is one chunk.
    static let chunkPoints = 32_768

    static func chunks(_ n: Int) -> [Range<Int>] {
        n < 2 * chunkPoints ? [0..<n] : stride(from: 0, to: n, by: chunkPoints).map { $0..<Swift.min($0 + chunkPoints, n) }
    }

    /// `body` on every chunk, concurrently when there are several; results in chunk order.
    static func map<T>(_ ranges: [Range<Int>], _ body: (Range<Int>) -> T) -> [T] {
        if ranges.count == 1 { return [body(ranges[0])] }
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: ranges.count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize(); slots.deallocate() }
        DispatchQueue.concurrentPerform(iterations: ranges.count) { slots[$0] = body(ranges[$0]) }
        return slots.map { $0! }
    }

    /// Clusters one problem. With no points every centroid is the origin; with fewer
    /// distinct points than `k`, centroids repeat points (an empty cluster takes the
    /// point farthest from its centroid, the first such on ties). Large problems use all cores.
    public static func cluster(_ problem: KMeansProblem, seed: UInt64, iterations: Int = 100) -> KMeansResult {
        let n = problem.count, d = problem.dimension, k = problem.k
        guard n > 0 else { return KMeansResult(centroids: [Double](repeating: 0, count: k * d), assignment: []) }
        var rng = SplitMix64(seed: seed)
        var centroids = [Double](repeating: 0, count: k * d)
        var assignment = [Int](repeating: 0, count: n)
        var nearest = [Double](repeating: .infinity, count: n)
        let ranges = chunks(n)
        problem.points.withUnsafeBufferPointer { pts in
          nearest.withUnsafeMutableBufferPointer { near in
            assignment.withUnsafeMutableBufferPointer { assign in
            // k-means++: the first centroid uniformly, each next one with probability ∝ D².
            var chosen = Int(rng.next() % UInt64(n))
            for c in 0..<k {
                for e in 0..<d { centroids[c * d + e] = pts[chosen * d + e] }
                let total = centroids.withUnsafeBufferPointer { cb in
                    map(ranges) { r -> Double in
                        var t = 0.0
                        for i in r { near[i] = min(near[i], squaredDistance(pts, i, cb, c, d)); t += near[i] }
                        return t
                    }
                }.reduce(0, +)
                if total <= 0 { chosen = Int(rng.next() % UInt64(n)); continue }
                var target = rng.nextUnit() * total
                chosen = n - 1
                for i in 0..<n {
                    target -= near[i]
                    if target < 0 { chosen = i; break }
                }
            }
            let kp = (k + 3) / 4 * 4
            var soa = [Double](repeating: 0, count: d * kp)
            for iteration in 0..<iterations {
                // Centroids transposed for the SIMD assignment (CFastKernels), padded with centroid 0.
                for e in 0..<d { for c in 0..<kp { soa[e * kp + c] = centroids[(c < k ? c : 0) * d + e] } }
                let parts = soa.withUnsafeBufferPointer { sb in
                    map(ranges) { r -> (changed: Bool, farthest: (index: Int, distance: Double), sums: [Double], counts: [Int]) in
                        var changed = false
                        var farthest = (index: r.lowerBound, distance: -1.0)
                        var sums = [Double](repeating: 0, count: k * d)
                        var counts = [Int](repeating: 0, count: k)
                        var best = [Int64](repeating: 0, count: r.count), bestDistance = [Double](repeating: 0, count: r.count)
                        lf_kmeans_assign(pts.baseAddress, Int64(r.lowerBound), Int64(r.upperBound), Int32(d), sb.baseAddress,
                                         Int32(k), Int32(kp), &best, &bestDistance)
                        for i in r {
                            let b = Int(best[i - r.lowerBound]), bd = bestDistance[i - r.lowerBound]
                            if assign[i] != b { changed = true; assign[i] = b }
                            if bd > farthest.distance { farthest = (i, bd) }
                        }
                        for i in r {
                            counts[assign[i]] += 1
                            for e in 0..<d { sums[assign[i] * d + e] += pts[i * d + e] }
                        }
                        return (changed, farthest, sums, counts)
                    }
                }
                var changed = parts.contains { $0.changed }
                var farthest = parts[0].farthest
                for p in parts.dropFirst() where p.farthest.distance > farthest.distance { farthest = p.farthest }
                var sums = parts[0].sums, counts = parts[0].counts
                for p in parts.dropFirst() {
                    for j in 0..<(k * d) { sums[j] += p.sums[j] }
                    for j in 0..<k { counts[j] += p.counts[j] }
                }
                for c in 0..<k {
                    if counts[c] == 0 {
                        // Empty cluster: move it to the worst-served point.
                        for e in 0..<d { centroids[c * d + e] = pts[farthest.index * d + e] }
                        assign[farthest.index] = c
                        changed = true
                    } else {
                        for e in 0..<d { centroids[c * d + e] = sums[c * d + e] / Double(counts[c]) }
                    }
                }
                if !changed && iteration > 0 { break }
            }
            }
          }
        }
        return KMeansResult(centroids: centroids, assignment: assignment)
    }

    /// Clusters independent problems on all cores; problem `i` is seeded with `seed + i`,
    /// so results do not depend on the thread count.
    public static func cluster(_ problems: [KMeansProblem], seed: UInt64, iterations: Int = 100) -> [KMeansResult] {
        let results = ResultBox(count: problems.count)
        DispatchQueue.concurrentPerform(iterations: problems.count) { i in
            results.set(i, cluster(problems[i], seed: seed &+ UInt64(i), iterations: iterations))
        }
        return results.values
    }
}

/// Slots written by index from concurrent workers.
private final class ResultBox: @unchecked Sendable {
    private var slots: [KMeansResult?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: KMeansResult) { lock.lock(); slots[i] = r; lock.unlock() }
    var values: [KMeansResult] { slots.map { $0! } }
}
