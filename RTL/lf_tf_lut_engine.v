// lf_tf_lut_engine: the reused LUT-linear engine of a temporal transformer design (after
// LUT-LLM: activation codebooks, weight codes, tables of centroid dot products). One
// instance serves every LUT linear it can take; the sequencer holds the linear's
// configuration (cfg_*) for the whole operation, and codebooks, codes, table rows and
// requantizers come from off-chip memory (the image of HardwareIR/TransformerEngine.swift,
// LUTEngineLayout). Per token: LOAD takes cfg_in inputs; then for each position p a burst
// of its activation centroids (16-bit elements, 4 per word), searched as they arrive for
// the nearest (L-inf or squared L2 distance, ties to the lowest index, docs/numerics.md
// "LUT-linear layer"); for each column group the table row of that centroid (16-bit
// entries, 4 per word) and the group's codes (8 per word), each code adding its entry to
// its column's accumulator (8 per cycle); last, per column its bias, offset C and {S, M}
// words, and the requantizer of lf_tf_dsp_engine (lf_tf_engine_out: acc*M, lf_round_clamp,
// the clamp, the optional table). Every width is the widest of the served linears' proven
// types. Uses lf_tf_engine_out, lf_round_clamp.
//
// Timing: LOAD cfg_in cycles; each burst 1 request cycle, then its words as the memory
// delivers them, the next request the cycle after its last word; the last output 3 cycles
// after the last requantizer word, drained the cycle it is valid.
`default_nettype none

module lf_tf_lut_engine #(
    parameter integer MAX_IN = 8,
    parameter integer MAX_OUT = 8,
    parameter integer MAX_KW = 16,
    parameter integer X_BITS = 8,      // signed input, <= 16
    parameter integer ACC_BITS = 24,   // signed accumulator, >= 18
    parameter integer M_BITS = 16,     // unsigned multiplier, <= 32
    parameter integer P_BITS = 48,     // signed acc*M + C, > ACC_BITS, > M_BITS, > Y_BITS + 1, <= 64
    parameter integer Y_BITS = 16,     // signed output, <= 32
    parameter integer T_COUNT = 1,     // entries of all activation tables
    parameter T_FILE = "lut_engine_t.mem"
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [31:0]              cfg_in,
    input  wire [31:0]              cfg_out,
    input  wire [2:0]               cfg_v,       // 1, 2 or 4
    input  wire [31:0]              cfg_ka,
    input  wire [31:0]              cfg_kw,
    input  wire [31:0]              cfg_s,       // columns per group
    input  wire                     cfg_l2,
    input  wire [31:0]              cfg_cbase,
    input  wire [31:0]              cfg_kbase,
    input  wire [31:0]              cfg_rbase,
    input  wire [31:0]              cfg_qbase,
    input  wire signed [63:0]       cfg_lo,
    input  wire signed [63:0]       cfg_hi,
    input  wire                     cfg_table,
    input  wire [31:0]              cfg_tbase,
    input  wire                     in_valid,
    output wire                     in_ready,
    input  wire [X_BITS-1:0]        in_data,
    output wire                     out_valid,
    input  wire                     out_ready,
    output wire [Y_BITS-1:0]        out_data,
    output wire                     mem_req_valid,
    output reg  [31:0]              mem_req_addr,
    output reg  [31:0]              mem_req_len,
    input  wire                     mem_rsp_valid,
    input  wire [63:0]              mem_rsp_data
);
    localparam integer XW = $clog2(MAX_IN + 4);
    localparam integer XD = 1 << XW;
    localparam integer OW = $clog2(MAX_OUT + 8);
    localparam integer OD = 1 << OW;
    localparam integer RW = $clog2(MAX_KW + 4);
    localparam integer RD = 1 << RW;
    localparam integer D_BITS = 40;
    localparam [3:0] S_LOAD = 4'd0, S_CREQ = 4'd1, S_CWAIT = 4'd2, S_RREQ = 4'd3, S_RWAIT = 4'd4, S_KREQ = 4'd5, S_KWAIT = 4'd6,
                     S_QREQ = 4'd7, S_QWAIT = 4'd8;

    reg [3:0] state;
    reg signed [X_BITS-1:0] xbuf [0:XD-1];
    reg signed [ACC_BITS-1:0] acc [0:OD-1];
    reg signed [15:0] row [0:RD-1];
    reg [31:0] xi, p, pg, gcol, wi, qcol, qbeat, taken;
    reg signed [16:0] xp [0:3];            // the position's inputs, zero past cfg_in
    reg [7:0] best;
    reg [D_BITS-1:0] best_d;

    wire [1:0] vlog = cfg_v[2] ? 2'd2 : (cfg_v[1] ? 2'd1 : 2'd0);
    wire [31:0] positions = (cfg_in + {29'd0, cfg_v} - 32'd1) >> vlog;
    wire [31:0] cwords = ((cfg_ka << vlog) + 32'd3) >> 2;
    wire [31:0] rwords = (cfg_kw + 32'd3) >> 2;
    wire [31:0] kwords = (cfg_s + 32'd7) >> 3;
    wire [31:0] gend = (gcol + cfg_s < cfg_out) ? gcol + cfg_s : cfg_out;
    wire last_word = (wi == mem_req_len - 32'd1);

    assign in_ready = (state == S_LOAD);
    assign mem_req_valid = (state == S_CREQ) || (state == S_RREQ) || (state == S_KREQ) || (state == S_QREQ);

    // The request of each burst.
    always @* begin
        case (state)
            S_CREQ: begin mem_req_addr = cfg_cbase + p * cwords; mem_req_len = cwords; end
            S_RREQ: begin mem_req_addr = cfg_rbase + (pg * cfg_ka + {24'd0, best}) * rwords; mem_req_len = rwords; end
            S_KREQ: begin mem_req_addr = cfg_kbase + pg * kwords; mem_req_len = (gend - gcol + 32'd7) >> 3; end
            S_QREQ: begin mem_req_addr = cfg_qbase; mem_req_len = cfg_out * 32'd3; end
            S_CWAIT: begin mem_req_addr = 32'd0; mem_req_len = cwords; end
            S_RWAIT: begin mem_req_addr = 32'd0; mem_req_len = rwords; end
            S_KWAIT: begin mem_req_addr = 32'd0; mem_req_len = (gend - gcol + 32'd7) >> 3; end
            default: begin mem_req_addr = 32'd0; mem_req_len = cfg_out * 32'd3; end
        endcase
    end

    // Search: the 4 >> vlog centroids of a word against the position's inputs; element m of
    // the word meets input m mod v.
    wire [D_BITS-1:0] mag [0:3], sq [0:3];
    genvar g;
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_el
            localparam [1:0] G = g;
            wire signed [15:0] el = mem_rsp_data[16*g +: 16];
            wire [1:0] xe = G & (cfg_v[1:0] - 2'd1) & {cfg_v[2] | cfg_v[1], cfg_v[2] | cfg_v[1] | cfg_v[0]};
            wire signed [17:0] diff = {xp[xe][16], xp[xe]} - {{2{el[15]}}, el};
            wire [17:0] m = diff[17] ? -diff : diff;
            wire [35:0] m2 = {18'd0, m} * {18'd0, m};
            assign mag[g] = {{(D_BITS-18){1'b0}}, m};
            assign sq[g] = {{(D_BITS-36){1'b0}}, m2};
        end
    endgenerate
    wire [D_BITS-1:0] one0 = cfg_l2 ? sq[0] : mag[0], one1 = cfg_l2 ? sq[1] : mag[1];
    wire [D_BITS-1:0] one2 = cfg_l2 ? sq[2] : mag[2], one3 = cfg_l2 ? sq[3] : mag[3];
    wire [D_BITS-1:0] pair0 = cfg_l2 ? one0 + one1 : (one0 > one1 ? one0 : one1);
    wire [D_BITS-1:0] pair1 = cfg_l2 ? one2 + one3 : (one2 > one3 ? one2 : one3);
    wire [D_BITS-1:0] quad = cfg_l2 ? pair0 + pair1 : (pair0 > pair1 ? pair0 : pair1);
    wire [D_BITS-1:0] d [0:3];
    assign d[0] = cfg_v[2] ? quad : (cfg_v[1] ? pair0 : one0);
    assign d[1] = cfg_v[1] ? pair1 : one1;
    assign d[2] = one2;
    assign d[3] = one3;
    wire [2:0] slots = cfg_v[2] ? 3'd1 : (cfg_v[1] ? 3'd2 : 3'd4);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] k0 = (wi << 2) >> vlog;     // the word's first centroid
    /* verilator lint_on UNUSEDSIGNAL */
    // Candidates in index order, strictly nearer only: ties keep the lowest index.
    wire [7:0] cb0 = (wi == 32'd0) ? 8'd0 : best;
    wire [D_BITS-1:0] cd0 = (wi == 32'd0) ? {D_BITS{1'b1}} : best_d;
    wire t0 = 3'd0 < slots && k0 < cfg_ka && d[0] < cd0;
    wire [7:0] cb1 = t0 ? k0[7:0] : cb0;
    wire [D_BITS-1:0] cd1 = t0 ? d[0] : cd0;
    wire t1 = 3'd1 < slots && k0 + 32'd1 < cfg_ka && d[1] < cd1;
    wire [7:0] cb2 = t1 ? k0[7:0] + 8'd1 : cb1;
    wire [D_BITS-1:0] cd2 = t1 ? d[1] : cd1;
    wire t2 = 3'd2 < slots && k0 + 32'd2 < cfg_ka && d[2] < cd2;
    wire [7:0] cb3 = t2 ? k0[7:0] + 8'd2 : cb2;
    wire [D_BITS-1:0] cd3 = t2 ? d[2] : cd2;
    wire t3 = 3'd3 < slots && k0 + 32'd3 < cfg_ka && d[3] < cd3;
    wire [7:0] nb = t3 ? k0[7:0] + 8'd3 : cb3;
    wire [D_BITS-1:0] nd = t3 ? d[3] : cd3;

    // The position's inputs (zero past cfg_in) and the 8 columns of a code word.
    wire signed [16:0] xnext [0:3];
    wire [31:0] kcol [0:7];
    wire signed [ACC_BITS-1:0] kadd [0:7];
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_x
            localparam [31:0] G = g;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] at = (p << vlog) + G;
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [X_BITS-1:0] xv = xbuf[at[XW-1:0]];
            assign xnext[g] = (G < {29'd0, cfg_v} && at < cfg_in) ? {{(17-X_BITS){xv[X_BITS-1]}}, xv} : 17'sd0;
        end
        for (g = 0; g < 8; g = g + 1) begin : g_code
            localparam [31:0] G = g;
            assign kcol[g] = gcol + {wi[28:0], 3'b000} + G;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [7:0] code = mem_rsp_data[8*g +: 8];
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [15:0] entry = row[code[RW-1:0]];
            assign kadd[g] = {{(ACC_BITS-16){entry[15]}}, entry};
        end
    endgenerate

    // The column's accumulator and requantizer, into the shared output side (lf_tf_engine_out).
    reg signed [ACC_BITS-1:0] bias_r, fin;
    reg [P_BITS-1:0] c_word;
    reg [M_BITS-1:0] m_reg;
    reg [5:0] s_reg;
    reg fin_v;
    lf_tf_engine_out #(.ACC_BITS(ACC_BITS), .M_BITS(M_BITS), .P_BITS(P_BITS), .Y_BITS(Y_BITS), .HALF_EVEN(0),
                       .T_COUNT(T_COUNT), .T_FILE(T_FILE))
        u_out (.clk(clk), .rst(rst), .fin_v(fin_v), .fin(fin), .m(m_reg), .c(c_word), .s(s_reg), .lo(cfg_lo), .hi(cfg_hi),
               .table_en(cfg_table), .tbase(cfg_tbase), .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));

    integer j;
    // Row words land 4 entries at a time.
    wire [RW-1:0] wrow [0:3];
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_row
            localparam [31:0] G = g;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] at = {wi[29:0], 2'b00} + G;
            /* verilator lint_on UNUSEDSIGNAL */
            assign wrow[g] = at[RW-1:0];
        end
    endgenerate
    always @(posedge clk) begin
        fin_v <= 1'b0;
        if (rst) begin
            state <= S_LOAD;
            xi <= 32'd0;
            fin_v <= 1'b0;
        end else begin
            case (state)
                S_LOAD: if (in_valid) begin
                    xbuf[xi[XW-1:0]] <= in_data;
                    if (xi == cfg_in - 32'd1) begin
                        xi <= 32'd0;
                        p <= 32'd0;
                        pg <= 32'd0;
                        gcol <= 32'd0;
                        taken <= 32'd0;
                        state <= S_CREQ;
                    end else begin
                        xi <= xi + 32'd1;
                    end
                end
                S_CREQ: begin
                    for (j = 0; j < 4; j = j + 1) xp[j] <= xnext[j];
                    wi <= 32'd0;
                    state <= S_CWAIT;
                end
                S_CWAIT: if (mem_rsp_valid) begin
                    best <= nb;
                    best_d <= nd;
                    wi <= wi + 32'd1;
                    if (last_word) state <= S_RREQ;
                end
                S_RREQ: begin wi <= 32'd0; state <= S_RWAIT; end
                S_RWAIT: if (mem_rsp_valid) begin
                    for (j = 0; j < 4; j = j + 1) row[wrow[j]] <= mem_rsp_data[16*j +: 16];
                    wi <= wi + 32'd1;
                    if (last_word) state <= S_KREQ;
                end
                S_KREQ: begin wi <= 32'd0; state <= S_KWAIT; end
                S_KWAIT: if (mem_rsp_valid) begin
                    for (j = 0; j < 8; j = j + 1)
                        if (kcol[j] < gend) acc[kcol[j][OW-1:0]] <= (p == 32'd0 ? {ACC_BITS{1'b0}} : acc[kcol[j][OW-1:0]]) + kadd[j];
                    wi <= wi + 32'd1;
                    if (last_word) begin
                        pg <= pg + 32'd1;
                        if (gend < cfg_out) begin
                            gcol <= gend;
                            state <= S_RREQ;
                        end else begin
                            gcol <= 32'd0;
                            p <= p + 32'd1;
                            state <= (p + 32'd1 < positions) ? S_CREQ : S_QREQ;
                        end
                    end
                end
                S_QREQ: begin wi <= 32'd0; qcol <= 32'd0; qbeat <= 32'd0; state <= S_QWAIT; end
                S_QWAIT: begin
                    if (mem_rsp_valid && wi < cfg_out * 32'd3) begin
                        case (qbeat)
                            32'd0: bias_r <= mem_rsp_data[ACC_BITS-1:0];
                            32'd1: c_word <= mem_rsp_data[P_BITS-1:0];
                            default: begin
                                m_reg <= mem_rsp_data[M_BITS-1:0];
                                s_reg <= mem_rsp_data[37:32];
                                fin <= acc[qcol[OW-1:0]] + bias_r;
                                fin_v <= 1'b1;
                                qcol <= qcol + 32'd1;
                            end
                        endcase
                        qbeat <= (qbeat == 32'd2) ? 32'd0 : qbeat + 32'd1;
                        wi <= wi + 32'd1;
                    end
                    if (out_valid && out_ready) begin
                        if (taken == cfg_out - 32'd1) state <= S_LOAD;
                        taken <= taken + 32'd1;
                    end
                end
                default: state <= S_LOAD;
            endcase
        end
    end
endmodule

`default_nettype wire
