// lf_sliding_window: the window generator of a convolution or pool. The map
// arrives position by position, the C channels of each position together
// (channels-last); a line buffer of R = (KH-1)*DH + 1 rows holds what the next
// windows need. For each output position in raster order the module loads the
// positions that window still needs, then emits its KH*KW*C elements (ky, kx, c;
// with GROUPS > 1 group by group: g, ky, kx, c mod C/GROUPS) with PAD at padding
// positions. After the last window it loads what remains of the map. Addresses are
// kept by counters of the widths the geometry needs (no multiplier, no divider).
// Arithmetic: docs/numerics.md, "Sliding windows".
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
    parameter integer NB = 8,          // bits of a need-table entry
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
    // Widths: beat counts, buffer addresses (one spare bit for sums), counters.
    localparam integer TW = $clog2(TOTAL + 1) + 1;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam integer AX = AW + 2;
    localparam integer OYW = (OH > 1) ? $clog2(OH) : 1;
    localparam integer OXW = (OW > 1) ? $clog2(OW) : 1;
    localparam integer GW = (GROUPS > 1) ? $clog2(GROUPS) : 1;
    localparam integer KYW = (KH > 1) ? $clog2(KH) : 1;
    localparam integer KXW = (KW > 1) ? $clog2(KW) : 1;
    localparam integer CGW = (CG > 1) ? $clog2(CG) : 1;
    localparam integer CHW = (C > 1) ? $clog2(C) + 1 : 2;
    // Signed rows and columns reach from -PT (-PL) to past the map's end.
    localparam integer ROW_MAX = (OH - 1) * SH + (KH - 1) * DH + SH + 1;
    localparam integer COL_MAX = (OW - 1) * SW + (KW - 1) * DW + SW + 1;
    localparam integer RB = $clog2((ROW_MAX > PT ? ROW_MAX : PT) + 1) + 2;
    localparam integer CB = $clog2((COL_MAX > PL ? COL_MAX : PL) + 1) + 2;
    localparam integer CAB = $clog2(((COL_MAX > PL ? COL_MAX : PL) + 1) * C + 1) + 2;
    // Constants in those widths.
    localparam integer DHR = DH % R;
    localparam integer SHR = SH % R;
    localparam integer PTR = (R - (PT % R)) % R;   // the ring row of row -PT
    localparam integer NPT = -PT;
    localparam integer NPL = -PL;
    localparam integer NPLC = -PL * C;
    localparam integer SWC = SW * C;
    localparam integer DWC = DW * C;
    localparam integer SHRWC = SHR * WC;
    localparam integer DHRWC = DHR * WC;
    localparam integer PTRWC = PTR * WC;
    localparam integer TOTAL_I = TOTAL;
    localparam integer DEPTH_I = DEPTH;
    localparam integer H_I = H;
    localparam integer W_I = W;
    localparam integer C_I = C;
    localparam integer CG_I = CG;
    localparam integer OH_L = OH - 1, OW_L = OW - 1, G_L = GROUPS - 1, KH_L = KH - 1, KW_L = KW - 1, CG_L = CG - 1;
    localparam [TW-1:0] TOTAL_T = TOTAL_I[TW-1:0];
    localparam [TW-1:0] C_T = C_I[TW-1:0];
    localparam [AX-1:0] DEPTH_A = DEPTH_I[AX-1:0];
    localparam [AX-1:0] SHRWC_A = SHRWC[AX-1:0];
    localparam [AX-1:0] DHRWC_A = DHRWC[AX-1:0];
    localparam [AX-1:0] PTRWC_A = PTRWC[AX-1:0];
    localparam signed [RB-1:0] NPT_S = NPT[RB-1:0];
    localparam signed [RB-1:0] SH_S = SH[RB-1:0];
    localparam signed [RB-1:0] DH_S = DH[RB-1:0];
    localparam signed [RB-1:0] H_S = H_I[RB-1:0];
    localparam signed [CB-1:0] NPL_S = NPL[CB-1:0];
    localparam signed [CB-1:0] SW_S = SW[CB-1:0];
    localparam signed [CB-1:0] DW_S = DW[CB-1:0];
    localparam signed [CB-1:0] W_S = W_I[CB-1:0];
    localparam signed [CAB-1:0] NPLC_S = NPLC[CAB-1:0];
    localparam signed [CAB-1:0] SWC_S = SWC[CAB-1:0];
    localparam signed [CAB-1:0] DWC_S = DWC[CAB-1:0];
    localparam [CHW-1:0] CG_C = CG_I[CHW-1:0];
    localparam [OYW-1:0] OH_LAST = OH_L[OYW-1:0];
    localparam [OXW-1:0] OW_LAST = OW_L[OXW-1:0];
    localparam [GW-1:0] G_LAST = G_L[GW-1:0];
    localparam [KYW-1:0] KH_LAST = KH_L[KYW-1:0];
    localparam [KXW-1:0] KW_LAST = KW_L[KXW-1:0];
    localparam [CGW-1:0] CG_LAST = CG_L[CGW-1:0];
    localparam integer DEPTH_L = DEPTH - 1;
    localparam [AW-1:0] DEPTH_LAST = DEPTH_L[AW-1:0];
    localparam [1:0] S_LOAD = 2'd0, S_EMIT = 2'd1, S_REST = 2'd2;

    reg [NB-1:0] need_row [0:OH-1];
    reg [NB-1:0] need_col [0:OW-1];
    initial begin
        $readmemh(NR_FILE, need_row);
        $readmemh(NC_FILE, need_col);
    end

    reg [X_BITS-1:0] buffer [0:DEPTH-1];
    reg [1:0] state;
    reg [TW-1:0] loaded;        // beats of this map received
    reg [AW-1:0] wa;            // write address, wraps at DEPTH
    reg [OYW-1:0] oy;
    reg [OXW-1:0] ox;
    // The window: its first row and column (signed), and their address parts (the ring row times W·C).
    reg signed [RB-1:0] row_b;
    reg signed [CB-1:0] col_b;
    reg signed [CAB-1:0] cola_b;
    reg [AX-1:0] rowa_b;
    // The element: counters and the same quantities.
    reg [GW-1:0] g;
    reg [KYW-1:0] ky;
    reg [KXW-1:0] kx;
    reg [CGW-1:0] cg;
    reg [CHW-1:0] chan, gbase;
    reg signed [RB-1:0] row_e;
    reg signed [CB-1:0] col_e;
    reg signed [CAB-1:0] cola_e;
    reg [AX-1:0] rowa_e;

    // Beats a window needs: rows + columns - C, or 0 for a window wholly in the padding.
    /* verilator lint_off UNUSEDSIGNAL */
    function [TW-1:0] need_beats(input [NB-1:0] r, input [NB-1:0] c);
        reg [TW+NB:0] s;   // the sum is below TOTAL + C: its low TW bits
        begin
            s = {{(TW+1){1'b0}}, r} + {{(TW+1){1'b0}}, c} - {{(NB+1){1'b0}}, C_T};
            need_beats = (r == {NB{1'b0}} || c == {NB{1'b0}}) ? {TW{1'b0}} : s[TW-1:0];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    wire last_x = (ox == OW_LAST);
    wire last_y = (oy == OH_LAST);
    wire [OYW-1:0] oy_next = last_x ? oy + 1'b1 : oy;
    wire [OXW-1:0] ox_next = last_x ? {OXW{1'b0}} : ox + 1'b1;
    wire [TW-1:0] need_now = need_beats(need_row[oy], need_col[ox]);
    wire [TW-1:0] need_next = need_beats(need_row[oy_next], need_col[ox_next]);
    wire [TW-1:0] need_first = need_beats(need_row[0], need_col[0]);

    // The next window's bases.
    wire [AX-1:0] rowa_sum = rowa_b + SHRWC_A;
    wire signed [RB-1:0] row_n = last_x ? row_b + SH_S : row_b;
    wire [AX-1:0] rowa_n = last_x ? (rowa_sum >= DEPTH_A ? rowa_sum - DEPTH_A : rowa_sum) : rowa_b;
    wire signed [CB-1:0] col_n = last_x ? NPL_S : col_b + SW_S;
    wire signed [CAB-1:0] cola_n = last_x ? NPLC_S : cola_b + SWC_S;
    // The element one row down.
    wire [AX-1:0] rowa_down = rowa_e + DHRWC_A;

    wire in_map = (row_e >= 0) && (row_e < H_S) && (col_e >= 0) && (col_e < W_S);
    // The buffer address (below DEPTH inside the map).
    /* verilator lint_off UNUSEDSIGNAL */
    wire [AX+CAB:0] ra = {{(CAB+1){1'b0}}, rowa_e} + {{(AX+1){cola_e[CAB-1]}}, cola_e} + {{(AX+CAB+1-CHW){1'b0}}, chan};
    /* verilator lint_on UNUSEDSIGNAL */

    assign in_ready = (state != S_EMIT);
    assign out_valid = (state == S_EMIT);
    assign out_data = in_map ? buffer[ra[AW-1:0]] : PAD;
    wire in_fire = in_valid && in_ready;
    wire out_fire = out_valid && out_ready;
    wire window_done = (g == G_LAST) && (ky == KH_LAST) && (kx == KW_LAST) && (cg == CG_LAST);
    wire [TW-1:0] loaded_next = loaded + 1'b1;
    wire [AW-1:0] wa_next = (wa == DEPTH_LAST) ? {AW{1'b0}} : wa + 1'b1;

    // Element state at the start of a window with the given bases.
    task start_window(input signed [RB-1:0] r, input [AX-1:0] rowa, input signed [CB-1:0] c, input signed [CAB-1:0] ca);
        begin
            g <= {GW{1'b0}}; ky <= {KYW{1'b0}}; kx <= {KXW{1'b0}}; cg <= {CGW{1'b0}}; chan <= {CHW{1'b0}}; gbase <= {CHW{1'b0}};
            row_e <= r; rowa_e <= rowa; col_e <= c; cola_e <= ca;
        end
    endtask

    // The first window of a map.
    task start_map;
        begin
            oy <= {OYW{1'b0}};
            ox <= {OXW{1'b0}};
            row_b <= NPT_S; rowa_b <= PTRWC_A; col_b <= NPL_S; cola_b <= NPLC_S;
            start_window(NPT_S, PTRWC_A, NPL_S, NPLC_S);
            loaded <= {TW{1'b0}};
            wa <= {AW{1'b0}};
            state <= (need_first != {TW{1'b0}}) ? S_LOAD : S_EMIT;
        end
    endtask

    always @(posedge clk) begin
        if (in_fire) buffer[wa] <= in_data;
        if (rst) begin
            start_map;
        end else begin
            case (state)
                S_LOAD: if (in_fire) begin
                    wa <= wa_next;
                    loaded <= loaded_next;
                    if (loaded_next >= need_now) state <= S_EMIT;
                end
                S_REST: if (in_fire) begin
                    wa <= wa_next;
                    if (loaded_next == TOTAL_T) start_map;
                    else loaded <= loaded_next;
                end
                default: if (out_fire) begin
                    if (window_done) begin
                        if (last_x && last_y) begin
                            if (loaded == TOTAL_T) start_map;
                            else state <= S_REST;
                        end else begin
                            oy <= oy_next;
                            ox <= ox_next;
                            row_b <= row_n; rowa_b <= rowa_n; col_b <= col_n; cola_b <= cola_n;
                            start_window(row_n, rowa_n, col_n, cola_n);
                            state <= (need_next > loaded) ? S_LOAD : S_EMIT;
                        end
                    end else if (cg != CG_LAST) begin
                        cg <= cg + 1'b1;
                        chan <= chan + 1'b1;
                    end else begin
                        cg <= {CGW{1'b0}};
                        chan <= gbase;
                        if (kx != KW_LAST) begin
                            kx <= kx + 1'b1;
                            col_e <= col_e + DW_S;
                            cola_e <= cola_e + DWC_S;
                        end else begin
                            kx <= {KXW{1'b0}};
                            col_e <= col_b;
                            cola_e <= cola_b;
                            if (ky != KH_LAST) begin
                                ky <= ky + 1'b1;
                                row_e <= row_e + DH_S;
                                rowa_e <= (rowa_down >= DEPTH_A) ? rowa_down - DEPTH_A : rowa_down;
                            end else begin
                                ky <= {KYW{1'b0}};
                                row_e <= row_b;
                                rowa_e <= rowa_b;
                                g <= g + 1'b1;
                                gbase <= gbase + CG_C;
                                chan <= gbase + CG_C;
                            end
                        end
                    end
                end
            endcase
        end
    end
endmodule

`default_nettype wire
