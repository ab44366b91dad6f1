// lf_elementwise: one or two streams combined element by element with one
// requantizer per input: y = clamp((a*Ma + b*Mb + C) >>> S, lo, hi) with the
// parameters of the element's channel (row i mod C). A residual Add is the
// two-input case. Arithmetic: docs/numerics.md, "Elementwise". Uses lf_rom,
// lf_round_clamp.
//
// Timing (no back-pressure): LOAD both frames (each port on its own), then one
// element per cycle for N cycles through operand read, multiply and
// round-and-clamp, one cycle to store the last (drain 3), EMIT N beats.
`default_nettype none

module lf_elementwise #(
    parameter integer ARITY = 2,       // 1: port b is unused
    parameter integer N = 4,           // elements per frame
    parameter integer C = 1,           // channels
    parameter integer XA_BITS = 8,
    parameter integer XA_SIGNED = 1,
    parameter integer XB_BITS = 8,
    parameter integer XB_SIGNED = 1,
    parameter integer M_BITS = 16,     // signed multipliers
    parameter integer S_BITS = 5,      // unsigned shift
    parameter integer C_BITS = 8,      // signed offset
    parameter integer P_BITS = 32,     // signed a*Ma + b*Mb + C, each product and the operands, proven
    parameter integer Y_BITS = 8,
    parameter integer Y_SIGNED = 1,
    parameter integer Y_NARROW = 0,    // 1: saturate to the narrow range
    parameter integer HALF_EVEN = 0,   // 1: round half to even (lf_round_clamp)
    parameter E_FILE = "e.mem"         // C words of {C, S, Mb, Ma} (Mb absent for ARITY 1)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               a_valid,
    output wire               a_ready,
    input  wire [XA_BITS-1:0] a_data,
    input  wire               b_valid,
    output wire               b_ready,
    input  wire [XB_BITS-1:0] b_data,
    output wire               out_valid,
    input  wire               out_ready,
    output wire [Y_BITS-1:0]  out_data
);
    localparam integer IW = $clog2(N + 1);               // frame counters reach N
    localparam integer AW = (N > 1) ? $clog2(N) : 1;     // element index
    localparam integer CW = (C > 1) ? $clog2(C) : 1;
    localparam integer ROW = ARITY * M_BITS + S_BITS + C_BITS;
    localparam integer N_I = N;
    localparam integer N_LAST_I = N - 1;
    localparam integer C_LAST_I = C - 1;
    localparam [IW-1:0] N_W = N_I[IW-1:0];
    localparam [IW-1:0] N_LAST = N_LAST_I[IW-1:0];
    localparam [AW-1:0] E_LAST = N_LAST_I[AW-1:0];
    localparam [CW-1:0] C_LAST = C_LAST_I[CW-1:0];
    localparam [1:0] S_LOAD = 2'd0, S_RUN = 2'd1, S_DRAIN = 2'd2, S_EMIT = 2'd3;

    reg [1:0] state;
    reg [IW-1:0] na, nb;
    reg [AW-1:0] j, e;
    reg [CW-1:0] ch;
    reg [1:0] drain;
    reg [XA_BITS-1:0] abuf [0:N-1];
    reg [XB_BITS-1:0] bbuf [0:N-1];
    reg [Y_BITS-1:0] ybuf [0:N-1];

    wire a_full = (na == N_W);
    wire b_full = (ARITY < 2) || (nb == N_W);
    assign a_ready = (state == S_LOAD) && !a_full;
    assign b_ready = (state == S_LOAD) && !b_full && (ARITY > 1);
    assign out_valid = (state == S_EMIT);
    assign out_data = ybuf[e];
    wire a_fire = a_valid && a_ready, b_fire = b_valid && b_ready;
    // Both frames are in once the missing beats arrive.
    wire a_done = a_full || (a_fire && na == N_LAST);
    wire b_done = b_full || (b_fire && nb == N_LAST);

    always @(posedge clk) begin
        if (a_fire) abuf[na[AW-1:0]] <= a_data;
        if (b_fire) bbuf[nb[AW-1:0]] <= b_data;
        if (rst) begin
            state <= S_LOAD;
            na <= {IW{1'b0}};
            nb <= {IW{1'b0}};
            j <= {AW{1'b0}};
            e <= {AW{1'b0}};
            ch <= {CW{1'b0}};
            drain <= 2'd0;
        end else begin
            case (state)
                S_LOAD: begin
                    if (a_fire) na <= na + 1'b1;
                    if (b_fire) nb <= nb + 1'b1;
                    if (a_done && b_done) begin
                        na <= {IW{1'b0}};
                        nb <= {IW{1'b0}};
                        state <= S_RUN;
                    end
                end
                S_RUN: begin
                    ch <= (ch == C_LAST) ? {CW{1'b0}} : ch + 1'b1;
                    if (j == E_LAST) begin
                        j <= {AW{1'b0}};
                        ch <= {CW{1'b0}};
                        state <= S_DRAIN;
                    end else begin
                        j <= j + 1'b1;
                    end
                end
                S_DRAIN: begin
                    drain <= drain + 1'b1;
                    if (drain == 2'd2) begin
                        drain <= 2'd0;
                        state <= S_EMIT;
                    end
                end
                default: if (out_valid && out_ready) begin
                    if (e == E_LAST) begin
                        e <= {AW{1'b0}};
                        state <= S_LOAD;
                    end else begin
                        e <= e + 1'b1;
                    end
                end
            endcase
        end
    end

    // A: operands and the channel's row (registered ROM read).
    reg [XA_BITS-1:0] xa;
    reg [XB_BITS-1:0] xb;
    reg [AW-1:0] ja;
    reg va;
    always @(posedge clk) begin
        xa <= abuf[j];
        xb <= bbuf[j];
        ja <= j;
        va <= rst ? 1'b0 : (state == S_RUN);
    end
    wire [ROW-1:0] row;
    lf_rom #(.WIDTH(ROW), .DEPTH(C), .ADDR_BITS(CW), .INIT_FILE(E_FILE)) u_params (.clk(clk), .addr(ch), .data(row));

    // B: the products, each operand extended to P_BITS (the proofs bound every product).
    wire signed [P_BITS-1:0] ae = {{(P_BITS-XA_BITS){(XA_SIGNED != 0) & xa[XA_BITS-1]}}, xa};
    wire [M_BITS-1:0] ma = row[0 +: M_BITS];
    wire signed [P_BITS-1:0] mae = {{(P_BITS-M_BITS){ma[M_BITS-1]}}, ma};
    // Port b's operand and multiplier; constant zeros for one input (bbuf is never written then).
    wire signed [P_BITS-1:0] be, mbe;
    generate
        if (ARITY > 1) begin : g_two
            wire [M_BITS-1:0] mb = row[M_BITS +: M_BITS];
            assign be = {{(P_BITS-XB_BITS){(XB_SIGNED != 0) & xb[XB_BITS-1]}}, xb};
            assign mbe = {{(P_BITS-M_BITS){mb[M_BITS-1]}}, mb};
        end else begin : g_one
            /* verilator lint_off UNUSEDSIGNAL */
            wire [XB_BITS-1:0] xb_unused = xb;
            /* verilator lint_on UNUSEDSIGNAL */
            assign be = {P_BITS{1'b0}};
            assign mbe = {P_BITS{1'b0}};
        end
    endgenerate
    reg signed [P_BITS-1:0] sum_b;
    reg [S_BITS-1:0] s_b;
    reg [C_BITS-1:0] c_b;
    reg [AW-1:0] jb;
    reg vb;
    always @(posedge clk) begin
        sum_b <= ae * mae + be * mbe;
        s_b <= row[ARITY*M_BITS +: S_BITS];
        c_b <= row[ARITY*M_BITS + S_BITS +: C_BITS];
        jb <= ja;
        vb <= rst ? 1'b0 : va;
    end

    // C: round and clamp (registered); D: store.
    wire [Y_BITS-1:0] r;
    lf_round_clamp #(.P_BITS(P_BITS), .C_BITS(C_BITS), .S_BITS(S_BITS), .R_BITS(Y_BITS), .R_SIGNED(Y_SIGNED), .R_NARROW(Y_NARROW), .HALF_EVEN(HALF_EVEN))
        u_round (.clk(clk), .scaled(sum_b), .c(c_b), .s(s_b), .r(r));
    reg [AW-1:0] jc;
    reg vc;
    always @(posedge clk) begin
        jc <= jb;
        vc <= rst ? 1'b0 : vb;
        if (vc) ybuf[jc] <= r;
    end
endmodule

`default_nettype wire
