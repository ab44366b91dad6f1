// size-fifos: a fork whose branches meet again (a residual block) deadlocks when
// the short branch must hold more beats than its reader takes before the long
// branch delivers (a line buffer's worth of rows, say). This pass replays the
// program's handshakes with every fork edge behind an unbounded FIFO, keeps only the
// FIFOs the graph cannot do without, and sizes each to the most beats it ever held
// in replays with a fast and with slow consumers, plus two (docs/numerics.md, "FIFOs").
import HardwareIR

/// Inserts and sizes the FIFOs on fork edges.
public struct SizeFIFOs: Pass {
    public static let name = "size-fifos"
    public static let summary = "FIFOs on the branches of forks that would deadlock, sized from the schedule"

    public init() {}

    /// Whether the program completes in every replay.
    static func flows(_ p: Program) -> Bool { (try? p.fifoPeaks()) != nil }

    public func run(_ state: inout LoweringState) throws {
        guard var p = state.program, !Self.flows(p) else { return }
        // Every edge from a value with two or more readers gets a FIFO.
        let unbounded = 1 << 30
        var fifos: [String] = []
        var counter = 0
        var nodes: [KernelNode] = []
        var readersLeft: [String: Int] = [:]
        for n in p.nodes { for v in n.inputs { readersLeft[v, default: 0] += 1 } }
        for n in p.nodes {
            var node = n
            for (port, v) in n.inputs.enumerated() where readersLeft[v, default: 0] > 1 {
                let name = "fifo\(counter)"
                counter += 1
                let t = p.values[v]!
                p.values[name] = t
                nodes.append(KernelNode(name: name, sourceNodes: n.sourceNodes, kernel: FIFOKernel(type: t, depth: unbounded), inputs: [v], output: name))
                node.inputs[port] = name
                fifos.append(name)
                if let l = p.layouts[v] { p.layouts[name] = l }
            }
            nodes.append(node)
        }
        p.nodes = nodes
        guard Self.flows(p) else {
            throw LoweringError.internalError(file: state.file, pass: Self.name, reason: "the dataflow graph deadlocks even with unbounded FIFOs on its forks")
        }
        // Drop the FIFOs the graph does not need (a branch that is never the short one).
        for f in fifos {
            var trial = p
            guard let i = trial.nodes.firstIndex(where: { $0.name == f }) else { continue }
            let source = trial.nodes[i].inputs[0]
            trial.nodes.remove(at: i)
            for j in trial.nodes.indices { trial.nodes[j].inputs = trial.nodes[j].inputs.map { $0 == f ? source : $0 } }
            trial.values[f] = nil
            trial.layouts[f] = nil
            if Self.flows(trial) { p = trial }
        }
        // Size the rest.
        let peaks = try p.fifoPeaks()
        var sized: [String] = []
        for (i, n) in p.nodes.enumerated() where n.kind == FIFOKernel.kind {
            let t = p.values[n.output]!
            p.nodes[i].kernel = AnyKernel(FIFOKernel(type: t, depth: peaks[i] + 2))
            sized.append("\(n.name) \(peaks[i] + 2)")
        }
        guard Self.flows(p) else {
            throw LoweringError.internalError(file: state.file, pass: Self.name, reason: "the sized FIFOs deadlock")
        }
        state.notes.append("FIFOs on forked branches, sized from the schedule (most beats held + 2): \(sized.joined(separator: ", "))")
        state.program = p
    }
}
