// k-means: recovers clear clusters, is deterministic across runs and thread
// counts, and handles empty clusters and fewer points than clusters.
import CFastKernels
import Foundation
import Quantize
import Testing

@Suite("k-means")
struct KMeansTests {
    func blobs(seed: UInt64) -> KMeansProblem {
        var rng = SplitMix64(seed: seed)
        let centres: [[Double]] = [[0, 0], [10, 10], [-10, 5], [20, -20]]
        var points: [Double] = []
        for i in 0..<200 {
            let c = centres[i % 4]
            points += [c[0] + rng.nextUnit() - 0.5, c[1] + rng.nextUnit() - 0.5]
        }
        return KMeansProblem(points: points, dimension: 2, k: 4)
    }

    @Test("recovers four well-separated clusters")
    func clusters() {
        let r = KMeans.cluster(blobs(seed: 3), seed: 1)
        // Points of the same blob share a cluster, and the four blobs get four clusters.
        for i in 0..<200 { #expect(r.assignment[i] == r.assignment[i % 4]) }
        #expect(Set(r.assignment).count == 4)
        for c in 0..<4 {
            let x = r.centroids[2 * r.assignment[c]], y = r.centroids[2 * r.assignment[c] + 1]
            let want: [[Double]] = [[0, 0], [10, 10], [-10, 5], [20, -20]]
            #expect(abs(x - want[c][0]) < 0.2 && abs(y - want[c][1]) < 0.2)
        }
    }

    @Test("the same seed gives the same result, serially or concurrently")
    func deterministic() {
        let problems = (0..<12).map { blobs(seed: UInt64($0)) }
        let concurrent = KMeans.cluster(problems, seed: 42)
        let again = KMeans.cluster(problems, seed: 42)
        let serial = problems.indices.map { KMeans.cluster(problems[$0], seed: 42 &+ UInt64($0)) }
        #expect(concurrent == again)
        #expect(concurrent == serial)
    }

    @Test("a problem of several chunks (all cores) converges to a k-means fixed point, the same on every run")
    func chunked() {
        var rng = SplitMix64(seed: 9)
        let n = 100_000
        let p = KMeansProblem(points: (0..<(2 * n)).map { _ in rng.nextUnit() }, dimension: 2, k: 6)
        let r = KMeans.cluster(p, seed: 4, iterations: 300)
        #expect(KMeans.cluster(p, seed: 4, iterations: 300) == r)
        // Every point is at its nearest centroid, and every centroid is the mean of its points.
        var sums = [Double](repeating: 0, count: 12), counts = [Int](repeating: 0, count: 6)
        var misplaced = 0
        for i in 0..<n {
            let x = p.points[2 * i], y = p.points[2 * i + 1]
            let d = (0..<6).map { c in (x - r.centroids[2 * c]) * (x - r.centroids[2 * c]) + (y - r.centroids[2 * c + 1]) * (y - r.centroids[2 * c + 1]) }
            if d[r.assignment[i]] > d.min()! { misplaced += 1 }
            sums[2 * r.assignment[i]] += x; sums[2 * r.assignment[i] + 1] += y; counts[r.assignment[i]] += 1
        }
        #expect(misplaced == 0)
        for c in 0..<6 {
            #expect(counts[c] > 0)
            #expect(abs(sums[2 * c] / Double(counts[c]) - r.centroids[2 * c]) < 1e-9)
            #expect(abs(sums[2 * c + 1] / Double(counts[c]) - r.centroids[2 * c + 1]) < 1e-9)
        }
    }

    @Test("the AVX2 assignment step gives the portable loop's results, ties included")
    func simdAssignment() {
        var rng = SplitMix64(seed: 11)
        // Integer grid points: many points are equally far from two centroids.
        let problems = [(2, 5, 3000), (4, 16, 2000), (3, 7, 90_000), (1, 4, 500)].map { d, k, n in
            KMeansProblem(points: (0..<(n * d)).map { _ in Double(Int(rng.next() % 9)) }, dimension: d, k: k)
        }
        for (i, p) in problems.enumerated() {
            lf_set_simd_limit(0)
            let portable = KMeans.cluster(p, seed: UInt64(i), iterations: 30)
            lf_set_simd_limit(2)
            #expect(KMeans.cluster(p, seed: UInt64(i), iterations: 30) == portable, "problem \(i)")
        }
    }

    @Test("more clusters than distinct points: every cluster is a point, none is empty")
    func fewPoints() {
        let p = KMeansProblem(points: [1, 1, 1, 1, 5, 5], dimension: 2, k: 4)
        let r = KMeans.cluster(p, seed: 7)
        #expect(r.centroids.count == 8)
        for c in 0..<4 {
            let pt = [r.centroids[2 * c], r.centroids[2 * c + 1]]
            #expect(pt == [1, 1] || pt == [5, 5])
        }
        #expect(r.assignment[0] == r.assignment[1] || r.centroids[2 * r.assignment[0]] == r.centroids[2 * r.assignment[1]])
        #expect(r.centroids[2 * r.assignment[2]] == 5)
    }

    @Test("no points gives zero centroids")
    func empty() {
        let r = KMeans.cluster(KMeansProblem(points: [], dimension: 3, k: 2), seed: 1)
        #expect(r.centroids == [0, 0, 0, 0, 0, 0])
        #expect(r.assignment.isEmpty)
    }
}
