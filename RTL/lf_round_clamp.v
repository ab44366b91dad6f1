// lf_round_clamp: the rounding shift and saturation of the requantizer
// (docs/numerics.md): r = clamp((scaled + half) >>> s, lo, hi), half = 2^(s-1)
// for s >= 1 and 0 for s = 0. One register stage.
`default_nettype none

module lf_round_clamp #(
    parameter integer P_BITS = 32,   // signed scaled value
    parameter integer S_BITS = 5,    // unsigned shift
    parameter integer R_BITS = 8,    // result width
    parameter integer R_SIGNED = 1
) (
    input  wire                     clk,
    input  wire signed [P_BITS-1:0] scaled,
    input  wire        [S_BITS-1:0] s,
    output reg         [R_BITS-1:0] r
);
    localparam signed [P_BITS-1:0] ONE = {{(P_BITS-1){1'b0}}, 1'b1};
    wire signed [P_BITS-1:0] half = (s == {S_BITS{1'b0}}) ? {P_BITS{1'b0}} : ONE << (s - 1'b1);
    wire signed [P_BITS-1:0] shifted = (scaled + half) >>> s;
    wire signed [P_BITS-1:0] lo = (R_SIGNED != 0) ? -(ONE << (R_BITS - 1)) : {P_BITS{1'b0}};
    wire signed [P_BITS-1:0] hi = ((R_SIGNED != 0) ? (ONE << (R_BITS - 1)) : (ONE << R_BITS)) - ONE;

    always @(posedge clk)
        r <= (shifted < lo) ? lo[R_BITS-1:0] : (shifted > hi) ? hi[R_BITS-1:0] : shifted[R_BITS-1:0];
endmodule

`default_nettype wire
