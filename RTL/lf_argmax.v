// lf_argmax: the index of the largest element of a frame, ties to the lowest
// index (ONNX ArgMax, TopK with k = 1). The running maximum is kept while the
// frame loads; the index is offered the cycle after the last input beat.
`default_nettype none

module lf_argmax #(
    parameter integer N = 4,
    parameter integer X_BITS = 8,
    parameter integer X_SIGNED = 1,
    parameter integer Y_BITS = 2       // index width
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
    localparam integer N_LAST_I = N - 1;
    localparam [Y_BITS-1:0] N_LAST = N_LAST_I[Y_BITS-1:0];

    reg emit;
    reg [Y_BITS-1:0] i, best_i;
    reg [X_BITS-1:0] best;
    assign in_ready = !emit;
    assign out_valid = emit;
    assign out_data = best_i;
    wire in_fire = in_valid && in_ready;
    wire signed [X_BITS:0] xs = {(X_SIGNED != 0) & in_data[X_BITS-1], in_data};
    wire signed [X_BITS:0] bs = {(X_SIGNED != 0) & best[X_BITS-1], best};

    always @(posedge clk) begin
        if (rst) begin
            emit <= 1'b0;
            i <= {Y_BITS{1'b0}};
        end else if (emit) begin
            if (out_ready) emit <= 1'b0;
        end else if (in_fire) begin
            // Strictly larger wins, so ties keep the first index.
            if (i == {Y_BITS{1'b0}} || xs > bs) begin
                best <= in_data;
                best_i <= i;
            end
            if (i == N_LAST) begin
                i <= {Y_BITS{1'b0}};
                emit <= 1'b1;
            end else begin
                i <= i + 1'b1;
            end
        end
    end
endmodule

`default_nettype wire
