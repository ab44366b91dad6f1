// lf_fabric_mul: p = a * m as shifted partial products, so synthesis keeps the
// multiplier in fabric (LUTs and carry chains) and DSP slices stay with the
// multiply-add chains. Combinational.
`default_nettype none

module lf_fabric_mul #(
    parameter integer A_BITS = 16,   // signed multiplicand
    parameter integer M_BITS = 15,   // unsigned multiplier
    parameter integer P_BITS = 32    // signed product, > A_BITS
) (
    input  wire signed [A_BITS-1:0] a,
    input  wire        [M_BITS-1:0] m,
    output reg  signed [P_BITS-1:0] p
);
    reg signed [P_BITS-1:0] ext;
    integer j;
    always @* begin
        ext = {{(P_BITS-A_BITS){a[A_BITS-1]}}, a};
        p = {P_BITS{1'b0}};
        for (j = 0; j < M_BITS; j = j + 1)
            if (m[j]) p = p + (ext <<< j);
    end
endmodule

`default_nettype wire
