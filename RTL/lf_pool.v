// lf_pool: each frame of N = WINDOW * C elements reduced per channel (element i
// belongs to channel i mod C) to its maximum (SUM = 0) or its exact sum (SUM = 1),
// while the frame loads. After a sliding window it is a max pool or the sum of an
// average pool; over a whole map a global pool. Arithmetic: docs/numerics.md,
// "Pools".
//
// Timing (no back-pressure): LOAD N beats, then EMIT C beats from the next cycle.
`default_nettype none

module lf_pool #(
    parameter integer N = 4,           // elements per frame
    parameter integer C = 1,           // channels
    parameter integer X_BITS = 8,
    parameter integer X_SIGNED = 1,
    parameter integer Y_BITS = 8,      // X_BITS for a max, the proven sum width for a sum
    parameter integer SUM = 0
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
    localparam integer IW = (N > 1) ? $clog2(N) : 1;
    localparam integer CW = (C > 1) ? $clog2(C) : 1;
    localparam integer N_LAST_I = N - 1;
    localparam integer C_LAST_I = C - 1;
    localparam [IW-1:0] N_LAST = N_LAST_I[IW-1:0];
    localparam [CW-1:0] C_LAST = C_LAST_I[CW-1:0];

    reg emitting;
    reg [IW-1:0] i;         // load index
    reg [CW-1:0] ch;        // its channel
    reg first;              // the first element of each channel in this frame
    reg [CW-1:0] e;         // emit index
    reg [Y_BITS-1:0] acc [0:C-1];

    assign in_ready = !emitting;
    assign out_valid = emitting;
    assign out_data = acc[e];
    wire in_fire = in_valid && in_ready;
    wire out_fire = out_valid && out_ready;

    // The element and the running value, one bit wider and signed so either signedness compares right.
    wire signed [Y_BITS:0] xe = {{(Y_BITS+1-X_BITS){(X_SIGNED != 0) & in_data[X_BITS-1]}}, in_data};
    wire [Y_BITS-1:0] cur = acc[ch];
    wire signed [Y_BITS:0] ae = {(X_SIGNED != 0) & cur[Y_BITS-1], cur};
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [Y_BITS:0] next = first ? xe : (SUM != 0) ? ae + xe : ((xe > ae) ? xe : ae);
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        if (in_fire) acc[ch] <= next[Y_BITS-1:0];
        if (rst) begin
            emitting <= 1'b0;
            i <= {IW{1'b0}};
            ch <= {CW{1'b0}};
            first <= 1'b1;
            e <= {CW{1'b0}};
        end else if (!emitting) begin
            if (in_fire) begin
                if (ch == C_LAST) begin
                    ch <= {CW{1'b0}};
                    first <= 1'b0;
                end else begin
                    ch <= ch + 1'b1;
                end
                if (i == N_LAST) begin
                    i <= {IW{1'b0}};
                    ch <= {CW{1'b0}};
                    first <= 1'b1;
                    emitting <= 1'b1;
                end else begin
                    i <= i + 1'b1;
                end
            end
        end else if (out_fire) begin
            if (e == C_LAST) begin
                e <= {CW{1'b0}};
                emitting <= 1'b0;
            end else begin
                e <= e + 1'b1;
            end
        end
    end
endmodule

`default_nettype wire
