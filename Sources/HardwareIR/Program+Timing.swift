// The cycle model of a whole program: the kernels' schedules composed over the
// dataflow graph by replaying the handshakes the generated RTL performs (a fork
// transfers a beat when every reader is ready; a kernel loads each port's frame,
// is busy, then emits, step by step of its script; a FIFO holds beats), exactly as
// the Verilator harness drives the top: one vector at a time for the latency, back
// to back for the initiation interval. Runs of cycles in which the same transfers
// repeat are advanced at once, so the cost grows with the number of phases, not beats.
import Foundation

/// Latency and interval of a program, and where the latency goes.
public struct ProgramTiming: Sendable, Equatable {
    /// Cycles from the first input beat to the last output beat of one inference, both included.
    public var latencyCycles: Int
    /// Cycles between the last output beats of successive inferences streamed back to back, in steady state.
    public var intervalCycles: Int
    /// Per node (program order), its share of the latency: the cycles its last output beat
    /// follows the node it waited for last (the critical path); the shares add up to the latency.
    public var latencyShares: [Int]
    /// Per node, the most beats it held at once (FIFOs; 0 for other kernels), streamed.
    public var fifoPeaks: [Int]
}

/// Replays the handshakes of a program's RTL.
struct HandshakeReplay {
    enum Phase: Equatable { case load, busy(Int), emit }

    struct KernelState {
        var phase: Phase = .load
        var step = 0
        var counts: [Int]
        var sent = 0
        /// FIFOs: beats held, and the most ever held.
        var held = 0
        var peak = 0
        /// Cycle of the last input beat, last output beat, and the port that completed last, of the current inference.
        var lastIn = -1
        var lastOut = -1
        var lastPort = 0
        /// Output beats of the current inference so far.
        var inferenceOut = 0
    }

    let program: Program
    let schedules: [KernelSchedule]
    let steps: [[ScheduleStep]]
    /// Per value: producer node (nil: graph input) and reader ports.
    let producers: [String: Int]
    let readers: [String: [(node: Int, port: Int)]]
    let valueOrder: [String]

    init(_ program: Program) {
        self.program = program
        schedules = program.nodes.map(\.schedule)
        steps = schedules.map { $0.fifoDepth == nil ? $0.steps : [] }
        var producers: [String: Int] = [:]
        for (i, n) in program.nodes.enumerated() { producers[n.output] = i }
        self.producers = producers
        var readers: [String: [(node: Int, port: Int)]] = [:]
        for (i, n) in program.nodes.enumerated() {
            for (p, v) in n.inputs.enumerated() { readers[v, default: []].append((i, p)) }
        }
        self.readers = readers
        valueOrder = [program.input] + program.nodes.map(\.output)
    }

    /// Enters step `index` of node `i` (wrapping to the next inference), skipping empty phases.
    func enter(_ s: inout KernelState, _ i: Int, step index: Int) {
        var index = index
        for _ in 0...steps[i].count {
            if index >= steps[i].count { index = 0 }
            let st = steps[i][index]
            s.step = index
            s.counts = s.counts.map { _ in 0 }
            s.sent = 0
            if st.load.contains(where: { $0 > 0 }) { s.phase = .load; return }
            if st.busy > 0 { s.phase = .busy(st.busy); return }
            if st.emit > 0 { s.phase = .emit; return }
            index += 1
        }
        preconditionFailure("a kernel script without any beat")
    }

    /// After the loads of the current step: busy, emit, or the next step.
    func loaded(_ s: inout KernelState, _ i: Int) {
        let st = steps[i][s.step]
        if st.busy > 0 { s.phase = .busy(st.busy) } else if st.emit > 0 { s.phase = .emit } else { enter(&s, i, step: s.step + 1) }
    }

    /// Runs `vectors` inferences; `streamed` offers inputs every cycle, otherwise one vector at a
    /// time after the previous one's last output. Returns the cycles of each inference's first input
    /// beat and last output beat, the node states at the first inference's completion, and the final states.
    /// With `outputPeriod` P > 1 the harness takes an output beat only in cycles that are multiples of P
    /// (a slow consumer: every buffer fills as far as the graph lets it).
    func run(vectors: Int, streamed: Bool, outputPeriod: Int = 1) throws -> (firstIn: [Int], lastOut: [Int], firstInference: [KernelState], final: [KernelState]) {
        var states = schedules.map { KernelState(counts: [Int](repeating: 0, count: $0.inputBeats.count)) }
        for i in states.indices where schedules[i].fifoDepth == nil { enter(&states[i], i, step: 0) }
        let inBeats = program.inputType.beats, outBeats = program.outputType.beats
        var sent = 0, received = 0, vectorIn = 0, vectorOut = 0
        var firstIn: [Int] = [], lastOut: [Int] = []
        var snapshot: [KernelState] = []
        var cycle = 0
        var iterations = 0
        let iterationLimit = 200 * (steps.reduce(0) { $0 + $1.count } + program.nodes.count + 16) * max(vectors, 1) + 100_000
        while vectorOut < vectors {
            iterations += 1
            if iterations > iterationLimit { throw ProgramError(at: "program", reason: "the dataflow schedule does not complete (after \(cycle) cycles)") }
            // The harness offers the input of the current vector (one at a time), or every input (streamed).
            let offering = streamed ? vectorIn < vectors : (vectorIn == vectorOut && vectorIn < vectors)
            func valid(_ value: String) -> Bool {
                guard let p = producers[value] else { return offering }
                if schedules[p].fifoDepth != nil { return states[p].held > 0 }
                return states[p].phase == .emit
            }
            func ready(_ node: Int, _ port: Int) -> Bool {
                if let d = schedules[node].fifoDepth { return states[node].held < d }
                return states[node].phase == .load && states[node].counts[port] < steps[node][states[node].step].load[port]
            }
            let sinkReady = outputPeriod <= 1 || cycle % outputPeriod == 0
            var fired: [String] = []
            for value in valueOrder where valid(value) {
                if value == program.output && !sinkReady { continue }
                if readers[value, default: []].allSatisfy({ ready($0.node, $0.port) }) { fired.append(value) }
            }
            // FIFOs popped and pushed this cycle.
            var pops = Set<Int>(), pushes = Set<Int>()
            for value in fired {
                if let p = producers[value], schedules[p].fifoDepth != nil { pops.insert(p) }
                for r in readers[value, default: []] where schedules[r.node].fifoDepth != nil { pushes.insert(r.node) }
            }
            // How many cycles the same transfers repeat: up to the first phase change anywhere.
            var k = Int.max
            for (i, s) in states.enumerated() where schedules[i].fifoDepth == nil { if case let .busy(r) = s.phase { k = min(k, r) } }
            // A slow consumer changes its mind every cycle.
            if outputPeriod > 1 && valid(program.output) { k = sinkReady ? 1 : min(k, outputPeriod - cycle % outputPeriod) }
            if fired.isEmpty {
                guard k != Int.max else {
                    throw ProgramError(at: "program", reason: "the dataflow schedule deadlocks at cycle \(cycle): no kernel can move")
                }
                for i in states.indices {
                    if case let .busy(r) = states[i].phase, schedules[i].fifoDepth == nil { states[i].phase = r <= k ? .emit : .busy(r - k) }
                }
                for i in states.indices where schedules[i].fifoDepth == nil && states[i].phase == .emit && steps[i][states[i].step].emit == 0 {
                    enter(&states[i], i, step: states[i].step + 1)
                }
                cycle += k
                continue
            }
            for value in fired {
                if let p = producers[value] {
                    if schedules[p].fifoDepth != nil {
                        if !pushes.contains(p) { k = min(k, states[p].held) }
                    } else {
                        k = min(k, steps[p][states[p].step].emit - states[p].sent)
                    }
                } else {
                    k = min(k, inBeats - sent)
                }
                for r in readers[value, default: []] {
                    if let d = schedules[r.node].fifoDepth {
                        // A FIFO that is empty becomes valid the cycle after its first push.
                        if states[r.node].held == 0 { k = 1 }
                        if !pops.contains(r.node) { k = min(k, d - states[r.node].held) }
                    } else {
                        k = min(k, steps[r.node][states[r.node].step].load[r.port] - states[r.node].counts[r.port])
                    }
                }
                if value == program.output { k = min(k, outBeats - received) }
            }
            k = max(k, 1)
            let last = cycle + k - 1
            // Busy kernels count down (those that start being busy at the end of this run do not).
            let wasBusy = states.indices.filter { i in schedules[i].fifoDepth == nil && { if case .busy = states[i].phase { return true }; return false }() }
            // Apply the beats.
            for value in fired {
                if let p = producers[value] {
                    if schedules[p].fifoDepth != nil {
                        states[p].held -= k
                    } else {
                        states[p].sent += k
                        states[p].inferenceOut += k
                    }
                    if states[p].inferenceOut == schedules[p].totalOutputBeats || schedules[p].fifoDepth != nil { states[p].lastOut = last }
                    if states[p].inferenceOut == schedules[p].totalOutputBeats { states[p].inferenceOut = 0 }
                } else {
                    if sent == 0 { firstIn.append(cycle) }
                    sent += k
                }
                for r in readers[value, default: []] {
                    if schedules[r.node].fifoDepth != nil {
                        states[r.node].held += k
                        states[r.node].lastIn = last
                    } else {
                        states[r.node].counts[r.port] += k
                        states[r.node].lastIn = last
                        states[r.node].lastPort = r.port
                    }
                }
                if value == program.output {
                    received += k
                    if received == outBeats {
                        lastOut.append(last)
                        received = 0
                        vectorOut += 1
                        if vectorOut == 1 { snapshot = states }
                    }
                }
            }
            for i in pushes { states[i].peak = max(states[i].peak, states[i].held) }
            if sent == inBeats {
                sent = 0
                vectorIn += 1
            }
            // Phase changes take effect next cycle.
            for i in wasBusy {
                guard case let .busy(r) = states[i].phase else { continue }
                if r > k { states[i].phase = .busy(r - k) } else {
                    states[i].phase = .emit
                    if steps[i][states[i].step].emit == 0 { enter(&states[i], i, step: states[i].step + 1) }
                }
            }
            for i in states.indices where schedules[i].fifoDepth == nil && !wasBusy.contains(i) {
                let st = steps[i][states[i].step]
                switch states[i].phase {
                case .load:
                    if states[i].counts == st.load { loaded(&states[i], i) }
                case .emit:
                    if states[i].sent == st.emit { enter(&states[i], i, step: states[i].step + 1) }
                case .busy:
                    break
                }
            }
            cycle += k
        }
        return (firstIn, lastOut, snapshot, states)
    }
}

/// Timings already computed, by the program's structure and schedules.
private final class TimingCache: @unchecked Sendable {
    static let shared = TimingCache()
    private let lock = NSLock()
    private var entries: [Int: (key: TimingKey, timing: ProgramTiming)] = [:]

    func timing(_ key: TimingKey, _ compute: () throws -> ProgramTiming) throws -> ProgramTiming {
        let h = key.hashValue
        lock.lock()
        if let e = entries[h], e.key == key {
            lock.unlock()
            return e.timing
        }
        lock.unlock()
        let t = try compute()
        lock.lock()
        if entries.count > 256 { entries.removeAll() }
        entries[h] = (key, t)
        lock.unlock()
        return t
    }
}

/// What the timing of a program depends on.
private struct TimingKey: Hashable {
    var input: String
    var output: String
    var inBeats: Int
    var outBeats: Int
    var nodes: [[String]]
    var schedules: [KernelSchedule]

    init(_ p: Program) {
        input = p.input
        output = p.output
        inBeats = p.inputType.beats
        outBeats = p.outputType.beats
        nodes = p.nodes.map { $0.inputs + [$0.output] }
        schedules = p.nodes.map(\.schedule)
    }
}

extension Program {
    /// Latency, steady-state interval and per-node latency shares; throws if the schedule deadlocks.
    public func timing() throws -> ProgramTiming {
        try TimingCache.shared.timing(TimingKey(self)) { try computeTiming() }
    }

    private func computeTiming() throws -> ProgramTiming {
        let replay = HandshakeReplay(self)
        let one = try replay.run(vectors: 1, streamed: false)
        let latency = one.lastOut[0] - one.firstIn[0] + 1
        // Shares along the critical path, from the output back to the input.
        var shares = [Int](repeating: 0, count: nodes.count)
        let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.output, $0) })
        var at = index[output]
        while let i = at {
            let s = one.firstInference[i]
            let upstream = nodes[i].inputs[s.lastPort]
            let previous = index[upstream]
            let start = previous.map { one.firstInference[$0].lastOut } ?? (one.firstIn[0] - 1)
            shares[i] = s.lastOut - start
            at = previous
        }
        let streamedRun = try replay.run(vectors: 12, streamed: true)
        let streamed = streamedRun.lastOut
        let interval = streamed[streamed.count - 1] - streamed[streamed.count - 2]
        return ProgramTiming(latencyCycles: latency, intervalCycles: interval, latencyShares: shares, fifoPeaks: streamedRun.final.map(\.peak))
    }

    /// Cycles from the first input beat to the last output beat (0 if the schedule deadlocks).
    public var latencyCycles: Int { (try? timing())?.latencyCycles ?? 0 }
    /// Steady-state cycles between inferences streamed back to back.
    public var initiationIntervalCycles: Int { (try? timing())?.intervalCycles ?? 0 }
}

extension Program {
    /// Per node, the most beats a FIFO held over runs that stream `vectors` inferences back to back with a
    /// consumer taking an output beat every cycle, and with consumers taking one every `periods[i]` cycles
    /// (slow outputs back every buffer up as far as the graph lets it). Throws if any run deadlocks.
    public func fifoPeaks(vectors: Int = 4, periods: [Int] = [1, 13, 61]) throws -> [Int] {
        let replay = HandshakeReplay(self)
        var peaks = [Int](repeating: 0, count: nodes.count)
        for p in periods {
            let run = try replay.run(vectors: vectors, streamed: true, outputPeriod: p)
            for (i, s) in run.final.enumerated() { peaks[i] = max(peaks[i], s.peak) }
        }
        return peaks
    }
}
