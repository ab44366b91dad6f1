// lf_threshold: FINN's MultiThreshold as a kernel. Each element is compared with
// the thresholds of its channel (element i uses row i mod C) while the frame
// loads: y = BASE + STEP * #{t : x >= t} (#{t : x <= t} for a descending channel).
// Arithmetic: docs/numerics.md, "Thresholds". Uses lf_rom.
//
// Timing (no back-pressure): LOAD N beats, one cycle to compare and store the
// last element, EMIT N beats. The next kernel's LOAD is this EMIT.
`default_nettype none

module lf_threshold #(
    parameter integer N = 4,           // elements per frame
    parameter integer C = 4,           // channels
    parameter integer T = 1,           // thresholds per channel
    parameter integer X_BITS = 8,
    parameter integer X_SIGNED = 1,
    parameter integer TH_BITS = 9,     // signed threshold, > X_BITS
    parameter integer Y_BITS = 8,
    parameter integer BASE = 0,        // output of level 0
    parameter integer STEP = 1,        // output step per level
    parameter TH_FILE = "th.mem"       // C words of {descending, T[T-1] ... T[0]}
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
    localparam integer ROW = T * TH_BITS + 1;
    localparam integer CB = $clog2(T + 1);            // level count width
    localparam integer N_LAST_I = N - 1;
    localparam integer C_LAST_I = C - 1;
    localparam [IW-1:0] N_LAST = N_LAST_I[IW-1:0];
    localparam [CW-1:0] C_LAST = C_LAST_I[CW-1:0];
    localparam signed [31:0] BASE_S = BASE;
    localparam signed [31:0] STEP_S = STEP;
    localparam [1:0] S_LOAD = 2'd0, S_DRAIN = 2'd1, S_EMIT = 2'd2;

    reg [1:0] state;
    reg [IW-1:0] i;        // load index
    reg [CW-1:0] ch;       // its channel
    reg [IW-1:0] e;        // emit index
    reg [Y_BITS-1:0] ybuf [0:N-1];

    assign in_ready = (state == S_LOAD);
    assign out_valid = (state == S_EMIT);
    assign out_data = ybuf[e];
    wire in_fire = in_valid && in_ready;
    wire out_fire = out_valid && out_ready;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            i <= {IW{1'b0}};
            ch <= {CW{1'b0}};
            e <= {IW{1'b0}};
        end else begin
            case (state)
                S_LOAD: if (in_fire) begin
                    ch <= (ch == C_LAST) ? {CW{1'b0}} : ch + 1'b1;
                    if (i == N_LAST) begin
                        i <= {IW{1'b0}};
                        ch <= {CW{1'b0}};
                        state <= S_DRAIN;
                    end else begin
                        i <= i + 1'b1;
                    end
                end
                S_DRAIN: state <= S_EMIT;
                default: if (out_fire) begin
                    if (e == N_LAST) begin
                        e <= {IW{1'b0}};
                        state <= S_LOAD;
                    end else begin
                        e <= e + 1'b1;
                    end
                end
            endcase
        end
    end

    // A: the element and its index; the channel's row is read meanwhile.
    reg [X_BITS-1:0] xa;
    reg [IW-1:0] ia;
    reg va;
    always @(posedge clk) begin
        xa <= in_data;
        ia <= i;
        va <= rst ? 1'b0 : in_fire;
    end
    wire [ROW-1:0] row;
    lf_rom #(.WIDTH(ROW), .DEPTH(C), .ADDR_BITS(CW), .INIT_FILE(TH_FILE)) u_rows (.clk(clk), .addr(ch), .data(row));

    // B: compare with every threshold, count, map the level and store.
    wire signed [TH_BITS-1:0] xe = {{(TH_BITS-X_BITS){(X_SIGNED != 0) & xa[X_BITS-1]}}, xa};
    reg [CB-1:0] count;
    reg signed [TH_BITS-1:0] t;
    integer j;
    always @* begin
        count = {CB{1'b0}};
        for (j = 0; j < T; j = j + 1) begin
            t = row[j*TH_BITS +: TH_BITS];
            if (row[ROW-1] ? (xe <= t) : (xe >= t)) count = count + 1'b1;
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [31:0] y = BASE_S + STEP_S * $signed({{(32-CB){1'b0}}, count});
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk) if (va) ybuf[ia] <= y[Y_BITS-1:0];
endmodule

`default_nettype wire
