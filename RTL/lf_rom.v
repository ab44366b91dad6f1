// lf_rom: read-only table with a registered read port, initialised from a hex
// image. The registered read lets synthesis map it to block RAM (or LUTRAM).
`default_nettype none

module lf_rom #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 16,
    parameter integer ADDR_BITS = 4,
    parameter INIT_FILE = "rom.mem"
) (
    input  wire                 clk,
    input  wire [ADDR_BITS-1:0] addr,
    output reg  [WIDTH-1:0]     data
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];

    initial $readmemh(INIT_FILE, mem);

    always @(posedge clk) data <= mem[addr];
endmodule

`default_nettype wire
