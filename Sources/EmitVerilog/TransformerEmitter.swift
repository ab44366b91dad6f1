// RTL of a transformer design: one instance per linear (RTL/lf_dsp_chain.v or lf_lut_linear.v
// with their table images) and per norm output, RoPE and attention kernel (RTL/lf_tf_*.v),
// activation buffers on chip, and a sequencer that walks the instruction stream: each
// micro-operation streams rows of one buffer through one kernel into another buffer, or
// combines two buffers element by element (residual adds, the gated product). The mode
// word {decode, length} starts a run on `length` tokens at the next positions; the KV cache
// lives in the attention kernels. Emission only reads the design.
import HardwareIR

extension VerilogEmitter {
    /// Top module name of a transformer design.
    public static let transformerTop = "lutforge_transformer"

    /// Files of a transformer's `rtl/`, keyed by name.
    public static func emitTransformer(_ d: TransformerDesign) throws -> FileSet {
        var t = TransformerRTL(d)
        try t.build()
        var files = t.images
        let library = libraryFiles + ["lf_tf_norm.v", "lf_tf_rope.v", "lf_tf_attention.v", "lf_tf_engine_out.v", "lf_tf_dsp_engine.v", "lf_tf_lut_engine.v"]
        for name in library { files[name] = try Library.text("RTL/\(name)") }
        files["\(transformerTop).v"] = t.text
        files["files.f"] = (library + ["\(transformerTop).v"]).joined(separator: "\n") + "\n"
        return files
    }
}

struct TransformerRTL {
    let d: TransformerDesign
    var text = ""
    var images: FileSet = [:]
    var instances = ""
    /// Per kernel id: instance name, input and output data widths, whether it is a RoPE kernel.
    var kernels: [(name: String, inBits: Int, outBits: Int, rope: Bool)] = []
    var attention: [(name: String, id: Int)] = []
    var ops: [TransformerStep] = []
    var ids: [String: Int] = [:]
    /// The reused engines of a temporal design and their kernel ids.
    var engine: DSPEngineLayout?
    var engineID = -1
    var lutEngine: LUTEngineLayout?
    var lutEngineID = -1
    var hasEngine: Bool { engine != nil || lutEngine != nil }

    init(_ d: TransformerDesign) { self.d = d }

    static func hex(_ v: Int, bits: Int) -> String {
        let masked = UInt64(bitPattern: Int64(v)) & (bits >= 64 ? ~0 : ((1 << UInt64(bits)) - 1))
        let s = String(masked, radix: 16)
        return String(repeating: "0", count: max(0, (bits + 3) / 4 - s.count)) + s
    }

    /// A signed 64-bit Verilog literal.
    static func literal64(_ v: Int) -> String { v < 0 ? "-64'sd\(v.magnitude)" : "64'sd\(v)" }

    func mem(_ name: String) -> String { "{MEM_DIR, \"\(name).mem\"}" }


    /// Declares kernel wires and returns its id.
    mutating func kernel(_ name: String, inBits: Int, outBits: Int, rope: Bool = false) -> Int {
        kernels.append((name, inBits, outBits, rope))
        instances += "    wire \(name)_in_valid, \(name)_in_ready, \(name)_out_valid, \(name)_out_ready;\n"
        instances += "    wire [\(inBits - 1):0] \(name)_in_data;\n    wire [\(outBits - 1):0] \(name)_out_data;\n"
        return kernels.count - 1
    }

    func streams(_ name: String) -> (VerilogStream, VerilogStream) {
        (VerilogStream(valid: "\(name)_in_valid", ready: "\(name)_in_ready", data: "\(name)_in_data"),
         VerilogStream(valid: "\(name)_out_valid", ready: "\(name)_out_ready", data: "\(name)_out_data"))
    }

    mutating func linear(_ name: String, _ lin: TransformerLinear) -> Int {
        let k = lin.kernel as! any VerilogKernel
        let id = kernel(name, inBits: k.inputTypes[0].storage.bits, outBits: k.outputType.storage.bits)
        for image in k.memories { images["\(name)_\(image.suffix).mem"] = image.hexText }
        let (i, o) = streams(name)
        instances += k.verilogInstance(name: name, inputs: [i], output: o) { "{MEM_DIR, \"\(name)_\($0).mem\"}" }
        return id
    }

    /// The instance of output `j` of a norm.
    mutating func norm(_ inst: String, _ k: NormKernel, output j: Int) -> Int {
        let out = k.outputs[j]
        let gBits = out.gainType.bits, bBits = out.biasType.bits
        images["\(inst)_g.mem"] = out.gains.map { Self.hex($0, bits: gBits) }.joined(separator: "\n") + "\n"
        images["\(inst)_b.mem"] = out.biases.map { Self.hex($0, bits: bBits) }.joined(separator: "\n") + "\n"
        let id = kernel(inst, inBits: k.input.bits, outBits: out.type.bits)
        let (i, o) = streams(inst)
        instances += VerilogEmitter.instance(module: "lf_tf_norm", name: inst, parameters: [
            ("N", "\(k.count)"), ("LAYER", k.kind == .layer ? "1" : "0"), ("X_BITS", "\(k.input.bits)"), ("G_BITS", "\(gBits)"),
            ("B_BITS", "\(bBits)"), ("Y_BITS", "\(out.type.bits)"), ("GSHIFT", "\(out.gainShift)"), ("EPS", "64'd\(k.epsilonTerm)"),
            ("G_FILE", mem("\(inst)_g")), ("B_FILE", mem("\(inst)_b")),
        ], ports: [("clk", "clk"), ("rst", "rst"), ("in_valid", i.valid), ("in_ready", i.ready), ("in_data", i.data),
                   ("out_valid", o.valid), ("out_ready", o.ready), ("out_data", o.data)])
        return id
    }

    var positionBits: Int { d.positionType.bits }

    mutating func rope(_ name: String, heads: Int) -> Int {
        let r = d.rope!
        images["rope_cos.mem"] = r.cos.map { Self.hex($0, bits: 16) }.joined(separator: "\n") + "\n"
        images["rope_sin.mem"] = r.sin.map { Self.hex($0, bits: 16) }.joined(separator: "\n") + "\n"
        let id = kernel(name, inBits: r.type.bits, outBits: r.type.bits, rope: true)
        let (i, o) = streams(name)
        instances += VerilogEmitter.instance(module: "lf_tf_rope", name: name, parameters: [
            ("HEADS", "\(heads)"), ("HD", "\(r.headDim)"), ("POSITIONS", "\(r.positions)"), ("X_BITS", "\(r.type.bits)"),
            ("P_BITS", "\(positionBits)"), ("C_FILE", mem("rope_cos")), ("S_FILE", mem("rope_sin")),
        ], ports: [("clk", "clk"), ("rst", "rst"), ("pos", "rope_pos"), ("in_valid", i.valid), ("in_ready", i.ready), ("in_data", i.data),
                   ("out_valid", o.valid), ("out_ready", o.ready), ("out_data", o.data)])
        return id
    }

    mutating func attentionKernel(_ name: String, _ a: AttentionKernel) -> Int {
        images["\(name)_e.mem"] = a.expTable.map { Self.hex($0, bits: AttentionKernel.expType.bits) }.joined(separator: "\n") + "\n"
        let id = kernel(name, inBits: a.qType.bits, outBits: a.contextType.bits)
        instances += "    wire \(name)_kv_valid, \(name)_kv_ready;\n    wire [\(a.kType.bits - 1):0] \(name)_kv_data;\n"
        instances += VerilogEmitter.instance(module: "lf_tf_attention", name: name, parameters: [
            ("HEADS", "\(a.heads)"), ("KV_HEADS", "\(a.kvHeads)"), ("HD", "\(a.headDim)"), ("MAX_SEQ", "\(d.maxSequence)"),
            ("X_BITS", "\(a.qType.bits)"), ("L_BITS", "\(positionBits)"), ("MX", "\(a.scoreMultiplier)"), ("SX", "\(a.scoreShift)"),
            ("E_COUNT", "\(a.expTable.count)"), ("M", "\(a.context.multiplier)"), ("S", "\(a.context.shift)"), ("C", "64'd\(a.context.offset)"),
            ("E_BITS", "\(AttentionKernel.expType.bits)"), ("E_FILE", mem("\(name)_e")),
        ], ports: [("clk", "clk"), ("rst", "rst"), ("clear", "clear"), ("kv_valid", "\(name)_kv_valid"), ("kv_ready", "\(name)_kv_ready"),
                   ("kv_data", "\(name)_kv_data"), ("kv_mask", "kv_mask"), ("q_valid", "\(name)_in_valid"), ("q_ready", "\(name)_in_ready"),
                   ("q_data", "\(name)_in_data"), ("limit", "att_limit"), ("out_valid", "\(name)_out_valid"), ("out_ready", "\(name)_out_ready"),
                   ("out_data", "\(name)_out_data")])
        attention.append((name, id))
        return id
    }

    /// The stream and memory ports every reused engine has; its words are its own while `kid` selects it.
    func enginePorts(_ name: String, _ id: Int) -> [(String, String)] {
        let (i, o) = streams(name)
        return [("in_valid", i.valid), ("in_ready", i.ready), ("in_data", i.data), ("out_valid", o.valid), ("out_ready", o.ready),
                ("out_data", o.data), ("mem_req_valid", "\(name)_req_valid"), ("mem_req_addr", "\(name)_req_addr"),
                ("mem_req_len", "\(name)_req_len"), ("mem_rsp_valid", "mem_rsp_valid && kid == 8'd\(id)"), ("mem_rsp_data", "mem_rsp_data")]
    }

    /// The reused DSP-chain engine (RTL/lf_tf_dsp_engine.v) on the top's memory port.
    mutating func engineInstance(_ e: DSPEngineLayout) -> Int {
        let name = "dsp_engine"
        images["engine_t.mem"] = (e.table.isEmpty ? [0] : e.table).map { Self.hex($0, bits: e.outputType.bits) }.joined(separator: "\n") + "\n"
        let id = kernel(name, inBits: e.inputType.bits, outBits: e.outputType.bits)
        instances += VerilogEmitter.instance(module: "lf_tf_dsp_engine", name: name, parameters: [
            ("MAX_IN", "\(e.maxInputs)"), ("X_BITS", "\(e.inputType.bits)"), ("ACC_BITS", "\(e.accumulator.bits)"),
            ("M_BITS", "\(e.multiplier.bits)"), ("P_BITS", "\(e.scaled.bits)"), ("Y_BITS", "\(e.outputType.bits)"),
            ("HALF_EVEN", e.halfEven ? "1" : "0"), ("T_COUNT", "\(max(1, e.table.count))"), ("T_FILE", mem("engine_t")),
        ], ports: [("clk", "clk"), ("rst", "rst"), ("cfg_in", "cfg_in"), ("cfg_out", "cfg_out"), ("cfg_base", "cfg_base"),
                   ("cfg_lo", "cfg_lo"), ("cfg_hi", "cfg_hi"), ("cfg_table", "cfg_table"), ("cfg_tbase", "cfg_tbase"),
                  ] + enginePorts(name, id))
        return id
    }

    /// The reused LUT-linear engine (RTL/lf_tf_lut_engine.v) on the top's memory port.
    mutating func lutEngineInstance(_ e: LUTEngineLayout) -> Int {
        let name = "lut_engine"
        images["lut_engine_t.mem"] = (e.table.isEmpty ? [0] : e.table).map { Self.hex($0, bits: e.outputType.bits) }.joined(separator: "\n") + "\n"
        let id = kernel(name, inBits: e.inputType.bits, outBits: e.outputType.bits)
        instances += VerilogEmitter.instance(module: "lf_tf_lut_engine", name: name, parameters: [
            ("MAX_IN", "\(e.maxInputs)"), ("MAX_OUT", "\(e.maxOutputs)"), ("MAX_KW", "\(e.maxWeightCentroids)"), ("X_BITS", "\(e.inputType.bits)"),
            ("ACC_BITS", "\(e.accumulator.bits)"), ("M_BITS", "\(e.multiplier.bits)"), ("P_BITS", "\(e.scaled.bits)"), ("Y_BITS", "\(e.outputType.bits)"),
            ("T_COUNT", "\(max(1, e.table.count))"), ("T_FILE", mem("lut_engine_t")),
        ], ports: [("clk", "clk"), ("rst", "rst"), ("cfg_in", "lcfg_in"), ("cfg_out", "lcfg_out"), ("cfg_v", "lcfg_v"), ("cfg_ka", "lcfg_ka"),
                   ("cfg_kw", "lcfg_kw"), ("cfg_s", "lcfg_s"), ("cfg_l2", "lcfg_l2"), ("cfg_cbase", "lcfg_cbase"), ("cfg_kbase", "lcfg_kbase"),
                   ("cfg_rbase", "lcfg_rbase"), ("cfg_qbase", "lcfg_qbase"), ("cfg_lo", "lcfg_lo"), ("cfg_hi", "lcfg_hi"),
                   ("cfg_table", "lcfg_table"), ("cfg_tbase", "lcfg_tbase"),
                  ] + enginePorts(name, id))
        return id
    }

    /// The top's memory port: the engine that asks (one runs at a time).
    var memoryPort: String {
        let names = (engine != nil ? ["dsp_engine"] : []) + (lutEngine != nil ? ["lut_engine"] : [])
        var s = ""
        for n in names { s += "    wire \(n)_req_valid;\n    wire [31:0] \(n)_req_addr, \(n)_req_len;\n" }
        guard let first = names.first else { return "    assign mem_req_valid = 1'b0;\n    assign mem_req_addr = 32'd0;\n    assign mem_req_len = 32'd0;\n" }
        s += "    assign mem_req_valid = \(names.map { "\($0)_req_valid" }.joined(separator: " || "));\n"
        if names.count == 2 {
            s += "    assign mem_req_addr = lut_engine_req_valid ? lut_engine_req_addr : dsp_engine_req_addr;\n"
            s += "    assign mem_req_len = lut_engine_req_valid ? lut_engine_req_len : dsp_engine_req_len;\n"
        } else {
            s += "    assign mem_req_addr = \(first)_req_addr;\n    assign mem_req_len = \(first)_req_len;\n"
        }
        return s
    }

    mutating func build() throws {
        engine = d.dspEngine
        lutEngine = d.lutEngine
        if let e = engine { engineID = engineInstance(e) }
        if let e = lutEngine { lutEngineID = lutEngineInstance(e) }
        // One instance per kernel the steps name, in the design's order; the engine's linears share it.
        for (name, k) in d.stepKernels {
            switch k {
            case let .linear(lin):
                ids[name] = engine?.region(name) != nil ? engineID : lutEngine?.region(name) != nil ? lutEngineID : linear(name, lin)
            case let .norm(n, j): ids[name] = norm(name, n, output: j)
            case let .rope(heads): ids[name] = rope(name, heads: heads)
            case let .attention(a): ids[name] = attentionKernel(name, a)
            }
        }
        ops = d.steps
        emitTop()
    }

    func width(_ b: TransformerBuffer) -> Int { d.width(b) }

    mutating func emitTop() {
        let t = d.maxSequence, h = d.hiddenSize
        let outWidth = d.isDecoder ? d.vocabSize : h
        let idBits = d.tokenType.bits, pb = positionBits
        images["embedding.mem"] = d.embedding.map { Self.hex($0, bits: 16) }.joined(separator: "\n") + "\n"
        if let p = d.positionEmbedding, let ty = d.typeEmbedding {
            images["position.mem"] = p.map { Self.hex($0, bits: 16) }.joined(separator: "\n") + "\n"
            images["type.mem"] = ty.map { Self.hex($0, bits: 16) }.joined(separator: "\n") + "\n"
        }
        var s = """
        // Generated by LUTForge from \(d.name). Do not edit: recompile the checkpoint.
        // The integer transformer (docs/numerics.md, "Transformer integer numerics"): load `length`
        // token ids (tok_*), pulse `go` with the mode word {decode, length}; the sequencer runs the
        // instruction stream and streams out the last token's logits (decoders) or every token's
        // hidden state (encoders), then pulses `done`. `clear` empties the KV cache.
        `default_nettype none

        module \(VerilogEmitter.transformerTop) #(
            parameter MEM_DIR = "./"
        ) (
            input  wire         clk,
            input  wire         rst,
            input  wire         clear,
            input  wire         tok_valid,
            output wire         tok_ready,
            input  wire [\(idBits - 1):0]  tok_data,
            input  wire         tok_mask,
            input  wire         go,
            // mode[9] (decode) documents the run; the length alone drives the sequencer.
            /* verilator lint_off UNUSEDSIGNAL */
            input  wire [9:0]   mode,
            /* verilator lint_on UNUSEDSIGNAL */
            output wire         out_valid,
            input  wire         out_ready,
            output wire [15:0]  out_data,
            output reg          done,
            // Off-chip memory (weights of the reused engine): a burst of mem_req_len 64-bit words at
            // word address mem_req_addr, accepted when asked; its words arrive on mem_rsp_*.
            output wire         mem_req_valid,
            output wire [31:0]  mem_req_addr,
            output wire [31:0]  mem_req_len,
            \(!hasEngine ? "/* verilator lint_off UNUSEDSIGNAL */\n    " : "")input  wire         mem_rsp_valid,
            input  wire [63:0]  mem_rsp_data\(!hasEngine ? "\n    /* verilator lint_on UNUSEDSIGNAL */" : "")
        );
            localparam integer T = \(t), H = \(h), OUT_W = \(outWidth);

        """
        for b in TransformerBuffer.allCases {
            s += "    reg signed [31:0] buf_\(b.rawValue) [0:\(t * width(b) - 1)];\n"
        }
        s += "    reg signed [15:0] embedding [0:\(d.embedding.count - 1)];\n"
        s += "    initial $readmemh({MEM_DIR, \"embedding.mem\"}, embedding);\n"
        if d.positionEmbedding != nil {
            s += "    reg signed [15:0] position [0:\(d.positionEmbedding!.count - 1)];\n    reg signed [15:0] type0 [0:\(h - 1)];\n"
            s += "    initial begin $readmemh({MEM_DIR, \"position.mem\"}, position); $readmemh({MEM_DIR, \"type.mem\"}, type0); end\n"
        }
        s += """
            reg [\(idBits - 1):0] ids [0:T-1];
            reg masks [0:T-1];
            reg [31:0] ntok, len, pc, p, c, i, j;
            /* verilator lint_off UNUSEDSIGNAL */
            reg [31:0] start;                   // positions use its low bits
            /* verilator lint_on UNUSEDSIGNAL */
            reg [3:0] state;
            localparam [3:0] S_IDLE = 4'd0, S_DISPATCH = 4'd1, S_FEED = 4'd2, S_DRAIN = 4'd3, S_ELEM = 4'd4, S_EMBED = 4'd5,
                             S_APPEND = 4'd6, S_OUT = 4'd7, S_NEXT = 4'd8;
            // The current micro-operation.
            reg [7:0] kid;
            reg [3:0] src, dst, src_b;
            reg [31:0] w_in, w_out, chunks;
            reg is_query, causal;
            wire kv_mask = masks[p];
            wire [\(pb - 1):0] att_limit = causal ? start[\(pb - 1):0] + p[\(pb - 1):0] : start[\(pb - 1):0] + ntok[\(pb - 1):0] - 1'b1;
            assign tok_ready = (state == S_IDLE) && !go && ntok < T;

        """
        if d.rope != nil { s += "    wire [\(pb - 1):0] rope_pos = start[\(pb - 1):0] + p[\(pb - 1):0];\n" }
        if engine != nil {
            s += "    // The reused DSP engine's configuration, set with each of its operations.\n"
            s += "    reg [31:0] cfg_in, cfg_out, cfg_base, cfg_tbase;\n    reg signed [63:0] cfg_lo, cfg_hi;\n    reg cfg_table;\n"
        }
        if lutEngine != nil {
            s += "    // The reused LUT engine's configuration, set with each of its operations.\n"
            s += "    reg [31:0] lcfg_in, lcfg_out, lcfg_ka, lcfg_kw, lcfg_s, lcfg_cbase, lcfg_kbase, lcfg_rbase, lcfg_qbase, lcfg_tbase;\n"
            s += "    reg [2:0] lcfg_v;\n    reg signed [63:0] lcfg_lo, lcfg_hi;\n    reg lcfg_l2, lcfg_table;\n"
        }
        s += memoryPort
        s += instances
        // Buffer read (combinational) by id and address, and the kernels' muxed output.
        let buffers = TransformerBuffer.allCases
        s += "    // Buffer reads.\n    reg signed [31:0] rd, rd_b;\n    /* verilator lint_off UNUSEDSIGNAL */\n    reg [31:0] raddr;\n    /* verilator lint_on UNUSEDSIGNAL */\n"
        s += "    always @* begin\n        case (src)\n"
        for (bi, b) in buffers.enumerated() { s += "            4'd\(bi): rd = buf_\(b.rawValue)[raddr];\n" }
        s += "            default: rd = 32'sd0;\n        endcase\n        case (src_b)\n"
        for (bi, b) in buffers.enumerated() { s += "            4'd\(bi): rd_b = buf_\(b.rawValue)[raddr];\n" }
        s += "            default: rd_b = 32'sd0;\n        endcase\n    end\n"
        // Kernel handshakes.
        s += "    reg signed [31:0] kout;\n    reg kout_valid;\n"
        s += "    always @* begin\n        kout = 32'sd0;\n        kout_valid = 1'b0;\n        case (kid)\n"
        for (id, k) in kernels.enumerated() {
            s += "            8'd\(id): begin kout = {{\(32 - k.outBits){\(k.name)_out_data[\(k.outBits - 1)]}}, \(k.name)_out_data}; kout_valid = \(k.name)_out_valid; end\n"
        }
        s += "            default: ;\n        endcase\n    end\n"
        for (id, k) in kernels.enumerated() {
            let isAttention = attention.contains { $0.id == id }
            s += "    assign \(k.name)_in_valid = (state == S_FEED) && (kid == 8'd\(id)) && \(isAttention ? "is_query" : "1'b1");\n"
            s += "    assign \(k.name)_in_data = rd[\(k.inBits - 1):0];\n"
            s += "    assign \(k.name)_out_ready = (state == S_DRAIN) && (kid == 8'd\(id));\n"
        }
        for a in attention {
            s += "    assign \(a.name)_kv_valid = (state == S_APPEND) && (kid == 8'd\(a.id));\n"
            s += "    assign \(a.name)_kv_data = rd[7:0];\n"
        }
        s += "    reg kin_ready;\n    always @* begin\n        case (kid)\n"
        for (id, k) in kernels.enumerated() { s += "            8'd\(id): kin_ready = \(k.name)_in_ready;\n" }
        s += "            default: kin_ready = 1'b0;\n        endcase\n    end\n"
        s += "    reg kv_ready_mux;\n    always @* begin\n        case (kid)\n"
        for a in attention { s += "            8'd\(a.id): kv_ready_mux = \(a.name)_kv_ready;\n" }
        s += "            default: kv_ready_mux = 1'b0;\n        endcase\n    end\n"
        // Elementwise parameters of the current op.
        s += "    reg signed [63:0] e_ma, e_mb, e_c, e_lo, e_hi;\n    reg [7:0] e_s;\n    reg e_product;\n"
        s += "    wire signed [63:0] ea = {{32{rd[31]}}, rd}, eb = {{32{rd_b[31]}}, rd_b};\n"
        s += "    wire signed [63:0] e_sum = e_product ? ea * eb * e_ma + e_c : ea * e_ma + eb * e_mb + e_c;\n"
        s += "    wire signed [63:0] e_shifted = e_sum >>> e_s;\n"
        s += "    /* verilator lint_off UNUSEDSIGNAL */\n    wire signed [63:0] e_y = e_shifted > e_hi ? e_hi : (e_shifted < e_lo ? e_lo : e_shifted);\n    /* verilator lint_on UNUSEDSIGNAL */\n"
        // Embedding sum.
        if d.positionEmbedding != nil {
            s += "    wire signed [31:0] emb = {{16{embedding[ids[p] * H + i][15]}}, embedding[ids[p] * H + i]} + {{16{position[(start + p) * H + i][15]}}, position[(start + p) * H + i]} + {{16{type0[i][15]}}, type0[i]};\n"
        } else {
            s += "    wire signed [31:0] emb = {{16{embedding[ids[p] * H + i][15]}}, embedding[ids[p] * H + i]};\n"
        }
        s += "    assign out_valid = (state == S_OUT);\n    assign out_data = rd[15:0];\n"
        // Write port.
        s += "    /* verilator lint_off UNUSEDSIGNAL */\n    task write_dst(input [3:0] b, input [31:0] addr, input signed [31:0] value);\n    /* verilator lint_on UNUSEDSIGNAL */\n        case (b)\n"
        for (bi, b) in buffers.enumerated() { s += "            4'd\(bi): buf_\(b.rawValue)[addr] <= value;\n" }
        s += "            default: ;\n        endcase\n    endtask\n"
        // Address of the current read.
        s += """
            always @* begin
                case (state)
                    S_FEED: raddr = is_query ? p * w_in + i : (p * chunks + c) * w_in + i;
                    S_APPEND: raddr = p * w_in + (i % w_in);
                    S_ELEM: raddr = i;
                    S_OUT: raddr = \(d.isDecoder ? "(ntok - 1) * OUT_W + i" : "i");
                    default: raddr = 32'd0;
                endcase
            end

        """
        // The micro-program.
        func bufID(_ b: TransformerBuffer) -> Int { buffers.firstIndex(of: b)! }
        s += "    // Micro-operations: \(ops.count).\n    task dispatch(input [31:0] at);\n        begin\n"
        s += "            i <= 32'd0; j <= 32'd0; p <= 32'd0; c <= 32'd0; is_query <= 1'b0;\n            case (at)\n"
        for (n, op) in ops.enumerated() {
            var body = ""
            switch op {
            case let .stream(name, src, width, dst, outWidth, chunks):
                let kernel = ids[name]!
                body = "kid <= 8'd\(kernel); src <= 4'd\(bufID(src)); dst <= 4'd\(bufID(dst)); w_in <= \(width); w_out <= \(outWidth); chunks <= \(chunks); state <= S_FEED;"
                if let r = engine?.region(name) {
                    body += " cfg_in <= \(r.inputs); cfg_out <= \(r.outputs); cfg_base <= \(r.base); cfg_lo <= \(Self.literal64(r.lo)); cfg_hi <= \(Self.literal64(r.hi));"
                        + " cfg_table <= 1'b\(r.tableBase == nil ? 0 : 1); cfg_tbase <= \(r.tableBase ?? 0);"
                }
                if let r = lutEngine?.region(name) {
                    body += " lcfg_in <= \(r.inputs); lcfg_out <= \(r.outputs); lcfg_v <= \(r.vectorLength); lcfg_ka <= \(r.activationCentroids);"
                        + " lcfg_kw <= \(r.weightCentroids); lcfg_s <= \(r.groupColumns); lcfg_l2 <= 1'b\(r.l2 ? 1 : 0); lcfg_cbase <= \(r.centroidBase);"
                        + " lcfg_kbase <= \(r.codeBase); lcfg_rbase <= \(r.rowBase); lcfg_qbase <= \(r.requantizerBase);"
                        + " lcfg_lo <= \(Self.literal64(r.lo)); lcfg_hi <= \(Self.literal64(r.hi)); lcfg_table <= 1'b\(r.tableBase == nil ? 0 : 1); lcfg_tbase <= \(r.tableBase ?? 0);"
                }
            case let .append(name, width):
                let kernel = ids[name]!
                body = "kid <= 8'd\(kernel); src <= 4'd\(bufID(.k)); w_in <= \(width); chunks <= 1; state <= S_APPEND;"
            case let .query(name, width, causal):
                let kernel = ids[name]!
                body = "kid <= 8'd\(kernel); src <= 4'd\(bufID(.q)); dst <= 4'd\(bufID(.ctx)); w_in <= \(width); w_out <= \(width); chunks <= 1; is_query <= 1'b1; causal <= 1'b\(causal ? 1 : 0); state <= S_FEED;"
            case let .elementwise(a, b, dst, width, product, ma, mb, cc, sh, lo, hi):
                body = "src <= 4'd\(bufID(a)); src_b <= 4'd\(bufID(b)); dst <= 4'd\(bufID(dst)); w_in <= \(width); e_product <= 1'b\(product ? 1 : 0); "
                    + "e_ma <= \(ma); e_mb <= \(mb); e_c <= \(Self.literal64(cc)); e_s <= \(sh); e_lo <= \(Self.literal64(lo)); e_hi <= \(Self.literal64(hi)); state <= S_ELEM;"
            case let .embed(dst):
                body = "dst <= 4'd\(bufID(dst)); state <= S_EMBED;"
            case .output:
                body = "src <= 4'd\(bufID(d.isDecoder ? .out : .x)); state <= S_OUT;"
            }
            s += "                \(n): begin \(body) end\n"
        }
        s += "                default: state <= S_IDLE;\n            endcase\n        end\n    endtask\n"
        s += """
            wire feed_fire = (state == S_FEED) && kin_ready;
            wire drain_fire = (state == S_DRAIN) && kout_valid;
            always @(posedge clk) begin
                done <= 1'b0;
                if (rst || clear) begin
                    state <= S_IDLE;
                    ntok <= 32'd0;
                    len <= 32'd0;
                end else begin
                    case (state)
                        S_IDLE: begin
                            if (tok_valid && tok_ready) begin
                                ids[ntok] <= tok_data;
                                masks[ntok] <= tok_mask;
                                ntok <= ntok + 32'd1;
                            end
                            if (go) begin
                                // The mode word {decode, length}: run `length` of the loaded tokens.
                                ntok <= {23'd0, mode[8:0]};
                                start <= len;
                                pc <= 32'd0;
                                state <= S_DISPATCH;
                            end
                        end
                        S_DISPATCH: dispatch(pc);
                        S_FEED: if (feed_fire) begin
                            if (i == w_in - 1) begin
                                i <= 32'd0;
                                state <= S_DRAIN;
                            end else begin
                                i <= i + 32'd1;
                            end
                        end
                        S_DRAIN: if (drain_fire) begin
                            write_dst(dst, (p * chunks + c) * w_out + j, kout);
                            if (j == w_out - 1) begin
                                j <= 32'd0;
                                if (c == chunks - 1) begin
                                    c <= 32'd0;
                                    if (p == ntok - 1) state <= S_NEXT;
                                    else begin p <= p + 32'd1; state <= S_FEED; end
                                end else begin
                                    c <= c + 32'd1;
                                    state <= S_FEED;
                                end
                            end else begin
                                j <= j + 32'd1;
                            end
                        end
                        S_APPEND: begin
                            // k then v of each token (src switches to v halfway); the key's mask bit with its first beat.
                            if (kv_ready_mux) begin
                                if (i == w_in - 1) src <= 4'd\(bufID(.v));
                                if (i == 2 * w_in - 1) begin
                                    i <= 32'd0;
                                    src <= 4'd\(bufID(.k));
                                    if (p == ntok - 1) state <= S_NEXT;
                                    else p <= p + 32'd1;
                                end else begin
                                    i <= i + 32'd1;
                                end
                            end
                        end
                        S_ELEM: begin
                            write_dst(dst, i, e_y[31:0]);
                            if (i == ntok * w_in - 1) state <= S_NEXT;
                            else i <= i + 32'd1;
                        end
                        S_EMBED: begin
                            write_dst(dst, p * H + i, emb);
                            if (i == H - 1) begin
                                i <= 32'd0;
                                if (p == ntok - 1) state <= S_NEXT;
                                else p <= p + 32'd1;
                            end else begin
                                i <= i + 32'd1;
                            end
                        end
                        S_OUT: if (out_ready) begin
                            if (i == \(d.isDecoder ? "OUT_W" : "ntok * OUT_W") - 1) begin
                                len <= len + ntok;
                                ntok <= 32'd0;
                                done <= 1'b1;
                                state <= S_IDLE;
                            end else begin
                                i <= i + 32'd1;
                            end
                        end
                        S_NEXT: begin
                            pc <= pc + 32'd1;
                            state <= S_DISPATCH;
                        end
                        default: state <= S_IDLE;
                    endcase
                end
            end
        endmodule

        `default_nettype wire

        """
        text = s
    }
}
