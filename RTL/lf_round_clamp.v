// lf_round_clamp: the end of every requantizer (docs/numerics.md, "Requantize"):
// r = clamp((scaled + C) >>> s, lo, hi), an arithmetic (flooring) shift, lo and hi the
// result type's range (R_NARROW: QONNX narrow range); C is the
// requantizer's offset (2^(s-1) rounds half up; a bias or zero point may be folded in).
// With HALF_EVEN the shift rounds (scaled + C) / 2^s half to even instead (convergent
// rounding: up when the dropped bits exceed half, or equal half and the kept value is odd).
// One register stage.
`default_nettype none

module lf_round_clamp #(
    parameter integer P_BITS = 32,   // signed scaled value, proven to hold scaled + C
    parameter integer C_BITS = 8,    // signed offset, <= P_BITS
    parameter integer S_BITS = 5,    // unsigned shift
    parameter integer R_BITS = 8,    // result width, < P_BITS
    parameter integer R_SIGNED = 1,
    parameter integer R_NARROW = 0,  // 1: narrow range (signed without -2^(R-1), unsigned without 2^R - 1)
    parameter integer HALF_EVEN = 0
) (
    input  wire                     clk,
    input  wire signed [P_BITS-1:0] scaled,
    input  wire signed [C_BITS-1:0] c,
    input  wire        [S_BITS-1:0] s,
    output reg         [R_BITS-1:0] r
);
    localparam signed [P_BITS-1:0] ONE = {{(P_BITS-1){1'b0}}, 1'b1};
    wire signed [P_BITS-1:0] ce;
    generate
        if (P_BITS > C_BITS) begin : g_extend
            assign ce = {{(P_BITS-C_BITS){c[C_BITS-1]}}, c};
        end else begin : g_same
            assign ce = c[P_BITS-1:0];
        end
    endgenerate
    wire signed [P_BITS-1:0] sum = scaled + ce;
    wire signed [P_BITS-1:0] floored = sum >>> s;
    wire signed [P_BITS-1:0] shifted;
    generate
        if (HALF_EVEN != 0) begin : g_half_even
            wire [P_BITS-1:0] mask = (ONE <<< s) - ONE;
            wire [P_BITS-1:0] rem = sum & mask;
            wire [P_BITS-1:0] half = (s == {S_BITS{1'b0}}) ? {P_BITS{1'b0}} : (ONE <<< (s - 1'b1));
            wire up = (s != {S_BITS{1'b0}}) && ((rem > half) || (rem == half && floored[0]));
            assign shifted = floored + {{(P_BITS-1){1'b0}}, up};
        end else begin : g_floor
            assign shifted = floored;
        end
    endgenerate
    localparam signed [P_BITS-1:0] NARROW_LO = (R_NARROW != 0 && R_SIGNED != 0) ? ONE : {P_BITS{1'b0}};
    localparam signed [P_BITS-1:0] NARROW_HI = (R_NARROW != 0 && R_SIGNED == 0) ? ONE : {P_BITS{1'b0}};
    wire signed [P_BITS-1:0] lo = ((R_SIGNED != 0) ? -(ONE <<< (R_BITS - 1)) : {P_BITS{1'b0}}) + NARROW_LO;
    wire signed [P_BITS-1:0] hi = ((R_SIGNED != 0) ? (ONE <<< (R_BITS - 1)) : (ONE <<< R_BITS)) - ONE - NARROW_HI;

    always @(posedge clk)
        r <= (shifted < lo) ? lo[R_BITS-1:0] : (shifted > hi) ? hi[R_BITS-1:0] : shifted[R_BITS-1:0];
endmodule

`default_nettype wire
