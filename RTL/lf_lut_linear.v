// lf_lut_linear: a LUT-based vector-quantized linear layer (after LUT-LLM),
// with no multiplier in its datapath. Streams N_IN inputs in, finds each
// position's nearest activation centroid (SL centroids per cycle; L-inf or
// squared L2; ties to the lowest index), then accumulates table entries
// T[p][g][a_p][code[p][n]] for CL columns and PL positions per cycle, scales by
// a per-column power of two (shifts, no multiplier), rounds, clamps, optionally maps through a table, and streams
// N_OUT outputs. With OK > 0 outliers (dense-and-sparse) each column also
// accumulates OK exact (value, index) pairs, OL per cycle on multiply-adds,
// after its table lookups; the requantizer then adds acc_outlier * M2 (in fabric).
// Arithmetic: docs/numerics.md. Uses lf_rom, lf_fabric_mul, lf_round_clamp,
// lf_lane_store, lf_emit_ctrl.
//
// The PL table memories live outside this module (the generated top
// instantiates one lf_rom per position lane): tab_addr drives them and
// tab_data must return the addressed row one cycle later. Lane q holds the
// positions p = pb*PL + q at rows ((pb*G + g)*KA + k); a row is KW entries of
// T_BITS, entry w in bits [w*T_BITS +: T_BITS].
//
// Timing (no back-pressure): LOAD N_IN, SEARCH P*ceil(KA/SL) + 1,
// RUN ceil(N_OUT/CL)*(ceil(P/PL) + ceil(OK/OL)), DRAIN 4 (5 with a table),
// EMIT N_OUT cycles.
`default_nettype none

module lf_lut_linear #(
    parameter integer N_IN = 4,
    parameter integer N_OUT = 4,
    parameter integer V = 2,           // elements per position
    parameter integer KA = 4,          // activation centroids per position
    parameter integer KW = 4,          // weight centroids (codes) per position and group
    parameter integer S = 4,           // columns per group, a multiple of CL
    parameter integer CL = 1,          // column lanes
    parameter integer PL = 1,          // position lanes
    parameter integer SL = 1,          // search lanes
    parameter integer X_BITS = 8,
    parameter integer X_SIGNED = 0,
    parameter integer DIST = 0,        // 0: L-inf, 1: squared L2
    parameter integer D_BITS = 10,     // unsigned distance, > X_BITS+1 (L2: > 2*X_BITS+2)
    parameter integer T_BITS = 8,      // signed table entry
    parameter integer B_BITS = 16,     // signed bias, < ACC_BITS
    parameter integer ACC_BITS = 20,   // signed accumulator, > T_BITS
    parameter integer SH_BITS = 4,     // unsigned right shift S
    parameter integer LS_BITS = 1,     // unsigned left shift L (the multiplier is 2^L)
    parameter integer C_BITS = 8,      // signed requantizer offset
    parameter integer P_BITS = 21,     // signed acc*2^L (+ outliers) + C, > ACC_BITS and > R_BITS, >= C_BITS
    parameter integer R_BITS = 8,
    parameter integer R_SIGNED = 1,
    parameter integer HAS_TABLE = 0,
    parameter integer Y_BITS = 8,
    parameter integer TA_BITS = 4,     // table memory address width, >= the centroid index width
    parameter integer OK = 0,          // outlier pairs per column (0: none)
    parameter integer OL = 1,          // outlier multiply-adds per column lane per cycle
    parameter integer OW_BITS = 8,     // signed outlier weight
    parameter integer OA_BITS = 18,    // signed outlier accumulator, > OW_BITS+X_BITS+1
    parameter integer M2_BITS = 15,    // unsigned outlier multiplier
    parameter C_FILE = "c.mem",        // centroids: P*ceil(KA/SL) words of SL*V*X_BITS
    parameter W_FILE = "w.mem",        // codes: passes*PB words of PL*CL*CB
    parameter B_FILE = "b.mem",        // biases: passes words of CL*B_BITS
    parameter Q_FILE = "q.mem",        // requantizers: passes words of CL*{C, L, S}
    parameter T_FILE = "t.mem",        // activation table
    parameter O_FILE = "o.mem",        // outliers: passes*ceil(OK/OL) words of CL*OL*{index, value}
    parameter M2_FILE = "m2.mem"       // outlier multipliers: passes words of CL*M2_BITS
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     in_valid,
    output wire                     in_ready,
    input  wire [X_BITS-1:0]        in_data,
    output wire                     out_valid,
    input  wire                     out_ready,
    output wire [Y_BITS-1:0]        out_data,
    output wire [PL*TA_BITS-1:0]    tab_addr,
    input  wire [PL*KW*T_BITS-1:0]  tab_data
);
    localparam integer P = (N_IN + V - 1) / V;          // positions
    localparam integer G = (N_OUT + S - 1) / S;         // column groups
    localparam integer J = (KA + SL - 1) / SL;          // search blocks per position
    localparam integer PB = (P + PL - 1) / PL;          // position blocks
    localparam integer PASSES = (N_OUT + CL - 1) / CL;
    localparam integer PPG = S / CL;                    // passes per group
    localparam integer XN = P * V;                      // padded input length
    localparam integer CB = (KW > 1) ? $clog2(KW) : 1;  // code width
    localparam integer KB = (KA > 1) ? $clog2(KA) : 1;  // centroid index width
    localparam integer KBW = (J * SL > 1) ? $clog2(J * SL) : 1;
    localparam integer XW = (XN > 1) ? $clog2(XN) : 1;          // padded element index
    localparam integer XIW = (N_IN > 1) ? $clog2(N_IN) : 1;    // input buffer index
    localparam integer AB = (PB * PL > 1) ? $clog2(PB * PL) : 1;
    localparam integer JW = (J > 1) ? $clog2(J) : 1;
    localparam integer CAW = (P * J > 1) ? $clog2(P * J) : 1;
    localparam integer PW = (PASSES > 1) ? $clog2(PASSES) : 1;
    localparam integer PBW = (PB > 1) ? $clog2(PB) : 1;
    localparam integer GW = (PPG > 1) ? $clog2(PPG) : 1;
    localparam integer WAW = (PASSES * PB > 1) ? $clog2(PASSES * PB) : 1;
    localparam integer LW = (CL > 1) ? $clog2(CL) : 1;
    localparam integer TW = KW * T_BITS;
    localparam integer LATENCY = (HAS_TABLE != 0) ? 5 : 4;
    localparam integer OKC = (OK + OL - 1) / OL;        // outlier cycles per pass
    localparam integer OKW = (OKC > 1) ? $clog2(OKC) : 1;
    localparam integer OAW = (PASSES * OKC > 1) ? $clog2(PASSES * OKC) : 1;
    localparam integer XIB = (N_IN > 1) ? $clog2(N_IN) : 1;
    localparam integer OPAIR = OW_BITS + XIB;
    localparam integer OKC_LAST_I = (OKC > 0) ? OKC - 1 : 0;
    localparam [OKW-1:0] OKC_LAST = OKC_LAST_I[OKW-1:0];

    localparam integer XIN_LAST_I = N_IN - 1;
    localparam integer P_LAST_I = P - 1;
    localparam integer J_LAST_I = J - 1;
    localparam integer PB_LAST_I = PB - 1;
    localparam integer PASS_LAST_I = PASSES - 1;
    localparam integer PPG_LAST_I = PPG - 1;
    localparam integer V_I = V;
    localparam integer SL_I = SL;
    localparam integer KA_I = KA;
    localparam integer PL_I = PL;
    localparam integer N_IN_I = N_IN;
    localparam integer GKA_I = G * KA;
    localparam [XIW-1:0] XIN_LAST = XIN_LAST_I[XIW-1:0];
    localparam [AB-1:0] P_LAST = P_LAST_I[AB-1:0];
    localparam [JW-1:0] J_LAST = J_LAST_I[JW-1:0];
    localparam [PBW-1:0] PB_LAST = PB_LAST_I[PBW-1:0];
    localparam [PW-1:0] PASS_LAST = PASS_LAST_I[PW-1:0];
    localparam [GW-1:0] PPG_LAST = PPG_LAST_I[GW-1:0];
    localparam [XW:0] V_W = V_I[XW:0];
    localparam [XW:0] N_IN_W = N_IN_I[XW:0];
    localparam [KBW:0] SL_W = SL_I[KBW:0];
    localparam [KBW:0] KA_W = KA_I[KBW:0];
    localparam [AB-1:0] PL_W = PL_I[AB-1:0];
    localparam [TA_BITS-1:0] KA_T = KA_I[TA_BITS-1:0];
    localparam [TA_BITS-1:0] GKA_T = GKA_I[TA_BITS-1:0];

    localparam [2:0] S_LOAD = 3'd0, S_SEARCH = 3'd1, S_SDRAIN = 3'd2, S_RUN = 3'd3, S_OUT = 3'd4;

    reg [2:0]   state;
    reg [XIW-1:0] xi;      // load index
    reg [AB-1:0] sp;       // search position
    reg [JW-1:0] sj;       // search block
    reg [CAW-1:0] caddr;   // centroid address = sp*J + sj
    reg [XW:0]  xbase;     // sp*V
    reg [KBW:0] kbase;     // sj*SL
    reg [PW-1:0] pass;
    reg [PBW-1:0] pb;
    reg [GW-1:0] gp;       // pass within its group
    reg [TA_BITS-1:0] gbase;   // g*KA
    reg [TA_BITS-1:0] tbase;   // (pb*G + g)*KA
    reg [AB-1:0] abase;    // pb*PL
    reg [WAW-1:0] waddr;   // pass*PB + pb
    reg         omode;     // in the pass's outlier cycles
    reg [OKW-1:0] ko;      // outlier cycle within the pass
    reg [OAW-1:0] oaddr;   // pass*OKC + ko
    wire [PW-1:0] e_pass;
    wire [LW-1:0] e_lane;
    wire        out_done;

    reg [X_BITS-1:0] xbuf [0:N_IN-1];
    reg [KB-1:0] abuf [0:PB*PL-1];
    wire [Y_BITS-1:0] lane_out [0:CL-1];

    assign in_ready  = (state == S_LOAD);
    assign out_data  = lane_out[e_lane];
    // The last cycle of the last pass starts the output side.
    wire start = (state == S_RUN) && pass == PASS_LAST && (omode ? ko == OKC_LAST : (pb == PB_LAST && OKC == 0));
    lf_emit_ctrl #(.N_OUT(N_OUT), .LANES(CL), .PW(PW), .LW(LW), .LATENCY(LATENCY))
        u_emit (.clk(clk), .rst(rst), .start(start), .out_ready(out_ready), .out_valid(out_valid),
                .e_pass(e_pass), .e_lane(e_lane), .done(out_done));

    // End of a pass: the next pass (its group's table base), or the drain after the last.
    task next_pass(input last);
        begin
            if (last) begin
                pass <= {PW{1'b0}};
                gp <= {GW{1'b0}};
                gbase <= {TA_BITS{1'b0}};
                tbase <= {TA_BITS{1'b0}};
                state <= S_OUT;
            end else begin
                pass <= pass + 1'b1;
                if (gp == PPG_LAST) begin
                    gp <= {GW{1'b0}};
                    gbase <= gbase + KA_T;
                    tbase <= gbase + KA_T;
                end else begin
                    gp <= gp + 1'b1;
                    tbase <= gbase;
                end
            end
        end
    endtask

    always @(posedge clk) begin
        if (rst) begin
            state <= S_LOAD;
            xi <= {XIW{1'b0}};
            sp <= {AB{1'b0}};
            sj <= {JW{1'b0}};
            caddr <= {CAW{1'b0}};
            xbase <= {(XW+1){1'b0}};
            kbase <= {(KBW+1){1'b0}};
            pass <= {PW{1'b0}};
            pb <= {PBW{1'b0}};
            gp <= {GW{1'b0}};
            gbase <= {TA_BITS{1'b0}};
            tbase <= {TA_BITS{1'b0}};
            abase <= {AB{1'b0}};
            waddr <= {WAW{1'b0}};
            omode <= 1'b0;
            ko <= {OKW{1'b0}};
            oaddr <= {OAW{1'b0}};
        end else begin
            case (state)
                S_LOAD: if (in_valid) begin
                    xbuf[xi] <= in_data;
                    if (xi == XIN_LAST) begin
                        xi <= {XIW{1'b0}};
                        state <= S_SEARCH;
                    end else begin
                        xi <= xi + 1'b1;
                    end
                end
                S_SEARCH: begin
                    caddr <= caddr + 1'b1;
                    if (sj == J_LAST) begin
                        sj <= {JW{1'b0}};
                        kbase <= {(KBW+1){1'b0}};
                        xbase <= xbase + V_W;
                        if (sp == P_LAST) begin
                            sp <= {AB{1'b0}};
                            caddr <= {CAW{1'b0}};
                            xbase <= {(XW+1){1'b0}};
                            state <= S_SDRAIN;
                        end else begin
                            sp <= sp + 1'b1;
                        end
                    end else begin
                        sj <= sj + 1'b1;
                        kbase <= kbase + SL_W;
                    end
                end
                S_SDRAIN: state <= S_RUN;
                S_RUN: if (omode) begin
                    // Outlier cycles of the pass.
                    oaddr <= oaddr + 1'b1;
                    if (ko == OKC_LAST) begin
                        ko <= {OKW{1'b0}};
                        omode <= 1'b0;
                        if (pass == PASS_LAST) begin
                            oaddr <= {OAW{1'b0}};
                            next_pass(1'b1);
                        end else begin
                            next_pass(1'b0);
                        end
                    end else begin
                        ko <= ko + 1'b1;
                    end
                end else begin
                    waddr <= waddr + 1'b1;
                    if (pb == PB_LAST) begin
                        pb <= {PBW{1'b0}};
                        abase <= {AB{1'b0}};
                        if (pass == PASS_LAST) waddr <= {WAW{1'b0}};
                        if (OKC > 0) omode <= 1'b1;
                        else next_pass(pass == PASS_LAST);
                    end else begin
                        pb <= pb + 1'b1;
                        abase <= abase + PL_W;
                        tbase <= tbase + GKA_T;
                    end
                end
                default: if (out_done) state <= S_LOAD;
            endcase
        end
    end

    // ---- Centroid search. A: read the position's elements and a centroid block;
    // B: distances, the block's nearest (lowest index on ties) against the running best.
    wire s_issue = (state == S_SEARCH);
    reg s_v_b, s_first_b, s_last_b;
    reg [AB-1:0] s_pos_b;
    reg [KBW:0] s_kbase_b;
    reg [X_BITS-1:0] xs_b [0:V-1];
    genvar e;
    generate
        for (e = 0; e < V; e = e + 1) begin : g_x
            localparam integer E_I = e;
            wire [XW:0] idx = xbase + E_I[XW:0];
            always @(posedge clk)
                xs_b[e] <= (idx < N_IN_W) ? xbuf[idx[XIW-1:0]] : {X_BITS{1'b0}};
        end
    endgenerate
    always @(posedge clk) begin
        s_first_b <= (sj == {JW{1'b0}});
        s_last_b <= (sj == J_LAST);
        s_pos_b <= sp;
        s_kbase_b <= kbase;
        s_v_b <= rst ? 1'b0 : s_issue;
    end

    wire [SL*V*X_BITS-1:0] c_word;
    lf_rom #(.WIDTH(SL*V*X_BITS), .DEPTH(P*J), .ADDR_BITS(CAW), .INIT_FILE(C_FILE))
        u_centroids (.clk(clk), .addr(caddr), .data(c_word));

    // |a - b| for two elements of the input type.
    function [X_BITS:0] absdiff(input [X_BITS-1:0] a, input [X_BITS-1:0] b);
        reg signed [X_BITS+1:0] diff;
        begin
            diff = {{2{(X_SIGNED != 0) & a[X_BITS-1]}}, a} - {{2{(X_SIGNED != 0) & b[X_BITS-1]}}, b};
            absdiff = diff[X_BITS+1] ? -diff[X_BITS:0] : diff[X_BITS:0];
        end
    endfunction

    wire [D_BITS-1:0] dists [0:SL-1];
    genvar l;
    generate
        for (l = 0; l < SL; l = l + 1) begin : g_search
            reg [D_BITS-1:0] d;
            reg [X_BITS:0] mag;
            integer k;
            if (DIST == 0) begin : g_linf
                // L-inf: the largest difference.
                always @* begin
                    d = {D_BITS{1'b0}};
                    for (k = 0; k < V; k = k + 1) begin
                        mag = absdiff(xs_b[k], c_word[(l*V+k)*X_BITS +: X_BITS]);
                        if ({{(D_BITS-X_BITS-1){1'b0}}, mag} > d) d = {{(D_BITS-X_BITS-1){1'b0}}, mag};
                    end
                end
            end else begin : g_l2
                // Squared L2: the sum of squared differences.
                reg [2*X_BITS+1:0] sq;
                always @* begin
                    d = {D_BITS{1'b0}};
                    for (k = 0; k < V; k = k + 1) begin
                        mag = absdiff(xs_b[k], c_word[(l*V+k)*X_BITS +: X_BITS]);
                        sq = {{(X_BITS+1){1'b0}}, mag} * {{(X_BITS+1){1'b0}}, mag};
                        d = d + {{(D_BITS-2*X_BITS-2){1'b0}}, sq};
                    end
                end
            end
            assign dists[l] = d;
        end
    endgenerate

    reg [D_BITS-1:0] run_d, cand_d, new_d;
    reg [KB-1:0] run_k, cand_k, new_k;
    reg cand_ok;
    integer m;
    always @* begin
        cand_d = {D_BITS{1'b1}};
        cand_k = {KB{1'b0}};
        cand_ok = 1'b0;
        for (m = 0; m < SL; m = m + 1) begin
            if (s_kbase_b + m[KBW:0] < KA_W && (!cand_ok || dists[m] < cand_d)) begin
                cand_d = dists[m];
                cand_k = s_kbase_b[KB-1:0] + m[KB-1:0];
                cand_ok = 1'b1;
            end
        end
        if (s_first_b || cand_d < run_d) begin
            new_d = cand_d;
            new_k = cand_k;
        end else begin
            new_d = run_d;
            new_k = run_k;
        end
    end
    // abuf needs no reset: search writes every position before lookups read it, and
    // padding positions (p >= P) are read as index 0 below.
    always @(posedge clk) begin
        if (!rst && s_v_b) begin
            run_d <= new_d;
            run_k <= new_k;
            if (s_last_b) abuf[s_pos_b] <= new_k;
        end
    end

    // ---- Lookup and accumulate. A: table and code addresses; B: pick each
    // lane's entries, add them and accumulate; C: shift left by L; D: round and clamp; E: store.
    wire issue = (state == S_RUN) & ~omode;
    wire oissue = (state == S_RUN) & omode;
    genvar q;
    generate
        for (q = 0; q < PL; q = q + 1) begin : g_addr
            localparam integer Q_I = q;
            wire [AB-1:0] ai = abase + Q_I[AB-1:0];
            // Padding positions past P have all-zero table rows; index 0 keeps their address in range.
            localparam [31:0] P_U = P;
            wire [KB-1:0] a = ({{(32-AB){1'b0}}, ai} < P_U) ? abuf[ai] : {KB{1'b0}};
            if (TA_BITS > KB) begin : g_wide
                assign tab_addr[q*TA_BITS +: TA_BITS] = tbase + {{(TA_BITS-KB){1'b0}}, a};
            end else begin : g_narrow
                assign tab_addr[q*TA_BITS +: TA_BITS] = tbase + a;
            end
        end
    endgenerate

    reg v_b, ov_b, first_b, last_b, v_c, v_d, v_e;
    // Outlier-only signals are unused when OK = 0.
    /* verilator lint_off UNUSEDSIGNAL */
    reg ofirst_b;
    wire [CL*OL*OPAIR-1:0] o_word;
    wire [CL*M2_BITS-1:0] m2_word;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [PW-1:0] pass_b, pass_c, pass_d, pass_e;
    always @(posedge clk) begin
        first_b <= (pb == {PBW{1'b0}});
        ofirst_b <= (ko == {OKW{1'b0}});
        // The last cycle of a pass: its last outlier cycle, or its last lookup without outliers.
        last_b <= omode ? (ko == OKC_LAST) : (pb == PB_LAST && OKC == 0);
        pass_b <= pass;
        pass_c <= pass_b;
        pass_d <= pass_c;
        pass_e <= pass_d;
        if (rst) begin
            v_b <= 1'b0; ov_b <= 1'b0; v_c <= 1'b0; v_d <= 1'b0; v_e <= 1'b0;
        end else begin
            v_b <= issue;
            ov_b <= oissue;
            v_c <= (v_b | ov_b) & last_b;
            v_d <= v_c;
            v_e <= v_d;
        end
    end

    wire [PL*CL*CB-1:0] w_word;
    wire [CL*B_BITS-1:0] b_word;
    localparam integer QW = C_BITS + LS_BITS + SH_BITS;
    wire [CL*QW-1:0] q_word;
    lf_rom #(.WIDTH(PL*CL*CB), .DEPTH(PASSES*PB), .ADDR_BITS(WAW), .INIT_FILE(W_FILE))
        u_codes (.clk(clk), .addr(waddr), .data(w_word));
    lf_rom #(.WIDTH(CL*B_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(B_FILE))
        u_bias (.clk(clk), .addr(pass), .data(b_word));
    lf_rom #(.WIDTH(CL*QW), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(Q_FILE))
        u_shift (.clk(clk), .addr(pass_b), .data(q_word));

    // Outlier pairs ({index, value}) and multipliers M2, only with outliers.
    generate
        if (OK > 0) begin : g_outlier_roms
            lf_rom #(.WIDTH(CL*OL*OPAIR), .DEPTH(PASSES*OKC), .ADDR_BITS(OAW), .INIT_FILE(O_FILE))
                u_outliers (.clk(clk), .addr(oaddr), .data(o_word));
            lf_rom #(.WIDTH(CL*M2_BITS), .DEPTH(PASSES), .ADDR_BITS(PW), .INIT_FILE(M2_FILE))
                u_m2 (.clk(clk), .addr(pass_b), .data(m2_word));
        end else begin : g_no_outlier_roms
            assign o_word = {(CL*OL*OPAIR){1'b0}};
            assign m2_word = {(CL*M2_BITS){1'b0}};
        end
    endgenerate

    // The entry of a row that a code selects: a KW-way multiplexer.
    function [T_BITS-1:0] pick(input [TW-1:0] row, input [CB-1:0] code);
        integer w;
        begin
            pick = {T_BITS{1'b0}};
            for (w = 0; w < KW; w = w + 1)
                if (code == w[CB-1:0]) pick = row[w*T_BITS +: T_BITS];
        end
    endfunction

    genvar c;
    generate
        for (c = 0; c < CL; c = c + 1) begin : lane
            reg signed [ACC_BITS-1:0] sum;
            reg [T_BITS-1:0] ent;
            integer j;
            always @* begin
                sum = {ACC_BITS{1'b0}};
                for (j = 0; j < PL; j = j + 1) begin
                    ent = pick(tab_data[j*TW +: TW], w_word[(j*CL + c)*CB +: CB]);
                    sum = sum + {{(ACC_BITS-T_BITS){ent[T_BITS-1]}}, ent};
                end
            end
            wire signed [B_BITS-1:0] b = b_word[c*B_BITS +: B_BITS];
            reg signed [ACC_BITS-1:0] acc;
            wire signed [ACC_BITS-1:0] base = first_b ? {{(ACC_BITS-B_BITS){b[B_BITS-1]}}, b} : acc;
            always @(posedge clk) if (v_b) acc <= base + sum;

            // C: scaled = acc * 2^L (a shift), plus acc_outlier * M2 with outliers.
            wire [LS_BITS-1:0] lsh = q_word[c*QW + SH_BITS +: LS_BITS];
            wire signed [P_BITS-1:0] shifted = {{(P_BITS-ACC_BITS){acc[ACC_BITS-1]}}, acc} <<< lsh;
            wire signed [P_BITS-1:0] outlier_term;
            if (OK > 0) begin : g_outliers
                // B: OL exact multiply-adds per cycle: value * x[index].
                reg signed [OA_BITS-1:0] osum;
                reg signed [OA_BITS-1:0] oacc;
                integer oj;
                reg [OPAIR-1:0] pr;
                reg signed [OW_BITS-1:0] ow;
                reg [X_BITS-1:0] ox;
                reg signed [X_BITS:0] oxe;
                reg signed [OW_BITS+X_BITS:0] op;
                always @* begin
                    osum = {OA_BITS{1'b0}};
                    for (oj = 0; oj < OL; oj = oj + 1) begin
                        pr = o_word[(c*OL + oj)*OPAIR +: OPAIR];
                        ow = pr[OW_BITS-1:0];
                        ox = xbuf[pr[OPAIR-1:OW_BITS]];
                        oxe = {(X_SIGNED != 0) & ox[X_BITS-1], ox};
                        op = {{(X_BITS+1){ow[OW_BITS-1]}}, ow} * {{OW_BITS{oxe[X_BITS]}}, oxe};
                        osum = osum + {{(OA_BITS-OW_BITS-X_BITS-1){op[OW_BITS+X_BITS]}}, op};
                    end
                end
                always @(posedge clk) if (ov_b) oacc <= (ofirst_b ? {OA_BITS{1'b0}} : oacc) + osum;
                lf_fabric_mul #(.A_BITS(OA_BITS), .M_BITS(M2_BITS), .P_BITS(P_BITS))
                    u_mul (.a(oacc), .m(m2_word[c*M2_BITS +: M2_BITS]), .p(outlier_term));
            end else begin : g_no_outliers
                assign outlier_term = {P_BITS{1'b0}};
            end
            reg signed [P_BITS-1:0] scaled;
            reg [SH_BITS-1:0] s_d;
            reg signed [C_BITS-1:0] c_d;
            always @(posedge clk) begin
                scaled <= shifted + outlier_term;
                s_d <= q_word[c*QW +: SH_BITS];
                c_d <= q_word[c*QW + SH_BITS + LS_BITS +: C_BITS];
            end

            wire [R_BITS-1:0] r;
            lf_round_clamp #(.P_BITS(P_BITS), .C_BITS(C_BITS), .S_BITS(SH_BITS), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED))
                u_round (.clk(clk), .scaled(scaled), .c(c_d), .s(s_d), .r(r));
            lf_lane_store #(.PASSES(PASSES), .PW(PW), .R_BITS(R_BITS), .R_SIGNED(R_SIGNED), .HAS_TABLE(HAS_TABLE),
                            .Y_BITS(Y_BITS), .T_FILE(T_FILE))
                u_store (.clk(clk), .rst(rst), .wr(v_e), .wr_pass(pass_e), .r(r), .rd_pass(e_pass), .data(lane_out[c]));
        end
    endgenerate
endmodule

`default_nettype wire
