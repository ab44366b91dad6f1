// lf_dsp_chain: one quantized fully connected layer on LANES multiply-add
// chains (after FlightLLM). Weights are N:M sparse (dense is N = M): every
// block of M inputs keeps N (value, offset) pairs. Each cycle every lane's chain
// of L = B*N multiply-adds consumes B blocks: a sparse input multiplexer picks
// x[block*M + offset] for each stored value, the products are summed in groups
// of GS (the cascade breaks at group ends), the group sums are added into the
// accumulator. Then the requantizer (multiplier in fabric, shift, clamp,
// docs/numerics.md), an optional table, and the outputs stream out.
// Uses lf_rom, lf_fabric_mul, lf_round_clamp, lf_lane_store, lf_emit_ctrl.
//
// Timing (no back-pressure): LOAD N_IN cycles, RUN passes*ceil(blocks/B)
// cycles, DRAIN 6 (7 with a table), EMIT N_OUT cycles; the next layer's LOAD is
// this EMIT.
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
    parameter integer P_BITS = 48,     // signed acc*M + 2^(S-1), > ACC_BITS, > M_BITS, > R_BITS
    parameter integer R_BITS = 8,
    parameter integer R_SIGNED = 1,
    parameter integer HAS_TABLE = 0,
    parameter integer Y_BITS = 8,
    parameter W_FILE = "w.mem",        // pairs: passes*CPP words of LANES*L*{offset, value}
    parameter B_FILE = "b.mem",        // biases: passes words of LANES*B_BITS
    parameter Q_FILE = "q.mem",        // requantizers: passes words of LANES*{M, S}
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
    localparam integer TW = (CPP > 1) ? $clog2(CPP) : 1;
    localparam integer PW = (PASSES > 1) ? $clog2(PASSES) : 1;
    localparam integer AW = (PASSES * CPP > 1) ? $clog2(PASSES * CPP) : 1;
    localparam integer LW = (LANES > 1) ? $clog2(LANES) : 1;
    localparam integer PR = W_BITS + X_BITS + 1;           // one product
    localparam integer Q_BITS = M_BITS + S_BITS;
    localparam integer LATENCY = (HAS_TABLE != 0) ? 7 : 6; // last issue to last stored output

    localparam integer XIN_LAST_I = N_IN - 1;
    localparam integer T_LAST_I = CPP - 1;
    localparam integer P_LAST_I = PASSES - 1;
    localparam integer WIN_I = WIN;
    localparam integer N_IN_I = N_IN;
    localparam [XIW-1:0] XIN_LAST = XIN_LAST_I[XIW-1:0];
    localparam [TW-1:0] T_LAST = T_LAST_I[TW-1:0];
    localparam [PW-1:0] P_LAST = P_LAST_I[PW-1:0];
    localparam [XB-1:0] WIN_X = WIN_I[XB-1:0];
    localparam [XB-1:0] N_IN_X = N_IN_I[XB-1:0];

    localparam [1:0] S_LOAD = 2'd0, S_RUN = 2'd1, S_OUT = 2'd2;

    reg [1:0]     state;
    reg [XIW-1:0] xi;      // load index
    reg [TW-1:0]  t;       // cycle within the pass
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
    wire start = (state == S_RUN) && t == T_LAST && pass == P_LAST;
    lf_emit_ctrl #(.N_OUT(N_OUT), .LANES(LANES), .PW(PW), .LW(LW), .LATENCY(LATENCY))
        u_emit (.clk(clk), .rst(rst), .start(start), .out_ready(out_ready), .out_valid(out_valid),
                .e_pass(e_pass), .e_lane(e_lane), .done(out_done));

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            xi <= {XIW{1'b0}};
            t <= {TW{1'b0}};
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
                    addr <= addr + 1'b1;
                    if (t == T_LAST) begin
                        t <= {TW{1'b0}};
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
    wire issue = (state == S_RUN);
    reg [X_BITS-1:0] win [0:WIN-1];
    genvar e;
    generate
        for (e = 0; e < WIN; e = e + 1) begin : g_window
            localparam integer E_I = e;
            wire [XB-1:0] idx = xbase + E_I[XB-1:0];
            always @(posedge clk) win[e] <= (idx < N_IN_X) ? xbuf[idx[XIW-1:0]] : {X_BITS{1'b0}};
        end
    endgenerate

    reg v_b, v_g, v_h, v_c, v_d, v_e;
    reg first_b, first_g, first_h, last_b, last_g, last_h;
    reg [PW-1:0] pass_b, pass_g, pass_h, pass_c, pass_d, pass_e;
    always @(posedge clk) begin
        first_b <= (t == {TW{1'b0}});
        last_b <= (t == T_LAST);
        {first_g, last_g, first_h, last_h} <= {first_b, last_b, first_g, last_g};
        {pass_b, pass_g, pass_h, pass_c, pass_d, pass_e} <= {pass, pass_b, pass_g, pass_h, pass_c, pass_d};
        if (rst) begin
            {v_b, v_g, v_h, v_c, v_d, v_e} <= 6'd0;
        end else begin
            v_b <= issue;
            v_g <= v_b;
            v_h <= v_g;
            v_c <= v_h & last_h;
            v_d <= v_c;
            v_e <= v_d;
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

    genvar c, i, g;
    generate
        for (c = 0; c < LANES; c = c + 1) begin : lane
            // B: the sparse input multiplexer and one multiply per stored value.
            reg signed [PR-1:0] prod [0:L-1];
            for (i = 0; i < L; i = i + 1) begin : g_mul
                localparam integer BLK = i / N;
                wire [PAIR-1:0] pair = w_word[(c*L + i)*PAIR +: PAIR];
                wire signed [W_BITS-1:0] w = pair[W_BITS-1:0];
                wire [OB-1:0] off = pair[PAIR-1:W_BITS];
                reg [X_BITS-1:0] xsel;
                integer o;
                always @* begin
                    xsel = {X_BITS{1'b0}};
                    for (o = 0; o < M; o = o + 1)
                        if (off == o[OB-1:0]) xsel = win[BLK*M + o];
                end
                wire signed [X_BITS:0] x = {(X_SIGNED != 0) & xsel[X_BITS-1], xsel};
                always @(posedge clk)
                    prod[i] <= {{(X_BITS+1){w[W_BITS-1]}}, w} * {{W_BITS{x[X_BITS]}}, x};
            end
            // G: each group of GS multiply-adds sums its products.
            reg signed [ACC_BITS-1:0] gsum [0:NG-1];
            for (g = 0; g < NG; g = g + 1) begin : g_group
                integer k;
                reg signed [ACC_BITS-1:0] s;
                always @* begin
                    s = {ACC_BITS{1'b0}};
                    for (k = g * GS; k < (g + 1) * GS && k < L; k = k + 1)
                        s = s + {{(ACC_BITS-PR){prod[k][PR-1]}}, prod[k]};
                end
                always @(posedge clk) gsum[g] <= s;
            end
            // H: acc = (first ? bias : acc) + the group sums.
            reg signed [ACC_BITS-1:0] total;
            integer h;
            always @* begin
                total = {ACC_BITS{1'b0}};
                for (h = 0; h < NG; h = h + 1) total = total + gsum[h];
            end
            wire signed [B_BITS-1:0] b = b_word[c*B_BITS +: B_BITS];
            reg signed [ACC_BITS-1:0] acc;
            always @(posedge clk)
                if (v_h) acc <= (first_h ? {{(ACC_BITS-B_BITS){b[B_BITS-1]}}, b} : acc) + total;

            // C: scaled = acc * M; D: round, shift, clamp; E: store.
            // The multiplier is in fabric, so DSP slices go only to the chains.
            wire [M_BITS-1:0] m = q_word[c*Q_BITS + S_BITS +: M_BITS];
            wire signed [P_BITS-1:0] product;
            lf_fabric_mul #(.A_BITS(ACC_BITS), .M_BITS(M_BITS), .P_BITS(P_BITS)) u_mul (.a(acc), .m(m), .p(product));
            reg signed [P_BITS-1:0] scaled;
            reg [S_BITS-1:0] s_d;
            always @(posedge clk) begin
                scaled <= product;
                s_d <= q_word[c*Q_BITS +: S_BITS];
            end
            wire [R_BITS-1:0] r;
            lf_round_clamp #(.P_BITS(P_BITS), .S_BITS(S_BITS), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED))
                u_round (.clk(clk), .scaled(scaled), .s(s_d), .r(r));
            lf_lane_store #(.PASSES(PASSES), .PW(PW), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED), .HAS_TABLE(HAS_TABLE),
                            .Y_BITS(Y_BITS), .T_FILE(T_FILE))
                u_store (.clk(clk), .rst(rst), .wr(v_e), .wr_pass(pass_e), .r(r), .rd_pass(e_pass), .data(lane_out[c]));
        end
    endgenerate
endmodule

`default_nettype wire
