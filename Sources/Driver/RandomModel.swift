// Random multilayer perceptrons as ModelGraph graphs, in each ONNX export style:
// the models of the differential tester and of the tests.
import ModelGraph
import Quantize

/// Layout of a generated MLP.
public enum MLPStyle: String, Sendable, CaseIterable, Codable {
    /// `Gemm(transB=1)` with weights stored `[out, in]` (PyTorch export style).
    case gemmTransB
    /// `Gemm` with weights stored `[in, out]`, alpha and beta not 1.
    case gemmScaled
    /// `MatMul` + `Add` (TensorFlow / Keras export style).
    case matMulAdd
}

/// Builds an MLP graph with the given widths; `activations[i]` follows layer `i` (the last may be nil).
/// For each layer in `residual` (whose input and output widths are equal) the layer's input is added
/// back to its activated output: the input fans out to the layer and to the join.
public func makeMLP(widths: [Int], activations: [Op?], style: MLPStyle, softmax: Bool, seed: UInt64, residual: Set<Int> = []) -> Graph {
    var rng = SplitMix64(seed: seed)
    func uniform(_ scale: Double) -> Float { Float((rng.nextUnit() * 2 - 1) * scale) }
    var nodes: [Node] = []
    var inits: [String: FloatTensor] = [:]
    var current = "x"
    for i in 0..<(widths.count - 1) {
        let (nIn, nOut) = (widths[i], widths[i + 1])
        let scale = 1.5 / Double(nIn).squareRoot()
        let w = (0..<(nIn * nOut)).map { _ in uniform(scale) }   // [out, in]
        let b = (0..<nOut).map { _ in uniform(0.2) }
        let out = "h\(i)"
        switch style {
        case .gemmTransB:
            inits["w\(i)"] = FloatTensor(shape: [nOut, nIn], data: w)
            inits["b\(i)"] = FloatTensor(shape: [nOut], data: b)
            nodes.append(Node(name: "gemm\(i)", op: .gemm(alpha: 1, beta: 1, transA: false, transB: true), inputs: [current, "w\(i)", "b\(i)"], outputs: [out]))
        case .gemmScaled:
            var t = [Float](repeating: 0, count: w.count)
            for o in 0..<nOut { for k in 0..<nIn { t[k * nOut + o] = w[o * nIn + k] } }
            inits["w\(i)"] = FloatTensor(shape: [nIn, nOut], data: t)
            inits["b\(i)"] = FloatTensor(shape: [1, nOut], data: b)
            nodes.append(Node(name: "gemm\(i)", op: .gemm(alpha: 0.5, beta: 2, transA: false, transB: false), inputs: [current, "w\(i)", "b\(i)"], outputs: [out]))
        case .matMulAdd:
            var t = [Float](repeating: 0, count: w.count)
            for o in 0..<nOut { for k in 0..<nIn { t[k * nOut + o] = w[o * nIn + k] } }
            inits["w\(i)"] = FloatTensor(shape: [nIn, nOut], data: t)
            inits["b\(i)"] = FloatTensor(shape: [nOut], data: b)
            nodes.append(Node(name: "matmul\(i)", op: .matMul, inputs: [current, "w\(i)"], outputs: ["mm\(i)"]))
            nodes.append(Node(name: "add\(i)", op: .add, inputs: ["mm\(i)", "b\(i)"], outputs: [out]))
        }
        let layerInput = current
        current = out
        if i < activations.count, let act = activations[i] {
            nodes.append(Node(name: "act\(i)", op: act, inputs: [current], outputs: ["a\(i)"]))
            current = "a\(i)"
        }
        if residual.contains(i) && nIn == nOut {
            nodes.append(Node(name: "res\(i)", op: .add, inputs: [current, layerInput], outputs: ["r\(i)"]))
            current = "r\(i)"
        }
    }
    if softmax {
        nodes.append(Node(name: "softmax", op: .softmax(axis: -1), inputs: [current], outputs: ["y"]))
        current = "y"
    }
    return Graph(name: "mlp", inputs: [ValueInfo(name: "x", shape: [1, widths[0]])],
                 outputs: [ValueInfo(name: current, shape: [1, widths.last!])], nodes: nodes, initializers: inits)
}

