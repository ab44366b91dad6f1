// lf_fifo: a first-in first-out buffer on a branch of the dataflow graph, so a
// fork's faster reader does not stall the slower one (the depth comes from the
// schedule: docs/numerics.md, "FIFOs").
//
// Timing: in_ready while fewer than DEPTH beats are held; out_valid while any is
// held; a beat accepted in one cycle is offered from the next. Pushing and popping
// in the same cycle keep the count.
`default_nettype none

module lf_fifo #(
    parameter integer W = 8,
    parameter integer DEPTH = 4
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    output wire         in_ready,
    input  wire [W-1:0] in_data,
    output wire         out_valid,
    input  wire         out_ready,
    output wire [W-1:0] out_data
);
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam integer NW = $clog2(DEPTH + 1);
    localparam integer LAST_I = DEPTH - 1;
    localparam integer DEPTH_I = DEPTH;
    localparam [AW-1:0] LAST = LAST_I[AW-1:0];
    localparam [NW-1:0] FULL = DEPTH_I[NW-1:0];

    reg [W-1:0] mem [0:DEPTH-1];
    reg [AW-1:0] wr, rd;
    reg [NW-1:0] count;

    assign in_ready = (count != FULL);
    assign out_valid = (count != {NW{1'b0}});
    assign out_data = mem[rd];
    wire push = in_valid && in_ready;
    wire pop = out_valid && out_ready;

    always @(posedge clk) begin
        if (push) mem[wr] <= in_data;
        if (rst) begin
            wr <= {AW{1'b0}};
            rd <= {AW{1'b0}};
            count <= {NW{1'b0}};
        end else begin
            if (push) wr <= (wr == LAST) ? {AW{1'b0}} : wr + 1'b1;
            if (pop) rd <= (rd == LAST) ? {AW{1'b0}} : rd + 1'b1;
            if (push && !pop) count <= count + 1'b1;
            else if (pop && !push) count <= count - 1'b1;
        end
    end
endmodule

`default_nettype wire
