// The cycle model of a whole program: the kernels' schedules composed over the
// dataflow graph by replaying the handshakes the generated RTL performs (a fork
// transfers a beat when every reader is ready; a kernel loads each port's frame,
// is busy, then emits), exactly as the Verilator harness drives the top: one
// vector at a time for the latency, back to back for the initiation interval.

/// Latency and interval of a program, and where the latency goes.
public struct ProgramTiming: Sendable, Equatable {
    /// Cycles from the first input beat to the last output beat of one inference, both included.
    public var latencyCycles: Int
    /// Cycles between the last output beats of successive inferences streamed back to back, in steady state.
    public var intervalCycles: Int
    /// Per node (program order), its share of the latency: the cycles its last output beat
    /// follows the node it waited for last (the critical path); the shares add up to the latency.
    public var latencyShares: [Int]
}

/// Replays the handshakes of a program's RTL at the granularity of beats.
struct HandshakeReplay {
    enum Phase: Equatable { case load, busy(Int), emit }

    struct KernelState {
        var phase: Phase = .load
        var counts: [Int]
        var sent = 0
        /// Cycle of the last input beat, last output beat, and the port that completed last, of the current inference.
        var lastIn = -1
        var lastOut = -1
        var lastPort = 0
    }

    let program: Program
    let schedules: [KernelSchedule]
    /// Per value: producer node (nil: graph input) and reader ports.
    let producers: [String: Int]
    let readers: [String: [(node: Int, port: Int)]]
    let valueOrder: [String]

    init(_ program: Program) {
        self.program = program
        schedules = program.nodes.map(\.schedule)
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

    /// Runs `vectors` inferences; `streamed` offers inputs every cycle, otherwise one vector at a
    /// time after the previous one's last output. Returns the cycles of each inference's first input
    /// beat and last output beat, and the node states of the first inference's completion.
    func run(vectors: Int, streamed: Bool) throws -> (firstIn: [Int], lastOut: [Int], firstInference: [KernelState]) {
        var states = schedules.map { KernelState(counts: [Int](repeating: 0, count: $0.inputBeats.count)) }
        let inBeats = program.inputType.beats, outBeats = program.outputType.beats
        var sent = 0, received = 0, vectorIn = 0, vectorOut = 0
        var firstIn: [Int] = [], lastOut: [Int] = []
        var snapshot: [KernelState] = []
        var cycle = 0
        let limit = 1_000 * (schedules.reduce(0) { $0 + $1.occupancyCycles } + inBeats + 16)
        while vectorOut < vectors {
            // The harness offers the input of the current vector (one at a time), or every input (streamed).
            let offering = streamed ? vectorIn < vectors : (vectorIn == vectorOut && vectorIn < vectors)
            func valid(_ value: String) -> Bool {
                if let p = producers[value] { return states[p].phase == .emit }
                return offering
            }
            func ready(_ node: Int, _ port: Int) -> Bool {
                states[node].phase == .load && states[node].counts[port] < schedules[node].inputBeats[port]
            }
            var fired: [String] = []
            for value in valueOrder where valid(value) {
                if readers[value, default: []].allSatisfy({ ready($0.node, $0.port) }) { fired.append(value) }
            }
            if fired.isEmpty {
                // Nothing moves until a busy kernel finishes: jump there (the counters are the only change).
                var soonest = Int.max
                for s in states { if case let .busy(r) = s.phase { soonest = min(soonest, r) } }
                guard soonest != Int.max else {
                    throw ProgramError(at: "program", reason: "the dataflow schedule deadlocks at cycle \(cycle): no kernel can move")
                }
                for i in states.indices {
                    if case let .busy(r) = states[i].phase { states[i].phase = r == soonest ? .emit : .busy(r - soonest) }
                }
                cycle += soonest
                if cycle > limit { throw ProgramError(at: "program", reason: "the dataflow schedule does not complete within \(limit) cycles") }
                continue
            }
            // Apply the beats.
            for value in fired {
                if let p = producers[value] {
                    states[p].sent += 1
                    if states[p].sent == schedules[p].outputBeats { states[p].lastOut = cycle }
                } else {
                    if sent == 0 { firstIn.append(cycle) }
                    sent += 1
                }
                for r in readers[value, default: []] {
                    states[r.node].counts[r.port] += 1
                    if states[r.node].counts[r.port] == schedules[r.node].inputBeats[r.port] {
                        states[r.node].lastIn = cycle
                        states[r.node].lastPort = r.port
                    }
                }
                if value == program.output {
                    received += 1
                    if received == outBeats {
                        lastOut.append(cycle)
                        received = 0
                        vectorOut += 1
                        if vectorOut == 1 { snapshot = states }
                    }
                }
            }
            if sent == inBeats {
                sent = 0
                vectorIn += 1
            }
            // Phase changes take effect next cycle.
            for i in states.indices {
                switch states[i].phase {
                case .load:
                    if zip(states[i].counts, schedules[i].inputBeats).allSatisfy({ $0 == $1 }) {
                        let b = schedules[i].busyCycles
                        states[i].phase = b == 0 ? .emit : .busy(b)
                        states[i].counts = states[i].counts.map { _ in 0 }
                    }
                case let .busy(r):
                    states[i].phase = r == 1 ? .emit : .busy(r - 1)
                case .emit:
                    if states[i].sent == schedules[i].outputBeats {
                        states[i].phase = .load
                        states[i].sent = 0
                    }
                }
            }
            cycle += 1
            if cycle > limit { throw ProgramError(at: "program", reason: "the dataflow schedule does not complete within \(limit) cycles") }
        }
        return (firstIn, lastOut, snapshot)
    }
}

extension Program {
    /// Latency, steady-state interval and per-node latency shares; throws if the schedule deadlocks.
    public func timing() throws -> ProgramTiming {
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
        let streamed = try replay.run(vectors: 12, streamed: true).lastOut
        let interval = streamed[streamed.count - 1] - streamed[streamed.count - 2]
        return ProgramTiming(latencyCycles: latency, intervalCycles: interval, latencyShares: shares)
    }

    /// Cycles from the first input beat to the last output beat (0 if the schedule deadlocks).
    public var latencyCycles: Int { (try? timing())?.latencyCycles ?? 0 }
    /// Steady-state cycles between inferences streamed back to back.
    public var initiationIntervalCycles: Int { (try? timing())?.intervalCycles ?? 0 }
}
