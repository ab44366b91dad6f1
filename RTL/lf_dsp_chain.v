// lf_dsp_chain: one quantized fully connected layer on LANES multiply-add
// chains (after FlightLLM). Weights are N:M sparse (dense is N = M): every
// block of M inputs keeps N (value, offset) pairs. Each cycle every lane's chain
// of L = B*N multiply-adds consumes B blocks: a sparse input multiplexer picks
// x[block*M + offset] for each stored value, the products are summed in groups
// of GS (the cascade breaks at group ends), the group sums are added into the
// accumulator. At the end of a pass the lanes' accumulators are held and one
// requantizer shared by all lanes (multiply, shift, clamp, docs/numerics.md)
// takes them a lane per cycle; then an optional table, and the outputs stream out.
// Every width comes from HardwareIR's proofs; every sign extension has a
// positive count, so the module is legal Verilog-2005.
// Uses lf_rom, lf_fabric_mul (accumulators over 25 bits), lf_round_clamp,
// lf_lane_store, lf_emit_ctrl.
//
// Timing (no back-pressure): LOAD N_IN cycles; RUN: each pass issues
// C = ceil(blocks/B) cycles and lasts T = max(C, LANES) so the shared requantizer
// keeps up, (passes-1)*T + C cycles to the last issue; DRAIN 6 + LANES (one more
// with a table); EMIT N_OUT cycles. The next layer's LOAD is this EMIT.
`default_nettype none

module lf_dsp_chain #(
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer LANES = 1,
    parameter integer M = 1,           // block length
    parameter integer N = 1,           // stored weights per block (N = M: dense)
    parameter integer B = 1,           // blocks per cycle; chain length L = B*N
    parameter integer GS = 1,          // multiply-adds per group, divides nothing: the last group may be shorter
    parameter integer X_BITS = 8,
    parameter integer X_SIGNED = 1,
    parameter integer W_BITS = 8,      // signed weight width
    parameter integer B_BITS = 32,     // signed bias width
    parameter integer ACC_BITS = 32,   // signed accumulator, > W_BITS+X_BITS+1 and > B_BITS
    parameter integer M_BITS = 15,     // unsigned requantization multiplier
    parameter integer S_BITS = 6,      // unsigned shift, >= 1
    parameter integer C_BITS = 8,      // signed requantizer offset
    parameter integer P_BITS = 48,     // signed acc*M and acc*M + C, > ACC_BITS, > M_BITS+1, > R_BITS, >= C_BITS
    parameter integer R_BITS = 8,
    parameter integer R_SIGNED = 1,
    parameter integer R_NARROW = 0,    // 1: the requantizer saturates to the narrow range (no table)
    parameter integer HAS_TABLE = 0,
    parameter integer Y_BITS = 8,
    parameter integer HALF_EVEN = 0,   // 1: the requantizer rounds half to even (lf_round_clamp)
    parameter W_FILE = "w.mem",        // pairs: passes*CPP words of LANES*L*{offset, value}
    parameter B_FILE = "b.mem",        // biases: passes words of LANES*B_BITS
    parameter Q_FILE = "q.mem",        // requantizers: passes words of LANES*{C, M, S}
    parameter T_FILE = "t.mem"
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [X_BITS-1:0] in_data,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [Y_BITS-1:0] out_data
);
    localparam integer L = B * N;                          // chain length
    localparam integer NG = (L + GS - 1) / GS;             // groups per chain
    localparam integer BLOCKS = (N_IN + M - 1) / M;
    localparam integer CPP = (BLOCKS + B - 1) / B;         // cycles per pass
    localparam integer PASSES = (N_OUT + LANES - 1) / LANES;
    localparam integer WIN = B * M;                        // inputs per cycle
    localparam integer OB = (M > 1) ? $clog2(M) : 1;       // offset width
    localparam integer PAIR = W_BITS + OB;
    localparam integer XIW = (N_IN > 1) ? $clog2(N_IN) : 1;
    localparam integer XB = $clog2(CPP * WIN + 1);         // window base, can reach CPP*WIN
    localparam integer PW = (PASSES > 1) ? $clog2(PASSES) : 1;
    localparam integer AW = (PASSES * CPP > 1) ? $clog2(PASSES * CPP) : 1;
    localparam integer LW = (LANES > 1) ? $clog2(LANES) : 1;
    localparam integer PR = W_BITS + X_BITS + 1;           // one product
    localparam integer Q_BITS = C_BITS + M_BITS + S_BITS;
    localparam integer T = (CPP > LANES) ? CPP : LANES;     // cycles per pass
    localparam integer LATENCY = ((HAS_TABLE != 0) ? 7 : 6) + LANES; // last issue to last stored output
    localparam integer TW2 = (T > 1) ? $clog2(T) : 1;

    localparam integer XIN_LAST_I = N_IN - 1;
    localparam integer T_LAST_I = T - 1;
    localparam integer C_LAST_I = CPP - 1;
    localparam integer CPP_I = CPP;
    localparam integer L_LAST_S_I = LANES - 1;
    localparam integer P_LAST_I = PASSES - 1;
    localparam integer WIN_I = WIN;
    localparam integer N_IN_I = N_IN;
    localparam [XIW-1:0] XIN_LAST = XIN_LAST_I[XIW-1:0];
    localparam [TW2-1:0] T_LAST = T_LAST_I[TW2-1:0];
    localparam [TW2-1:0] C_LAST = C_LAST_I[TW2-1:0];
    localparam [TW2:0] CPP_T = CPP_I[TW2:0];
    localparam [LW-1:0] L_LAST_S = L_LAST_S_I[LW-1:0];
    localparam [PW-1:0] P_LAST = P_LAST_I[PW-1:0];
    localparam [XB-1:0] WIN_X = WIN_I[XB-1:0];
    localparam [XB-1:0] N_IN_X = N_IN_I[XB-1:0];

    localparam [1:0] S_LOAD = 2'd0, S_RUN = 2'd1, S_OUT = 2'd2;

    reg [1:0]     state;
    reg [XIW-1:0] xi;      // load index
    reg [TW2-1:0] t;       // cycle within the pass
    reg [PW-1:0]  pass;
    reg [AW-1:0]  addr;    // pass*CPP + t
    reg [XB-1:0]  xbase;   // t*WIN
    wire [PW-1:0] e_pass;
    wire [LW-1:0] e_lane;
    wire          out_done;

    reg [X_BITS-1:0] xbuf [0:N_IN-1];
    wire [Y_BITS-1:0] lane_out [0:LANES-1];

    assign in_ready  = (state == S_LOAD);
    assign out_data  = lane_out[e_lane];
    // The last issue of the last pass starts the output side.
    wire start = (state == S_RUN) && t == C_LAST && pass == P_LAST;
    lf_emit_ctrl #(.N_OUT(N_OUT), .LANES(LANES), .PW(PW), .LW(LW), .LATENCY(LATENCY))
        u_emit (.clk(clk), .rst(rst), .start(start), .out_ready(out_ready), .out_valid(out_valid),
                .e_pass(e_pass), .e_lane(e_lane), .done(out_done));

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            xi <= {XIW{1'b0}};
            t <= {TW2{1'b0}};
            pass <= {PW{1'b0}};
            addr <= {AW{1'b0}};
            xbase <= {XB{1'b0}};
        end else begin
            case (state)
                S_LOAD: if (in_valid) begin
                    xbuf[xi] <= in_data;
                    if (xi == XIN_LAST) begin
                        xi <= {XIW{1'b0}};
                        state <= S_RUN;
                    end else begin
                        xi <= xi + 1'b1;
                    end
                end
                S_RUN: begin
                    if ({1'b0, t} < CPP_T) addr <= addr + 1'b1;
                    if (t == T_LAST) begin
                        t <= {TW2{1'b0}};
                        xbase <= {XB{1'b0}};
                        if (pass == P_LAST) begin
                            pass <= {PW{1'b0}};
                            addr <= {AW{1'b0}};
                            state <= S_OUT;
                        end else begin
                            pass <= pass + 1'b1;
                        end
                    end else begin
                        t <= t + 1'b1;
                        xbase <= xbase + WIN_X;
                    end
                end
                default: if (out_done) state <= S_LOAD;
            endcase
        end
    end

    // A: issue the pair address and read the input window (B blocks, zero past N_IN);
    // B: select each stored value's input and multiply; G: group sums; H: accumulate;
    // C: multiply by M; D: round and clamp; E: store (F: table).
    wire issue = (state == S_RUN) && {1'b0, t} < CPP_T;
    // The window as a packed bus of per-element registers, so each sparse multiplexer
    // below is sensitive to its own block only.
    wire [WIN*X_BITS-1:0] win;
    genvar e;
    generate
        for (e = 0; e < WIN; e = e + 1) begin : g_window
            localparam integer E_I = e;
            wire [XB-1:0] idx = xbase + E_I[XB-1:0];
            reg [X_BITS-1:0] w;
            always @(posedge clk) w <= (idx < N_IN_X) ? xbuf[idx[XIW-1:0]] : {X_BITS{1'b0}};
            assign win[e*X_BITS +: X_BITS] = w;
        end
    endgenerate

    reg v_b, v_g, v_h, v_c;
    reg first_b, first_g, first_h, last_b, last_g, last_h;
    reg [PW-1:0] pass_b, pass_g, pass_h, pass_c;
    always @(posedge clk) begin
        first_b <= (t == {TW2{1'b0}});
        last_b <= (t == C_LAST);
        {first_g, last_g, first_h, last_h} <= {first_b, last_b, first_g, last_g};
        {pass_b, pass_g, pass_h, pass_c} <= {pass, pass_b, pass_g, pass_h};
        if (rst) begin
            {v_b, v_g, v_h, v_c} <= 4'd0;
        end else begin
            v_b <= issue;
            v_g <= v_b;
            v_h <= v_g;
            v_c <= v_h & last_h;
        end
    end

    wire [LANES*L*PAIR-1:0] w_word;
    wire [LANES*B_BITS-1:0] b_word;
    wire [LANES*Q_BITS-1:0] q_word;
    lf_rom #(.WIDTH(LANES*L*PAIR), .DEPTH(PASSES*CPP), .ADDR_BITS(AW), .INIT_FILE(W_FILE))
        u_pairs (.clk(clk), .addr(addr), .data(w_word));
    lf_rom #(.WIDTH(LANES*B_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(B_FILE))
        u_bias (.clk(clk), .addr(pass_g), .data(b_word));
    lf_rom #(.WIDTH(LANES*Q_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(Q_FILE))
        u_requant (.clk(clk), .addr(pass_h), .data(q_word));

    // C: hold every lane's accumulator and the pass's requantizers; S: one lane per
    // cycle, scaled = acc * M (one multiplier for all lanes); D: round and clamp; E: store.
    wire [LANES*ACC_BITS-1:0] acc_all;
    reg [LANES*ACC_BITS-1:0] hold;
    reg [LANES*Q_BITS-1:0] hold_q;
    reg [PW-1:0] pass_s, pass_d, pass_e;
    reg [LW-1:0] lane_s, lane_d, lane_e;
    reg v_s, v_d, v_e;
    always @(posedge clk) begin
        if (v_c) begin
            hold <= acc_all;
            hold_q <= q_word;
            pass_s <= pass_c;
        end
        if (rst) begin
            v_s <= 1'b0;
            lane_s <= {LW{1'b0}};
        end else if (v_c) begin
            v_s <= 1'b1;
            lane_s <= {LW{1'b0}};
        end else if (v_s) begin
            if (lane_s == L_LAST_S) v_s <= 1'b0;
            lane_s <= lane_s + 1'b1;
        end
        v_d <= rst ? 1'b0 : v_s;
        v_e <= rst ? 1'b0 : v_d;
        {lane_d, lane_e} <= {lane_s, lane_d};
        {pass_d, pass_e} <= {pass_s, pass_d};
    end
    reg signed [ACC_BITS-1:0] acc_s;
    reg [Q_BITS-1:0] q_s;
    integer sl;
    always @* begin
        acc_s = hold[ACC_BITS-1:0];
        q_s = hold_q[Q_BITS-1:0];
        for (sl = 0; sl < LANES; sl = sl + 1)
            if (lane_s == sl[LW-1:0]) begin
                acc_s = hold[sl*ACC_BITS +: ACC_BITS];
                q_s = hold_q[sl*Q_BITS +: Q_BITS];
            end
    end
    wire [M_BITS-1:0] m_s = q_s[S_BITS +: M_BITS];
    wire signed [C_BITS-1:0] c_s = q_s[Q_BITS-1 -: C_BITS];
    wire signed [P_BITS-1:0] product;
    generate
        if (M_BITS == 1) begin : g_unit_mul
            // M is 0 or 1 (raw accumulators): a gate, no multiplier.
            assign product = {{(P_BITS-ACC_BITS){acc_s[ACC_BITS-1]}}, acc_s} & {P_BITS{m_s[0]}};
        end else if (ACC_BITS <= 25 && M_BITS <= 17) begin : g_dsp_mul
            // Fits one DSP48 (25 x 18 signed).
            // Signed operands, so synthesis sees the narrow values behind the extensions.
            wire signed [ACC_BITS+M_BITS:0] ae = {{(M_BITS+1){acc_s[ACC_BITS-1]}}, acc_s};
            wire signed [ACC_BITS+M_BITS:0] me = {{(ACC_BITS+1){1'b0}}, m_s};
            wire signed [ACC_BITS+M_BITS:0] p = ae * me;
            // The product is proven to fit P_BITS: extend or drop the bits above it.
            if (P_BITS > ACC_BITS + M_BITS + 1) begin : g_wide
                assign product = {{(P_BITS-ACC_BITS-M_BITS-1){p[ACC_BITS+M_BITS]}}, p};
            end else begin : g_narrow
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [ACC_BITS+M_BITS:0] p_all = p;
                /* verilator lint_on UNUSEDSIGNAL */
                assign product = p_all[P_BITS-1:0];
            end
        end else begin : g_fabric_mul
            lf_fabric_mul #(.A_BITS(ACC_BITS), .M_BITS(M_BITS), .P_BITS(P_BITS)) u_mul (.a(acc_s), .m(m_s), .p(product));
        end
    endgenerate
    reg signed [P_BITS-1:0] scaled;
    reg [S_BITS-1:0] s_d;
    reg signed [C_BITS-1:0] c_d;
    always @(posedge clk) begin
        scaled <= product;
        s_d <= q_s[S_BITS-1:0];
        c_d <= c_s;
    end
    wire [R_BITS-1:0] r;
    lf_round_clamp #(.P_BITS(P_BITS), .C_BITS(C_BITS), .S_BITS(S_BITS), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED), .R_NARROW(R_NARROW), .HALF_EVEN(HALF_EVEN))
        u_round (.clk(clk), .scaled(scaled), .c(c_d), .s(s_d), .r(r));

    genvar c, i, g;
    generate
        for (c = 0; c < LANES; c = c + 1) begin : lane
            localparam integer C_I = c;
            localparam [LW-1:0] LANE_ID = C_I[LW-1:0];
            // B: the sparse input multiplexer and one multiply per stored value.
            wire [L*PR-1:0] prod;
            for (i = 0; i < L; i = i + 1) begin : g_mul
                localparam integer BLK = i / N;
                wire [PAIR-1:0] pair = w_word[(c*L + i)*PAIR +: PAIR];
                wire signed [W_BITS-1:0] w = pair[W_BITS-1:0];
                wire [OB-1:0] off = pair[PAIR-1:W_BITS];
                wire [M*X_BITS-1:0] block = win[BLK*M*X_BITS +: M*X_BITS];
                reg [X_BITS-1:0] xsel;
                integer o;
                always @* begin
                    xsel = {X_BITS{1'b0}};
                    for (o = 0; o < M; o = o + 1)
                        if (off == o[OB-1:0]) xsel = block[o*X_BITS +: X_BITS];
                end
                wire signed [X_BITS:0] x = {(X_SIGNED != 0) & xsel[X_BITS-1], xsel};
                reg signed [PR-1:0] p;
                always @(posedge clk)
                    p <= {{(X_BITS+1){w[W_BITS-1]}}, w} * {{W_BITS{x[X_BITS]}}, x};
                assign prod[i*PR +: PR] = p;
            end
            // G: each group of GS multiply-adds sums its products; the group sums are chained.
            for (g = 0; g < NG; g = g + 1) begin : g_group
                localparam integer LO = g * GS;
                localparam integer HI = ((g + 1) * GS < L) ? (g + 1) * GS : L;
                wire [(HI-LO)*PR-1:0] members = prod[LO*PR +: (HI-LO)*PR];
                integer k;
                reg signed [ACC_BITS-1:0] s;
                reg signed [PR-1:0] one;
                always @* begin
                    s = {ACC_BITS{1'b0}};
                    for (k = 0; k < HI - LO; k = k + 1) begin
                        one = members[k*PR +: PR];
                        s = s + {{(ACC_BITS-PR){one[PR-1]}}, one};
                    end
                end
                reg signed [ACC_BITS-1:0] gsum;
                always @(posedge clk) gsum <= s;
                wire signed [ACC_BITS-1:0] upto;   // the sums of groups 0..g
                if (g == 0) begin : g_first
                    assign upto = gsum;
                end else begin : g_next
                    assign upto = g_group[g-1].upto + gsum;
                end
            end
            // H: acc = (first ? bias : acc) + the group sums.
            wire signed [ACC_BITS-1:0] total = g_group[NG-1].upto;
            wire signed [B_BITS-1:0] b = b_word[c*B_BITS +: B_BITS];
            reg signed [ACC_BITS-1:0] acc;
            always @(posedge clk)
                if (v_h) acc <= (first_h ? {{(ACC_BITS-B_BITS){b[B_BITS-1]}}, b} : acc) + total;

            assign acc_all[c*ACC_BITS +: ACC_BITS] = acc;
            lf_lane_store #(.PASSES(PASSES), .PW(PW), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED), .HAS_TABLE(HAS_TABLE),
                            .Y_BITS(Y_BITS), .T_FILE(T_FILE))
                u_store (.clk(clk), .rst(rst), .wr(v_e && lane_e == LANE_ID), .wr_pass(pass_e), .r(r), .rd_pass(e_pass),
                         .data(lane_out[c]));
        end
    endgenerate
endmodule

`default_nettype wire
