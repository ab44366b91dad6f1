// lf_tf_dsp_engine: the reused DSP-chain engine of a temporal transformer design (after
// LUT-LLM's spatial-temporal engine; the multiply-adds of FlightLLM's chains). One instance
// serves every int8 DSP linear of every layer: the sequencer holds the linear's
// configuration (cfg_*) for the whole operation, and the weights come from off-chip memory.
// Per token: LOAD takes cfg_in inputs; REQ asks for the linear's cfg_out*(3 + ceil(cfg_in/8))
// 64-bit words at cfg_base (the image of HardwareIR/TransformerEngine.swift); STREAM takes
// each word as it arrives: per output column its bias, its offset C, {S, M}, then words of
// 8 int8 weights, each word multiplied with 8 inputs and added to the accumulator (8 DSP
// slices). A column's accumulator then goes through the requantizer of docs/numerics.md:
// acc*M (one stage), lf_round_clamp (one stage), the clamp to [cfg_lo, cfg_hi] and the
// optional activation table (one stage), and is presented until taken (lf_tf_engine_out,
// shared with lf_tf_lut_engine). Every width is the widest of the served linears' proven
// types (DSPEngineLayout). Uses lf_tf_engine_out, lf_round_clamp.
//
// Timing: LOAD cfg_in cycles, REQ one; the words arrive as the memory delivers them (the
// engine never stalls them); a column's output is valid 3 cycles after its last word.
// The sequencer drains each output the cycle it is valid.
`default_nettype none

module lf_tf_dsp_engine #(
    parameter integer MAX_IN = 8,
    parameter integer X_BITS = 16,     // signed input
    parameter integer ACC_BITS = 32,   // signed accumulator, > X_BITS + 8
    parameter integer M_BITS = 16,     // unsigned multiplier, <= 32
    parameter integer P_BITS = 48,     // signed acc*M + C, > ACC_BITS, > M_BITS, > Y_BITS + 1, <= 64
    parameter integer Y_BITS = 16,     // signed output, <= 32
    parameter integer HALF_EVEN = 0,   // the requantizers round half to even (lf_round_clamp)
    parameter integer T_COUNT = 1,     // entries of all activation tables
    parameter T_FILE = "engine_t.mem"
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [31:0]              cfg_in,
    input  wire [31:0]              cfg_out,
    input  wire [31:0]              cfg_base,
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
    output wire [31:0]              mem_req_addr,
    output wire [31:0]              mem_req_len,
    input  wire                     mem_rsp_valid,
    input  wire [63:0]              mem_rsp_data
);
    localparam integer XD = ((MAX_IN + 7) / 8) * 8;
    localparam integer XW = $clog2(XD);
    localparam integer PR = X_BITS + 8;    // one product
    localparam [1:0] S_LOAD = 2'd0, S_REQ = 2'd1, S_STREAM = 2'd2;

    reg [1:0] state;
    reg signed [X_BITS-1:0] xbuf [0:XD-1];
    reg [31:0] xi, beat, word, taken;
    wire [31:0] wpc = (cfg_in + 32'd7) >> 3;          // weight words per column
    wire [31:0] last_beat = wpc + 32'd2;
    reg signed [ACC_BITS-1:0] acc;
    reg [P_BITS-1:0] c_word;
    reg [M_BITS-1:0] m_reg;
    reg [5:0] s_reg;

    assign in_ready = (state == S_LOAD);
    assign mem_req_valid = (state == S_REQ);
    assign mem_req_addr = cfg_base;
    assign mem_req_len = cfg_out * (wpc + 32'd3);

    // One word of weights against 8 inputs (zero past cfg_in).
    wire signed [ACC_BITS-1:0] term [0:7];
    genvar g;
    generate
        for (g = 0; g < 8; g = g + 1) begin : g_lane
            localparam [31:0] G = g;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] idx = {word[28:0], 3'b000} + G;
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [X_BITS-1:0] x = (idx < cfg_in) ? xbuf[idx[XW-1:0]] : {X_BITS{1'b0}};
            wire signed [7:0] w = mem_rsp_data[8*g +: 8];
            wire signed [PR-1:0] p = {{X_BITS{w[7]}}, w} * {{8{x[X_BITS-1]}}, x};
            assign term[g] = {{(ACC_BITS-PR){p[PR-1]}}, p};
        end
    endgenerate
    wire signed [ACC_BITS-1:0] word_sum = term[0] + term[1] + term[2] + term[3] + term[4] + term[5] + term[6] + term[7];
    wire signed [ACC_BITS-1:0] acc_next = acc + word_sum;

    // The column's accumulator and requantizer, into the shared output side (lf_tf_engine_out).
    reg signed [ACC_BITS-1:0] fin;
    reg fin_v;
    lf_tf_engine_out #(.ACC_BITS(ACC_BITS), .M_BITS(M_BITS), .P_BITS(P_BITS), .Y_BITS(Y_BITS), .HALF_EVEN(HALF_EVEN),
                       .T_COUNT(T_COUNT), .T_FILE(T_FILE))
        u_out (.clk(clk), .rst(rst), .fin_v(fin_v), .fin(fin), .m(m_reg), .c(c_word), .s(s_reg), .lo(cfg_lo), .hi(cfg_hi),
               .table_en(cfg_table), .tbase(cfg_tbase), .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));

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
                        state <= S_REQ;
                    end else begin
                        xi <= xi + 32'd1;
                    end
                end
                S_REQ: begin
                    beat <= 32'd0;
                    word <= 32'd0;
                    taken <= 32'd0;
                    state <= S_STREAM;
                end
                S_STREAM: begin
                    if (mem_rsp_valid) begin
                        case (beat)
                            32'd0: acc <= mem_rsp_data[ACC_BITS-1:0];
                            32'd1: c_word <= mem_rsp_data[P_BITS-1:0];
                            32'd2: begin m_reg <= mem_rsp_data[M_BITS-1:0]; s_reg <= mem_rsp_data[37:32]; end
                            default: acc <= acc_next;
                        endcase
                        if (beat >= 32'd3) word <= word + 32'd1;
                        if (beat == last_beat) begin
                            fin <= acc_next;
                            fin_v <= 1'b1;
                            beat <= 32'd0;
                            word <= 32'd0;
                        end else begin
                            beat <= beat + 32'd1;
                        end
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
