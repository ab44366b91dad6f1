// lf_lane_store: one output lane's buffer. Stores a requantized value per pass,
// optionally through an activation table (one extra cycle), and serves the
// value of pass `rd_pass` combinationally for streaming out.
`default_nettype none

module lf_lane_store #(
    parameter integer PASSES = 1,
    parameter integer PW = 1,          // pass index width
    parameter integer R_BITS = 8,
    parameter integer R_SIGNED = 1,
    parameter integer HAS_TABLE = 0,   // 1: store T[r - min] instead of r
    parameter integer Y_BITS = 8,
    parameter T_FILE = "t.mem"
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              wr,        // stage E: r is valid for pass wr_pass
    input  wire [PW-1:0]     wr_pass,
    input  wire [R_BITS-1:0] r,
    input  wire [PW-1:0]     rd_pass,
    output wire [Y_BITS-1:0] data
);
    reg [Y_BITS-1:0] ybuf [0:PASSES-1];
    assign data = ybuf[rd_pass];

    generate
        if (HAS_TABLE != 0) begin : g_table
            // E: read the table at the value's offset from the type's minimum
            // (flipping the sign bit of a signed value gives that offset); F: write.
            wire [R_BITS-1:0] t_addr = (R_SIGNED != 0) ? {~r[R_BITS-1], r[R_BITS-2:0]} : r;
            wire [Y_BITS-1:0] t_data;
            lf_rom #(.WIDTH(Y_BITS), .DEPTH(1 << R_BITS), .ADDR_BITS(R_BITS), .INIT_FILE(T_FILE))
                u_table (.clk(clk), .addr(t_addr), .data(t_data));
            reg wr_f;
            reg [PW-1:0] pass_f;
            always @(posedge clk) begin
                wr_f <= rst ? 1'b0 : wr;
                pass_f <= wr_pass;
                if (wr_f) ybuf[pass_f] <= t_data;
            end
        end else begin : g_direct
            always @(posedge clk) if (wr && !rst) ybuf[wr_pass] <= r;
        end
    endgenerate
endmodule

`default_nettype wire
