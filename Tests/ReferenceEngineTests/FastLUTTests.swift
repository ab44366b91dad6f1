// The LUT-linear shuffle loop (ReferenceEngine/FastLUT.swift, CFastKernels) against the
// interpreter loop, on every SIMD level this machine has, random and extreme layers.
import CFastKernels
import HardwareIR
import Quantize
import ReferenceEngine
import Testing

@Suite("LUT-linear fast path", .serialized)
struct FastLUTTests {
    /// A random int8-table LUT kernel; `extreme` puts every entry at -128 or 127 and the inputs at the type's ends.
    static func kernel(_ rng: inout SplitMix64, nIn: Int, nOut: Int, v: Int, ka: Int, kw: Int, groupColumns: Int, l2: Bool,
                       entries: ClosedRange<Int> = -128...127, frames: Int = 1, outliers: Bool = false,
                       input: IntType = .int(8)) -> LUTKernel {
        func random(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.upperBound - r.lowerBound + 1)) }
        let positions = (nIn + v - 1) / v, s = min(groupColumns, nOut), groups = (nOut + s - 1) / s
        var centroids = (0..<(positions * ka * v)).map { _ in random(input.min...input.max) }
        // Ties: centroid 1 repeats centroid 0 at every position.
        if ka > 1 { for p in 0..<positions { for e in 0..<v { centroids[(p * ka + 1) * v + e] = centroids[p * ka * v + e] } } }
        let chain: OutlierChain? = outliers ? OutlierChain(
            count: 2, lanes: 1, values: (0..<(2 * nOut)).map { _ in random(-127...127) },
            indices: (0..<(2 * nOut)).map { _ in random(0...(nIn - 1)) }, weight: .int(8), accumulator: .int(32),
            multipliers: (0..<nOut).map { _ in random(0...7) }, multiplier: .uint(3)) : nil
        return LUTKernel(
            inputCount: nIn, outputCount: nOut, inputType: .vector(ElementType(input), nIn * frames), outputType: .vector(.int(12), nOut * frames),
            vectorLength: v, activationCentroids: ka, weightCentroids: kw, groupColumns: s,
            distance: l2 ? .l2 : .linf, distanceType: .uint(24), centroids: centroids,
            codes: (0..<(positions * nOut)).map { _ in random(0...(kw - 1)) }, entry: .int(8),
            tables: (0..<(positions * groups * ka * kw)).map { _ in entries.count == 2 ? [entries.lowerBound, entries.upperBound][random(0...1)] : random(entries) },
            bias: .int(20), biases: (0..<nOut).map { _ in random(-(1 << 19)...((1 << 19) - 1)) }, accumulator: .int(32),
            requantizers: (0..<nOut).map { _ in Requantizer(multiplier: 1 << random(0...2), shift: random(0...9)) },
            multiplierShift: .uint(2), shift: .uint(4), offset: .int(10), scaled: .int(40), requantized: .int(12), table: nil,
            outliers: chain, searchLanes: 1, columnLanes: 1, positionLanes: 1)
    }

    static var levels: [Int] {
        let top = Int(lf_set_simd_limit(2))
        return Array((0...top).reversed())
    }

    @Test("the shuffle loop equals the interpreter on random layers, every SIMD level")
    func randomLayers() throws {
        var rng = SplitMix64(seed: 5)
        for trial in 0..<24 {
            let v = [1, 2, 4][trial % 3], nIn = [7, 64, 300, 1030][trial % 4], nOut = [1, 31, 33, 100, 513][trial % 5]
            let ka = [1, 16, 64][trial % 3], kw = [1, 7, 16, 16][trial % 4], s = [512, 17, 32, 64][trial % 4]
            let frames = trial % 6 == 5 ? 3 : 1
            // Every fourth layer has int16 inputs, whose L2 distances need the int64 search.
            let input: IntType = trial % 4 == 3 ? .int(16) : .int(8)
            let k = Self.kernel(&rng, nIn: nIn, nOut: nOut, v: v, ka: ka, kw: kw, groupColumns: s, l2: trial % 2 == 1,
                                frames: frames, outliers: trial % 5 == 4, input: input)
            let layer = try #require(FastLUTLayer(k))
            #expect(layer.search32 == (input == .int(8)))
            for vector in 0..<3 {
                let x = (0..<(nIn * frames)).map { _ in
                    vector == 0 ? input.min : vector == 1 ? input.max : input.min + Int(rng.next() % UInt64(input.max - input.min + 1))
                }
                let want = try k.evaluateChecked([x], node: "t\(trial)")
                for level in Self.levels {
                    lf_set_simd_limit(Int32(level))
                    for threads in [1, 2] {
                        let got = try k.evaluateFast([x], layer: layer, node: "t\(trial)", threads: threads)
                        #expect(got == want, "trial \(trial) vector \(vector) level \(level) threads \(threads)")
                    }
                }
                lf_set_simd_limit(2)
                #expect(try k.evaluate([x], node: "t\(trial)") == want)
            }
        }
    }

    @Test("int16 partial sums at their bound: 1,030 positions of -128 or 127 entries")
    func extremeSums() throws {
        var rng = SplitMix64(seed: 6)
        for entries in [-128...(-128), 127...127, -128...127] {
            // Two-element ranges pick an end at random; one-element ranges fill every entry with it.
            let k = Self.kernel(&rng, nIn: 2060, nOut: 64, v: 2, ka: 4, kw: 16, groupColumns: 32, l2: false,
                                entries: entries.count == 1 ? entries : -128...127)
            let layer = try #require(FastLUTLayer(k))
            let x = (0..<2060).map { _ in Int(rng.next() % 256) - 128 }
            let want = try k.evaluateChecked([x], node: "x")
            for level in Self.levels {
                lf_set_simd_limit(Int32(level))
                #expect(try k.evaluateFast([x], layer: layer, node: "x") == want, "entries \(entries) level \(level)")
                // The column sums themselves, before the requantizer hides them.
                let sums = layer.sums(x[...], threads: 1)
                let a = k.search(x)
                for n in [0, 31, 32, 63] {
                    let exact = (0..<k.positions).reduce(0) { $0 + k.entry($1, n / k.groupColumns, a[$1], k.code($1, n)) }
                    #expect(sums[n] == exact, "column \(n) level \(level)")
                }
            }
            lf_set_simd_limit(2)
        }
    }

    @Test("a packed layer is reused only for the same storage: a changed copy of a kernel gets its own")
    func cacheFollowsStorage() throws {
        var rng = SplitMix64(seed: 8)
        let k = Self.kernel(&rng, nIn: 40, nOut: 40, v: 2, ka: 8, kw: 16, groupColumns: 40, l2: true)
        let x = (0..<40).map { _ in Int(rng.next() % 256) - 128 }
        #expect(try k.evaluate([x], node: "k") == k.evaluateChecked([x], node: "k"))
        // Each copy changes one array in place (copy on write gives it new storage).
        var tables = k, codes = k, centroids = k
        let a = k.search(x)
        for p in 0..<k.positions {
            let i = (p * k.groups * k.activationCentroids + a[p]) * 16 + k.code(p, 0)
            tables.tables[i] += tables.tables[i] == 127 ? -1 : 1
        }
        for p in 0..<k.positions { codes.codes[p * k.outputCount] = (k.code(p, 0) + 1) % 16 }
        for i in 0..<centroids.centroids.count { centroids.centroids[i] = -centroids.centroids[i] }
        for changed in [tables, codes, centroids] {
            let want = try changed.evaluateChecked([x], node: "c")
            #expect(try changed.evaluate([x], node: "c") == want)
        }
        #expect(try tables.evaluateChecked([x], node: "t") != k.evaluateChecked([x], node: "k"))
        #expect(try k.evaluate([x], node: "k") == k.evaluateChecked([x], node: "k"))
    }

    @Test("kernels the shuffle loop cannot take say why and stay on the interpreter")
    func ineligible() throws {
        var rng = SplitMix64(seed: 7)
        var wide = Self.kernel(&rng, nIn: 8, nOut: 4, v: 2, ka: 4, kw: 16, groupColumns: 4, l2: true)
        wide.entry = .int(9)
        #expect(FastLUTLayer.ineligibility(wide) == "table entries of type i9 are wider than int8")
        #expect(FastLUTLayer(wide) == nil)
        // Entries beyond int8 under an int8 type: no packed layer, and the interpreter's integers.
        var bad = Self.kernel(&rng, nIn: 8, nOut: 4, v: 2, ka: 4, kw: 16, groupColumns: 4, l2: true)
        bad.tables[0] = 300
        #expect(FastLUTLayer(bad) == nil)
        #expect(try bad.evaluate([[1, 2, 3, 4, 5, 6, 7, 8]], node: "b") == bad.evaluateChecked([[1, 2, 3, 4, 5, 6, 7, 8]], node: "b"))
        let many = Self.kernel(&rng, nIn: 8, nOut: 4, v: 2, ka: 4, kw: 17, groupColumns: 4, l2: true)
        #expect(FastLUTLayer.ineligibility(many) == "Kw = 17 > 16 (codes wider than 4 bits)")
        let x = [1, -2, 3, -4, 5, -6, 7, -8]
        #expect(try many.evaluate([x], node: "m") == many.evaluateChecked([x], node: "m"))
    }
}
