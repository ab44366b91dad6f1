// lf_tf_rope: rotary position embedding (rotate-half) of HEADS heads of HD integers at the
// position `pos` sampled with the first beat (docs/numerics.md, "Transformer integer
// numerics"): for each pair (a, b) = (x_i, x_(i+HD/2)) of a head,
//   a' = clamp((a*C - b*S + 2^13) >>> 14),  b' = clamp((b*C + a*S + 2^13) >>> 14)
// with C, S the 2^14 fixed-point tables [position][HD/2] from hex images.
//
// Timing: LOAD HEADS*HD beats, then EMIT HEADS*HD beats (one rotation per beat).
`default_nettype none

module lf_tf_rope #(
    parameter integer HEADS = 1,
    parameter integer HD = 8,
    parameter integer POSITIONS = 4,
    parameter integer X_BITS = 8,
    parameter integer P_BITS = 8,       // position input
    parameter C_FILE = "cos.mem",
    parameter S_FILE = "sin.mem"
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [P_BITS-1:0] pos,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [X_BITS-1:0] in_data,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [X_BITS-1:0] out_data
);
    localparam integer W = HEADS * HD;
    localparam integer HALF = HD / 2;
    localparam integer IW = $clog2(W + 1);
    localparam integer AW = (W > 1) ? $clog2(W) : 1;
    localparam integer TW = (POSITIONS * HALF > 1) ? $clog2(POSITIONS * HALF) : 1;
    localparam integer LAST_I = W - 1;
    localparam [IW-1:0] LAST = LAST_I[IW-1:0];
    localparam signed [31:0] Y_MAX = (32'sd1 <<< (X_BITS - 1)) - 32'sd1;
    localparam signed [31:0] Y_MIN = -(32'sd1 <<< (X_BITS - 1));

    reg signed [X_BITS-1:0] xbuf [0:W-1];
    reg signed [15:0] cmem [0:POSITIONS*HALF-1];
    reg signed [15:0] smem [0:POSITIONS*HALF-1];
    initial begin
        $readmemh(C_FILE, cmem);
        $readmemh(S_FILE, smem);
    end

    reg emit;
    reg [IW-1:0] n;
    reg [P_BITS-1:0] p;
    assign in_ready = !emit;
    assign out_valid = emit;
    wire in_fire = in_valid && in_ready, out_fire = out_valid && out_ready;

    // Output n: element i of its head's first half takes a*C - b*S, of the second b*C + a*S.
    wire [31:0] nn = {{(32 - IW){1'b0}}, n};
    wire [31:0] offs = nn % HD;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] base = nn - offs;
    wire second = offs >= HALF;
    wire [31:0] i = second ? offs - HALF : offs;
    wire [AW-1:0] ia = base[AW-1:0] + i[AW-1:0];
    wire [AW-1:0] ib = base[AW-1:0] + i[AW-1:0] + HALF[AW-1:0];
    wire [31:0] pp = {{(32 - P_BITS){1'b0}}, p};
    wire [31:0] ti = pp * HALF + i;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [TW-1:0] t = ti[TW-1:0];
    wire signed [X_BITS-1:0] a0 = xbuf[ia], b0 = xbuf[ib];
    wire signed [15:0] c0 = cmem[t], s0 = smem[t];
    wire signed [31:0] a = {{(32 - X_BITS){a0[X_BITS-1]}}, a0}, b = {{(32 - X_BITS){b0[X_BITS-1]}}, b0};
    wire signed [31:0] c = {{16{c0[15]}}, c0}, s = {{16{s0[15]}}, s0};
    wire signed [31:0] rot = second ? (b * c + a * s + 32'sd8192) >>> 14 : (a * c - b * s + 32'sd8192) >>> 14;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [31:0] y = rot > Y_MAX ? Y_MAX : (rot < Y_MIN ? Y_MIN : rot);
    /* verilator lint_on UNUSEDSIGNAL */
    assign out_data = y[X_BITS-1:0];

    always @(posedge clk) begin
        if (in_fire) xbuf[n[AW-1:0]] <= in_data;
        if (rst) begin
            emit <= 1'b0;
            n <= {IW{1'b0}};
        end else if (in_fire) begin
            if (n == {IW{1'b0}}) p <= pos;
            n <= (n == LAST) ? {IW{1'b0}} : n + 1'b1;
            if (n == LAST) emit <= 1'b1;
        end else if (out_fire) begin
            n <= (n == LAST) ? {IW{1'b0}} : n + 1'b1;
            if (n == LAST) emit <= 1'b0;
        end
    end
endmodule

`default_nettype wire
