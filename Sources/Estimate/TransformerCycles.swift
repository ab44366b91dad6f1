// The cycle model of the transformer RTL engine (rtl/lutforge_transformer.v): the sequencer's
// steps (TransformerDesign.steps) with each kernel's latency, from the first cycle after `go`
// to the cycle that raises `done`. Linears take their latency from the handshake replay of
// their own kernel (Program.timing); the lf_tf_* kernels' counts follow their RTL. Linears on
// the reused engine of a temporal design (RTL/lf_tf_dsp_engine.v) read their words through
// the off-chip memory model (HardwareIR.MemoryModel), which the harnesses implement.
import HardwareIR

public enum TransformerCycleModel {
    /// Cycles of `lf_tf_norm` from its first input beat to its last output beat.
    public static func normLatency(_ k: NormKernel) -> Int { 3 * k.count + 60 + (k.kind == .layer ? 66 : 0) }

    /// Cycles of `lf_tf_rope` on `width` values.
    public static func ropeLatency(width: Int) -> Int { 2 * width }

    /// Cycles of one `lf_tf_attention` query over `length` cached positions of which `visible` are seen.
    public static func queryLatency(_ a: AttentionKernel, length: Int, visible: Int) -> Int {
        let qw = a.heads * a.headDim
        let score = visible * a.headDim + (length - visible) + 1
        let perHead = score + (length + 1) + 34 + (length + 1) + a.headDim * (length + 1) + 1
        return qw + a.heads * perHead + qw
    }

    /// Cycles of one token through the reused engine on linear `r`: its inputs, the request, the
    /// memory's latency, its words at the memory's interval, then 3 requantizer stages and the drain.
    public static func engineLatency(_ r: DSPEngineLayout.Region, memory: MemoryModel) -> Int {
        r.inputs + memory.latency + (r.words - 1) * memory.interval + 5
    }

    /// Cycles of one token through the reused LUT engine on linear `r`: its inputs, then each burst
    /// (its request cycle, the memory's latency, its words at the interval), then 3 requantizer
    /// stages and the drain. The bursts' lengths do not depend on the data, so neither do the cycles.
    public static func lutEngineLatency(_ r: LUTEngineLayout.Region, memory: MemoryModel) -> Int {
        r.inputs + r.burstLengths.reduce(0) { $0 + 1 + memory.latency + ($1 - 1) * memory.interval } + 4
    }

    /// Cycles of a run on `tokens` tokens after `start` cached ones (`mask`: per position, 1 = attend),
    /// with the engine's words served by `memory`.
    public static func runCycles(_ d: TransformerDesign, tokens t: Int, start: Int, mask: [Int]? = nil, memory: MemoryModel = .standard) throws -> Int {
        var kernels: [String: TransformerStepKernel] = [:]
        for (name, k) in d.stepKernels { kernels[name] = k }
        var linearLatency: [String: Int] = [:]
        let engine = d.dspEngine, lutEngine = d.lutEngine
        func latency(_ name: String, width: Int) throws -> Int {
            switch kernels[name]! {
            case let .linear(lin):
                if let r = engine?.region(name) { return engineLatency(r, memory: memory) }
                if let r = lutEngine?.region(name) { return lutEngineLatency(r, memory: memory) }
                if let l = linearLatency[name] { return l }
                let k = lin.kernel
                let p = Program(name: name, sourceFile: name, inputType: k.inputTypes[0], chain: [(name, [], k)],
                                outputMeaning: .values, calibration: "")
                let l = try p.timing().latencyCycles
                linearLatency[name] = l
                return l
            case let .norm(k, _): return normLatency(k)
            case .rope: return ropeLatency(width: width)
            case .attention: return 0
            }
        }
        let length = start + t
        var total = 0
        for step in d.steps {
            var cycles = 0
            switch step {
            case let .stream(name, _, width, _, _, chunks): cycles = t * chunks * (try latency(name, width: width))
            case let .append(_, width): cycles = t * 2 * width
            case let .query(name, _, causal):
                guard case let .attention(a) = kernels[name]! else { continue }
                for p in 0..<t {
                    let visible = (0..<length).filter { j in (!causal || j <= start + p) && (mask?[j] ?? 1) != 0 }.count
                    cycles += queryLatency(a, length: length, visible: visible)
                }
            case let .elementwise(_, _, _, width, _, _, _, _, _, _, _): cycles = t * width
            case .embed: cycles = t * d.hiddenSize
            case .output: cycles = d.isDecoder ? d.vocabSize : t * d.hiddenSize
            }
            total += cycles + 2
        }
        // No return to dispatch after the output step.
        return total - 1
    }

    /// Cycles of a greedy generation: the prefill of `prompt` tokens, then each decode step.
    public static func generationCycles(_ d: TransformerDesign, prompt: Int, count: Int, memory: MemoryModel = .standard) throws -> [Int] {
        var out = [try runCycles(d, tokens: prompt, start: 0, memory: memory)]
        for step in 1..<max(1, count) { out.append(try runCycles(d, tokens: 1, start: prompt + step - 1, memory: memory)) }
        return out
    }
}
