// lf_tf_engine_out: the output side shared by the reused transformer engines
// (lf_tf_dsp_engine, lf_tf_lut_engine): a column's exact accumulator `fin`, with its
// requantizer {M, C, S} sampled on the `fin_v` pulse, becomes acc*M (one stage),
// lf_round_clamp's (acc*M + C) >>> S (one stage), the clamp to the linear's [lo, hi]
// and the optional activation table at `tbase` (one stage) - the requantizer of
// docs/numerics.md - and is presented on out_* until taken.
`default_nettype none

module lf_tf_engine_out #(
    parameter integer ACC_BITS = 32,   // signed accumulator
    parameter integer M_BITS = 16,     // unsigned multiplier
    parameter integer P_BITS = 48,     // signed acc*M + C, > ACC_BITS, > M_BITS, > Y_BITS + 1, <= 64
    parameter integer Y_BITS = 16,     // signed output
    parameter integer HALF_EVEN = 0,
    parameter integer T_COUNT = 1,     // entries of all activation tables
    parameter T_FILE = "engine_t.mem"
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     fin_v,
    input  wire signed [ACC_BITS-1:0] fin,
    input  wire [M_BITS-1:0]        m,
    input  wire [P_BITS-1:0]        c,
    input  wire [5:0]               s,
    input  wire signed [63:0]       lo,
    input  wire signed [63:0]       hi,
    input  wire                     table_en,
    input  wire [31:0]              tbase,
    output reg                      out_valid,
    input  wire                     out_ready,
    output reg  [Y_BITS-1:0]        out_data
);
    localparam integer TW = (T_COUNT > 1) ? $clog2(T_COUNT) : 1;
    reg scaled_v, r_v;
    reg signed [P_BITS-1:0] scaled, c_r;
    reg [5:0] s_r;
    wire signed [P_BITS-2:0] r;
    lf_round_clamp #(.P_BITS(P_BITS), .C_BITS(P_BITS), .S_BITS(6), .R_BITS(P_BITS - 1), .R_SIGNED(1), .R_NARROW(0), .HALF_EVEN(HALF_EVEN))
        u_round (.clk(clk), .scaled(scaled), .c(c_r), .s(s_r), .r(r));
    wire signed [63:0] r64 = {{(65-P_BITS){r[P_BITS-2]}}, r};
    wire signed [63:0] y = (r64 < lo) ? lo : (r64 > hi) ? hi : r64;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [63:0] t_at = {32'd0, tbase} + (y - lo);
    /* verilator lint_on UNUSEDSIGNAL */
    reg signed [Y_BITS-1:0] table_rom [0:T_COUNT-1];
    initial $readmemh(T_FILE, table_rom);

    always @(posedge clk) begin
        scaled_v <= fin_v;
        r_v <= scaled_v;
        if (fin_v) begin
            scaled <= {{(P_BITS-ACC_BITS){fin[ACC_BITS-1]}}, fin} * {{(P_BITS-M_BITS){1'b0}}, m};
            c_r <= c;
            s_r <= s;
        end
        if (r_v) begin
            out_data <= table_en ? table_rom[t_at[TW-1:0]] : y[Y_BITS-1:0];
            out_valid <= 1'b1;
        end else if (out_ready) begin
            out_valid <= 1'b0;
        end
        if (rst) begin
            scaled_v <= 1'b0;
            r_v <= 1'b0;
            out_valid <= 1'b0;
        end
    end
endmodule

`default_nettype wire
