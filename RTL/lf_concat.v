// lf_concat: two to four frames of one element type, one after another. Each
// port loads its frame at its offset; the whole frame is offered the cycle after
// the last port's last beat.
`default_nettype none

module lf_concat #(
    parameter integer K = 2,           // ports, 2..4
    parameter integer X_BITS = 8,
    parameter integer N0 = 1,
    parameter integer N1 = 1,
    parameter integer N2 = 0,
    parameter integer N3 = 0
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [K-1:0]        in_valid,
    output wire [K-1:0]        in_ready,
    input  wire [K*X_BITS-1:0] in_data,
    output wire                out_valid,
    input  wire                out_ready,
    output wire [X_BITS-1:0]   out_data
);
    localparam integer NT = N0 + N1 + N2 + N3;
    localparam integer IW = $clog2(NT + 1);                // port counters reach their frame length
    localparam integer AW = (NT > 1) ? $clog2(NT) : 1;     // buffer index
    localparam integer O1_I = N0, O2_I = N0 + N1, O3_I = N0 + N1 + N2;
    localparam integer NT_LAST_I = NT - 1;
    localparam [AW-1:0] NT_LAST = NT_LAST_I[AW-1:0];
    localparam [AW-1:0] O1 = O1_I[AW-1:0], O2 = O2_I[AW-1:0], O3 = O3_I[AW-1:0];

    reg [X_BITS-1:0] buffer [0:NT-1];
    reg [K*IW-1:0] cnt;      // per port, packed
    reg [AW-1:0] e;
    reg emit;
    wire [K-1:0] full;
    genvar p;
    generate
        for (p = 0; p < K; p = p + 1) begin : g_port
            localparam integer NP = (p == 0) ? N0 : (p == 1) ? N1 : (p == 2) ? N2 : N3;
            localparam [IW-1:0] NP_W = NP[IW-1:0];
            assign full[p] = (cnt[p*IW +: IW] == NP_W);
            assign in_ready[p] = !emit && !full[p];
        end
    endgenerate
    assign out_valid = emit;
    assign out_data = buffer[e];

    // The last beats: every port is full, or becomes full this cycle.
    reg [K-1:0] filling;
    integer q;
    always @* begin
        for (q = 0; q < K; q = q + 1) begin
            filling[q] = full[q] || (in_valid[q] && in_ready[q] &&
                (cnt[q*IW +: IW] + 1'b1 == ((q == 0) ? N0[IW-1:0] : (q == 1) ? N1[IW-1:0] : (q == 2) ? N2[IW-1:0] : N3[IW-1:0])));
        end
    end

    integer k;
    always @(posedge clk) begin
        if (rst) begin
            emit <= 1'b0;
            e <= {AW{1'b0}};
            cnt <= {(K*IW){1'b0}};
        end else if (emit) begin
            if (out_ready) begin
                if (e == NT_LAST) begin
                    e <= {AW{1'b0}};
                    emit <= 1'b0;
                end else begin
                    e <= e + 1'b1;
                end
            end
        end else begin
            for (k = 0; k < K; k = k + 1) begin
                if (in_valid[k] && in_ready[k]) begin
                    buffer[((k == 0) ? {AW{1'b0}} : (k == 1) ? O1 : (k == 2) ? O2 : O3) + cnt[k*IW +: AW]] <= in_data[k*X_BITS +: X_BITS];
                    cnt[k*IW +: IW] <= cnt[k*IW +: IW] + 1'b1;
                end
            end
            if (&filling) begin
                emit <= 1'b1;
                cnt <= {(K*IW){1'b0}};
            end
        end
    end
endmodule

`default_nettype wire
