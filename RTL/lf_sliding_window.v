// lf_sliding_window: the window generator of a convolution or pool. The map
// arrives position by position, the C channels of each position together
// (channels-last); a line buffer of R = (KH-1)*DH + 1 rows holds what the next
// windows need. For each output position in raster order the module loads the
// positions that window still needs, then emits its KH*KW*C elements (ky, kx, c;
// with GROUPS > 1 group by group: g, ky, kx, c mod C/GROUPS) with PAD at padding
// positions. After the last window it loads what remains of the map. Addresses are
// kept by counters (no multiplier, no divider). Arithmetic: docs/numerics.md,
// "Sliding windows".
//
// Timing (no back-pressure): the cycle after the last beat a window needs, its
// first element is offered; the cycle after its last element is accepted, the
// next window loads (or, if it needs nothing new, is offered).
`default_nettype none

module lf_sliding_window #(
    parameter integer H = 4,
    parameter integer W = 4,
    parameter integer C = 1,
    parameter integer KH = 3,
    parameter integer KW = 3,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer DH = 1,
    parameter integer DW = 1,
    parameter integer PT = 0,          // padding rows above
    parameter integer PL = 0,          // padding columns to the left
    parameter integer OH = 2,
    parameter integer OW = 2,
    parameter integer GROUPS = 1,
    parameter integer X_BITS = 8,
    parameter [X_BITS-1:0] PAD = {X_BITS{1'b0}},
    parameter NR_FILE = "nr.mem",      // OH words: (last map row a window row needs * W + 1) * C, 0 for none
    parameter NC_FILE = "nc.mem"       // OW words: (last map column a window column needs + 1) * C, 0 for none
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [X_BITS-1:0] in_data,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [X_BITS-1:0] out_data
);
    localparam integer R = (KH - 1) * DH + 1;          // line buffer rows
    localparam integer WC = W * C;
    localparam integer DEPTH = R * WC;
    localparam integer TOTAL = H * WC;                 // beats per map
    localparam integer CG = C / GROUPS;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    // Ring steps: a row down (DH), a window row down (SH), the first row (-PT), all modulo R.
    localparam integer DHR = DH % R;
    localparam integer SHR = SH % R;
    localparam integer PTR = (R - (PT % R)) % R;
    localparam [1:0] S_LOAD = 2'd0, S_EMIT = 2'd1, S_REST = 2'd2;

    reg [31:0] need_row [0:OH-1];
    reg [31:0] need_col [0:OW-1];
    initial begin
        $readmemh(NR_FILE, need_row);
        $readmemh(NC_FILE, need_col);
    end

    reg [X_BITS-1:0] buffer [0:DEPTH-1];
    reg [1:0] state;
    reg [31:0] loaded;          // beats of this map received
    reg [31:0] wa;              // write address, wraps at DEPTH
    reg [31:0] oy, ox;
    // The window: its first row and column (signed), ring row, and their address parts.
    reg signed [31:0] row_b, col_b, cola_b;
    reg [31:0] rr_b, rowa_b;
    // The element: counters and the same quantities.
    reg [31:0] g, ky, kx, cg, chan, gbase;
    reg signed [31:0] row_e, col_e, cola_e;
    reg [31:0] rr_e, rowa_e;

    function [31:0] need_beats(input [31:0] r, input [31:0] c);
        need_beats = (r == 32'd0 || c == 32'd0) ? 32'd0 : r + c - C;
    endfunction

    wire last_x = (ox == OW - 1);
    wire last_y = (oy == OH - 1);
    wire [31:0] oy_next = last_x ? oy + 32'd1 : oy;
    wire [31:0] ox_next = last_x ? 32'd0 : ox + 32'd1;
    wire [31:0] need_now = need_beats(need_row[oy], need_col[ox]);
    wire [31:0] need_next = need_beats(need_row[oy_next], need_col[ox_next]);
    wire [31:0] need_first = need_beats(need_row[0], need_col[0]);

    // The next window's bases.
    wire [31:0] rr_sum = rr_b + SHR;
    wire [31:0] rowa_sum = rowa_b + SHR * WC;
    wire signed [31:0] row_n = last_x ? row_b + SH : row_b;
    wire [31:0] rr_n = last_x ? (rr_sum >= R ? rr_sum - R : rr_sum) : rr_b;
    wire [31:0] rowa_n = last_x ? (rowa_sum >= DEPTH ? rowa_sum - DEPTH : rowa_sum) : rowa_b;
    wire signed [31:0] col_n = last_x ? -PL : col_b + SW;
    wire signed [31:0] cola_n = last_x ? -PL * C : cola_b + SW * C;
    // The element one row down.
    wire [31:0] rr_down = rr_e + DHR;
    wire [31:0] rowa_down = rowa_e + DHR * WC;

    wire in_map = (row_e >= 0) && (row_e < H) && (col_e >= 0) && (col_e < W);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] ra = rowa_e + $unsigned(cola_e) + chan;   // the buffer address, below DEPTH
    /* verilator lint_on UNUSEDSIGNAL */

    assign in_ready = (state != S_EMIT);
    assign out_valid = (state == S_EMIT);
    assign out_data = in_map ? buffer[ra[AW-1:0]] : PAD;
    wire in_fire = in_valid && in_ready;
    wire out_fire = out_valid && out_ready;
    wire window_done = (g == GROUPS - 1) && (ky == KH - 1) && (kx == KW - 1) && (cg == CG - 1);

    // Element state at the start of a window with the given bases.
    task start_window(input signed [31:0] r, input [31:0] rr, input [31:0] rowa, input signed [31:0] c, input signed [31:0] ca);
        begin
            g <= 32'd0; ky <= 32'd0; kx <= 32'd0; cg <= 32'd0; chan <= 32'd0; gbase <= 32'd0;
            row_e <= r; rr_e <= rr; rowa_e <= rowa; col_e <= c; cola_e <= ca;
        end
    endtask

    // The first window of a map.
    task start_map;
        begin
            oy <= 32'd0;
            ox <= 32'd0;
            row_b <= -PT; rr_b <= PTR; rowa_b <= PTR * WC; col_b <= -PL; cola_b <= -PL * C;
            start_window(-PT, PTR, PTR * WC, -PL, -PL * C);
            loaded <= 32'd0;
            wa <= 32'd0;
            state <= (need_first != 32'd0) ? S_LOAD : S_EMIT;
        end
    endtask

    always @(posedge clk) begin
        if (in_fire) buffer[wa[AW-1:0]] <= in_data;
        if (rst) begin
            start_map;
        end else begin
            case (state)
                S_LOAD: if (in_fire) begin
                    wa <= (wa == DEPTH - 1) ? 32'd0 : wa + 32'd1;
                    loaded <= loaded + 32'd1;
                    if (loaded + 32'd1 >= need_now) state <= S_EMIT;
                end
                S_REST: if (in_fire) begin
                    wa <= (wa == DEPTH - 1) ? 32'd0 : wa + 32'd1;
                    if (loaded + 32'd1 == TOTAL) start_map;
                    else loaded <= loaded + 32'd1;
                end
                default: if (out_fire) begin
                    if (window_done) begin
                        if (last_x && last_y) begin
                            if (loaded == TOTAL) start_map;
                            else state <= S_REST;
                        end else begin
                            oy <= oy_next;
                            ox <= ox_next;
                            row_b <= row_n; rr_b <= rr_n; rowa_b <= rowa_n; col_b <= col_n; cola_b <= cola_n;
                            start_window(row_n, rr_n, rowa_n, col_n, cola_n);
                            state <= (need_next > loaded) ? S_LOAD : S_EMIT;
                        end
                    end else if (cg != CG - 1) begin
                        cg <= cg + 32'd1;
                        chan <= chan + 32'd1;
                    end else begin
                        cg <= 32'd0;
                        chan <= gbase;
                        if (kx != KW - 1) begin
                            kx <= kx + 32'd1;
                            col_e <= col_e + DW;
                            cola_e <= cola_e + DW * C;
                        end else begin
                            kx <= 32'd0;
                            col_e <= col_b;
                            cola_e <= cola_b;
                            if (ky != KH - 1) begin
                                ky <= ky + 32'd1;
                                row_e <= row_e + DH;
                                rr_e <= (rr_down >= R) ? rr_down - R : rr_down;
                                rowa_e <= (rowa_down >= DEPTH) ? rowa_down - DEPTH : rowa_down;
                            end else begin
                                ky <= 32'd0;
                                row_e <= row_b;
                                rr_e <= rr_b;
                                rowa_e <= rowa_b;
                                g <= g + 32'd1;
                                gbase <= gbase + CG;
                                chan <= gbase + CG;
                            end
                        end
                    end
                end
            endcase
        end
    end
endmodule

`default_nettype wire
