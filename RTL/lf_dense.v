// lf_dense: one quantized fully connected layer on LANES multiply-accumulate
// lanes (uses lf_rom, lf_round_clamp, lf_lane_store). Streams N_IN inputs in, computes ceil(N_OUT/LANES) passes of N_IN
// cycles, requantizes (docs/numerics.md), optionally maps through a table, and
// streams N_OUT outputs. Every width is a parameter the compiler proved.
//
// Timing (no back-pressure): LOAD N_IN cycles, RUN PASSES*N_IN cycles, DRAIN
// LATENCY cycles, EMIT N_OUT cycles; the next layer's LOAD is this EMIT.
`default_nettype none

module lf_dense #(
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer LANES = 1,
    parameter integer X_BITS = 8,      // input element width
    parameter integer X_SIGNED = 1,
    parameter integer W_BITS = 8,      // signed weight width
    parameter integer B_BITS = 32,     // signed bias width
    parameter integer ACC_BITS = 32,   // signed accumulator, > W_BITS+X_BITS+1 and > B_BITS
    parameter integer M_BITS = 15,     // unsigned requantization multiplier
    parameter integer S_BITS = 6,      // unsigned shift, >= 1
    parameter integer P_BITS = 48,     // signed acc*M + 2^(S-1), > ACC_BITS and > M_BITS
    parameter integer R_BITS = 8,      // requantized (clamped) width
    parameter integer R_SIGNED = 1,
    parameter integer HAS_TABLE = 0,   // 1: outputs go through a 2^R_BITS-entry table
    parameter integer Y_BITS = 8,      // output width (R_BITS without a table)
    parameter W_FILE = "w.mem",
    parameter B_FILE = "b.mem",
    parameter Q_FILE = "q.mem",
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
    localparam integer PASSES = (N_OUT + LANES - 1) / LANES;
    localparam integer DEPTH = PASSES * N_IN;
    localparam integer KW = (N_IN > 1) ? $clog2(N_IN) : 1;
    localparam integer PW = (PASSES > 1) ? $clog2(PASSES) : 1;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam integer LW = (LANES > 1) ? $clog2(LANES) : 1;
    localparam integer PR = W_BITS + X_BITS + 1;     // one product
    localparam integer Q_BITS = M_BITS + S_BITS;
    localparam integer LATENCY = (HAS_TABLE != 0) ? 5 : 4;  // last issue to last ybuf write
    localparam integer K_LAST_I = N_IN - 1;
    localparam integer P_LAST_I = PASSES - 1;
    localparam integer EL_LAST_I = (N_OUT - 1) % LANES;
    localparam integer L_LAST_I = LANES - 1;
    localparam integer D_LAST_I = LATENCY - 1;
    localparam [KW-1:0] K_LAST = K_LAST_I[KW-1:0];
    localparam [PW-1:0] P_LAST = P_LAST_I[PW-1:0];
    localparam [LW-1:0] EL_LAST = EL_LAST_I[LW-1:0];
    localparam [LW-1:0] L_LAST = L_LAST_I[LW-1:0];
    localparam [2:0] D_LAST = D_LAST_I[2:0];

    localparam [1:0] S_LOAD = 2'd0, S_RUN = 2'd1, S_DRAIN = 2'd2, S_EMIT = 2'd3;

    reg [1:0]    state;
    reg [KW-1:0] k;       // input index while loading and issuing
    reg [PW-1:0] pass;    // output pass while issuing
    reg [AW-1:0] addr;    // weight address = pass * N_IN + k
    reg [2:0]    drain;
    reg [PW-1:0] e_pass;  // output pass and lane while emitting
    reg [LW-1:0] e_lane;

    reg [X_BITS-1:0] xbuf [0:N_IN-1];
    wire [Y_BITS-1:0] lane_out [0:LANES-1];

    assign in_ready  = (state == S_LOAD);
    assign out_valid = (state == S_EMIT);
    assign out_data  = lane_out[e_lane];

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            k <= {KW{1'b0}};
            pass <= {PW{1'b0}};
            addr <= {AW{1'b0}};
            drain <= 3'd0;
            e_pass <= {PW{1'b0}};
            e_lane <= {LW{1'b0}};
        end else begin
            case (state)
                S_LOAD: if (in_valid) begin
                    xbuf[k] <= in_data;
                    if (k == K_LAST) begin
                        k <= {KW{1'b0}};
                        state <= S_RUN;
                    end else begin
                        k <= k + 1'b1;
                    end
                end
                S_RUN: begin
                    addr <= addr + 1'b1;
                    if (k == K_LAST) begin
                        k <= {KW{1'b0}};
                        if (pass == P_LAST) begin
                            pass <= {PW{1'b0}};
                            addr <= {AW{1'b0}};
                            state <= S_DRAIN;
                        end else begin
                            pass <= pass + 1'b1;
                        end
                    end else begin
                        k <= k + 1'b1;
                    end
                end
                S_DRAIN: begin
                    drain <= drain + 1'b1;
                    if (drain == D_LAST) begin
                        drain <= 3'd0;
                        state <= S_EMIT;
                    end
                end
                default: if (out_ready) begin
                    if (e_pass == P_LAST && e_lane == EL_LAST) begin
                        e_pass <= {PW{1'b0}};
                        e_lane <= {LW{1'b0}};
                        state <= S_LOAD;
                    end else if (e_lane == L_LAST) begin
                        e_lane <= {LW{1'b0}};
                        e_pass <= e_pass + 1'b1;
                    end else begin
                        e_lane <= e_lane + 1'b1;
                    end
                end
            endcase
        end
    end

    // Stage A issues (addr, k, pass); stage B multiplies and accumulates; stage C
    // multiplies by M; stage D rounds, shifts and clamps; stage E writes ybuf or
    // reads the table, whose output stage F writes.
    wire issue = (state == S_RUN);
    reg [X_BITS-1:0] x_b;
    reg v_b, first_b, last_b, v_c, v_d, v_e;
    reg [PW-1:0] pass_b, pass_c, pass_d, pass_e;
    always @(posedge clk) begin
        x_b <= xbuf[k];
        first_b <= (k == {KW{1'b0}});
        last_b <= (k == K_LAST);
        pass_b <= pass;
        pass_c <= pass_b;
        pass_d <= pass_c;
        pass_e <= pass_d;
        if (rst) begin
            v_b <= 1'b0; v_c <= 1'b0; v_d <= 1'b0; v_e <= 1'b0;
        end else begin
            v_b <= issue;
            v_c <= v_b & last_b;
            v_d <= v_c;
            v_e <= v_d;
        end
    end

    wire [LANES*W_BITS-1:0] w_word;
    wire [LANES*B_BITS-1:0] b_word;
    wire [LANES*Q_BITS-1:0] q_word;
    lf_rom #(.WIDTH(LANES*W_BITS), .DEPTH(DEPTH), .ADDR_BITS(AW), .INIT_FILE(W_FILE))
        u_weights (.clk(clk), .addr(addr), .data(w_word));
    lf_rom #(.WIDTH(LANES*B_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(B_FILE))
        u_bias (.clk(clk), .addr(pass), .data(b_word));
    lf_rom #(.WIDTH(LANES*Q_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(Q_FILE))
        u_requant (.clk(clk), .addr(pass_b), .data(q_word));

    wire signed [X_BITS:0] x_ext = {(X_SIGNED != 0) & x_b[X_BITS-1], x_b};

    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : lane
            wire signed [W_BITS-1:0] w = w_word[i*W_BITS +: W_BITS];
            wire signed [B_BITS-1:0] b = b_word[i*B_BITS +: B_BITS];
            wire [M_BITS-1:0] m = q_word[i*Q_BITS + S_BITS +: M_BITS];
            wire [S_BITS-1:0] s = q_word[i*Q_BITS +: S_BITS];

            // B: acc = (first ? bias : acc) + w * x, all at full proven width.
            reg signed [ACC_BITS-1:0] acc;
            wire signed [PR-1:0] prod = {{(X_BITS+1){w[W_BITS-1]}}, w} * {{W_BITS{x_ext[X_BITS]}}, x_ext};
            wire signed [ACC_BITS-1:0] base = first_b ? {{(ACC_BITS-B_BITS){b[B_BITS-1]}}, b} : acc;
            always @(posedge clk) if (v_b) acc <= base + {{(ACC_BITS-PR){prod[PR-1]}}, prod};

            // C: scaled = acc * M.
            reg signed [P_BITS-1:0] scaled;
            always @(posedge clk)
                scaled <= {{(P_BITS-ACC_BITS){acc[ACC_BITS-1]}}, acc} * {{(P_BITS-M_BITS){1'b0}}, m};
            reg [S_BITS-1:0] s_d;
            always @(posedge clk) s_d <= s;

            // D: y = clamp((scaled + 2^(S-1)) >>> S, lo, hi).
            wire [R_BITS-1:0] r;
            lf_round_clamp #(.P_BITS(P_BITS), .S_BITS(S_BITS), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED))
                u_round (.clk(clk), .scaled(scaled), .s(s_d), .r(r));
            lf_lane_store #(.PASSES(PASSES), .PW(PW), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED), .HAS_TABLE(HAS_TABLE),
                            .Y_BITS(Y_BITS), .T_FILE(T_FILE))
                u_store (.clk(clk), .rst(rst), .wr(v_e), .wr_pass(pass_e), .r(r), .rd_pass(e_pass), .data(lane_out[i]));
        end
    endgenerate
endmodule

`default_nettype wire
