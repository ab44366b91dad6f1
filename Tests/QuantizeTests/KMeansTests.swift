// k-means: recovers clear clusters, is deterministic across runs and thread
// counts, and handles empty clusters and fewer points than clusters.
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
