// lf_tf_attention: integer softmax attention over an on-chip KV cache (docs/numerics.md,
// "Transformer integer numerics"). Per query head h (KV head h / (HEADS/KV_HEADS)), over
// the visible cached positions j (j <= limit, and the key's mask bit set):
//   s_j = sum_d q_d * k_jd;  i_j = min(N-1, ((max s - s_j) * MX + 2^(SX-1)) >> SX)
//   e_j = E[i_j];  Z = sum e_j;  r = floor(2^31 / Z);  p_j = (e_j * r + 2^15) >> 16
//   ctx_d = clamp((sum_j p_j * v_jd * M + C) >>> S)
// Ports: `kv` appends one position (KV_HEADS*HD keys then as many values; `kv_mask`
// sampled with the first beat), `q` streams a query of HEADS*HD with `limit` (the last
// visible position) sampled with its first beat, `out` returns the context. `clear`
// empties the cache.
//
// Timing per query and head: one multiply-add per cycle for the scores (HD per visible
// key), one table read per key, 32 cycles of restoring division, one cycle per key for
// the probabilities, one multiply-add per cycle for the context (HD per key).
`default_nettype none

module lf_tf_attention #(
    parameter integer HEADS = 2,
    parameter integer KV_HEADS = 1,
    parameter integer HD = 8,
    parameter integer MAX_SEQ = 8,
    parameter integer X_BITS = 8,        // q, k, v, context (signed)
    parameter integer L_BITS = 8,        // limit input
    parameter integer MX = 1,
    parameter integer SX = 1,
    parameter integer E_COUNT = 2,
    parameter integer E_BITS = 16,       // unsigned table entries
    parameter integer M = 1,
    parameter integer S = 1,
    parameter [63:0] C = 64'd0,
    parameter E_FILE = "exp.mem"         // E_COUNT words of E_BITS
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              clear,
    input  wire              kv_valid,
    output wire              kv_ready,
    input  wire [X_BITS-1:0] kv_data,
    input  wire              kv_mask,
    input  wire              q_valid,
    output wire              q_ready,
    input  wire [X_BITS-1:0] q_data,
    input  wire [L_BITS-1:0] limit,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [X_BITS-1:0] out_data
);
    localparam integer QW = HEADS * HD, KW = KV_HEADS * HD, GROUP = HEADS / KV_HEADS;
    localparam [3:0] S_IDLE = 4'd0, S_Q = 4'd1, S_SCORE = 4'd2, S_EXP = 4'd3, S_DIV = 4'd4, S_PROB = 4'd5, S_CTX = 4'd6,
                     S_NEXT = 4'd7, S_EMIT = 4'd8, S_KV = 4'd9;
    localparam signed [63:0] Y_MAX = (64'sd1 <<< (X_BITS - 1)) - 64'sd1;
    localparam signed [63:0] Y_MIN = -(64'sd1 <<< (X_BITS - 1));
    localparam integer E_LAST_I = E_COUNT - 1;
    localparam integer EW = (E_COUNT > 1) ? $clog2(E_COUNT) : 1;
    localparam [63:0] E_LAST = 64'd1 * E_LAST_I;

    reg signed [X_BITS-1:0] keys [0:MAX_SEQ*KW-1];
    reg signed [X_BITS-1:0] vals [0:MAX_SEQ*KW-1];
    reg mask [0:MAX_SEQ-1];
    reg signed [X_BITS-1:0] qbuf [0:QW-1];
    reg signed [X_BITS-1:0] obuf [0:QW-1];
    reg signed [63:0] score [0:MAX_SEQ-1];
    reg [63:0] prob [0:MAX_SEQ-1];
    reg [E_BITS-1:0] emem [0:E_COUNT-1];
    initial $readmemh(E_FILE, emem);

    reg [3:0] state;
    reg [31:0] len;                      // cached positions
    reg [31:0] cnt;                      // beats of the kv or q stream
    reg [31:0] lim;
    reg [31:0] h, j, d;
    reg signed [63:0] acc, best;
    reg have_best;
    reg [63:0] z, quo, r;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [63:0] rem;                      // its top bit is shifted out
    /* verilator lint_on UNUSEDSIGNAL */
    reg [6:0] k;

    assign kv_ready = (state == S_IDLE || state == S_KV) && len < MAX_SEQ;
    assign q_ready = (state == S_IDLE || state == S_Q);
    assign out_valid = (state == S_EMIT);
    assign out_data = obuf[cnt];
    wire kv_fire = kv_valid && kv_ready, q_fire = q_valid && q_ready && !kv_valid, out_fire = out_valid && out_ready;

    wire [31:0] kh = h / GROUP;
    wire visible = (j <= lim) && mask[j];
    wire signed [X_BITS-1:0] q0 = qbuf[h * HD + d], k0 = keys[j * KW + kh * HD + d], v0 = vals[j * KW + kh * HD + d];
    wire signed [63:0] qd = {{(64 - X_BITS){q0[X_BITS-1]}}, q0};
    wire signed [63:0] kd = {{(64 - X_BITS){k0[X_BITS-1]}}, k0};
    wire signed [63:0] vd = {{(64 - X_BITS){v0[X_BITS-1]}}, v0};
    wire [63:0] index_raw = $unsigned(best - score[j]) * MX + ((SX > 0) ? (64'd1 << (SX - 1)) : 64'd0);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [63:0] index = (index_raw >> SX) > E_LAST ? E_LAST : (index_raw >> SX);
    wire [EW-1:0] ei = index[EW-1:0];
    wire signed [63:0] scaled = acc * M + $signed(C);
    wire signed [63:0] shifted = scaled >>> S;
    wire signed [63:0] ctx = shifted > Y_MAX ? Y_MAX : (shifted < Y_MIN ? Y_MIN : shifted);
    /* verilator lint_on UNUSEDSIGNAL */
    // One step of the restoring division of 2^31 by z.
    wire [63:0] trial = {rem[62:0], k == 7'd1};

    always @(posedge clk) begin
        if (rst || clear) begin
            state <= S_IDLE;
            len <= 32'd0;
            cnt <= 32'd0;
        end else begin
            case (state)
                S_IDLE, S_KV, S_Q: begin
                    if (kv_fire) begin
                        if (cnt < KW) keys[len * KW + cnt] <= kv_data;
                        else vals[len * KW + cnt - KW] <= kv_data;
                        if (cnt == 0) mask[len] <= kv_mask;
                        if (cnt == 2 * KW - 1) begin
                            cnt <= 32'd0;
                            len <= len + 32'd1;
                            state <= S_IDLE;
                        end else begin
                            cnt <= cnt + 32'd1;
                            state <= S_KV;
                        end
                    end else if (q_fire) begin
                        qbuf[cnt] <= q_data;
                        if (cnt == 0) lim <= {{(32 - L_BITS){1'b0}}, limit};
                        if (cnt == QW - 1) begin
                            cnt <= 32'd0;
                            h <= 32'd0;
                            j <= 32'd0;
                            d <= 32'd0;
                            acc <= 64'sd0;
                            have_best <= 1'b0;
                            state <= S_SCORE;
                        end else begin
                            cnt <= cnt + 32'd1;
                            state <= S_Q;
                        end
                    end
                end
                S_SCORE: begin
                    // One multiply-add per cycle; invisible keys are skipped.
                    if (j == len) begin
                        j <= 32'd0;
                        z <= 64'd0;
                        state <= S_EXP;
                    end else if (!visible) begin
                        j <= j + 32'd1;
                    end else if (d == HD - 1) begin
                        score[j] <= acc + qd * kd;
                        if (!have_best || acc + qd * kd > best) best <= acc + qd * kd;
                        have_best <= 1'b1;
                        acc <= 64'sd0;
                        d <= 32'd0;
                        j <= j + 32'd1;
                    end else begin
                        acc <= acc + qd * kd;
                        d <= d + 32'd1;
                    end
                end
                S_EXP: begin
                    if (j == len) begin
                        k <= 7'd0;
                        state <= S_DIV;
                    end else begin
                        if (visible) begin
                            prob[j] <= {{(64 - E_BITS){1'b0}}, emem[ei]};
                            z <= z + {{(64 - E_BITS){1'b0}}, emem[ei]};
                        end
                        j <= j + 32'd1;
                    end
                end
                S_DIV: begin
                    // r = floor(2^31 / z), the 32 dividend bits one per cycle.
                    if (k == 7'd0) begin
                        rem <= 64'd0;
                        quo <= 64'd0;
                        k <= 7'd1;
                    end else if (k <= 7'd32) begin
                        if (trial >= z) begin
                            rem <= trial - z;
                            quo <= {quo[62:0], 1'b1};
                        end else begin
                            rem <= trial;
                            quo <= {quo[62:0], 1'b0};
                        end
                        k <= k + 7'd1;
                    end else begin
                        r <= quo;
                        j <= 32'd0;
                        state <= S_PROB;
                    end
                end
                S_PROB: begin
                    if (j == len) begin
                        j <= 32'd0;
                        d <= 32'd0;
                        acc <= 64'sd0;
                        state <= S_CTX;
                    end else begin
                        if (visible) prob[j] <= (prob[j] * r + 64'd32768) >> 16;
                        j <= j + 32'd1;
                    end
                end
                S_CTX: begin
                    // For each d, the sum over visible keys, then the requantizer.
                    if (j == len) begin
                        obuf[h * HD + d] <= ctx[X_BITS-1:0];
                        acc <= 64'sd0;
                        j <= 32'd0;
                        if (d == HD - 1) begin
                            d <= 32'd0;
                            state <= S_NEXT;
                        end else begin
                            d <= d + 32'd1;
                        end
                    end else begin
                        if (visible) acc <= acc + $signed(prob[j]) * vd;
                        j <= j + 32'd1;
                    end
                end
                S_NEXT: begin
                    have_best <= 1'b0;
                    if (h == HEADS - 1) begin
                        cnt <= 32'd0;
                        state <= S_EMIT;
                    end else begin
                        h <= h + 32'd1;
                        state <= S_SCORE;
                    end
                end
                S_EMIT: if (out_fire) begin
                    if (cnt == QW - 1) begin
                        cnt <= 32'd0;
                        state <= S_IDLE;
                    end else begin
                        cnt <= cnt + 32'd1;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
