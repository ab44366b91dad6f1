// lf_tf_norm: RMSNorm (LAYER = 0) or LayerNorm (LAYER = 1) over N integers with the
// integer reciprocal square root of docs/numerics.md, "Transformer integer numerics":
//   c_i = x_i (- mu, mu = floor((sum + floor(N/2)) / N));  m = sum c_i^2 + EPS
//   t = m shifted by an even sh into [2^30, 2^32);  u = isqrt(t);  R = floor(2^40 / u)
//   y_i = clamp(((c_i * G_i * R + 2^(T-1)) >>> T) + B_i),  T = GSHIFT + 40 + sh/2
// G and B come from hex images (N words each). Every product is proven below 2^62 by the
// compiler, so the datapath is 64 bits wide.
//
// Timing (no back-pressure inside): LOAD N beats; LayerNorm divides by N (64 cycles,
// restoring); SQ accumulates one square per cycle (N); one cycle to normalise m; ISQRT
// (16 cycles, one result bit each); DIV (41 cycles, restoring); EMIT N beats.
`default_nettype none

module lf_tf_norm #(
    parameter integer N = 16,
    parameter integer LAYER = 0,
    parameter integer X_BITS = 16,     // signed input
    parameter integer G_BITS = 20,     // signed gains
    parameter integer B_BITS = 16,     // signed biases
    parameter integer Y_BITS = 16,     // signed, saturating output
    parameter integer GSHIFT = 0,
    parameter [63:0] EPS = 64'd1,
    parameter G_FILE = "g.mem",
    parameter B_FILE = "b.mem"
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
    localparam integer IW = $clog2(N + 1);
    localparam integer AW = (N > 1) ? $clog2(N) : 1;
    localparam [2:0] S_LOAD = 3'd0, S_MEAN = 3'd1, S_SQ = 3'd2, S_SHIFT = 3'd3, S_ISQRT = 3'd4, S_DIV = 3'd5, S_EMIT = 3'd6;
    localparam integer N_I = N;
    localparam [63:0] N64 = 64'd1 * N;
    localparam [IW-1:0] N_W = N_I[IW-1:0];
    localparam signed [63:0] Y_MAX = (64'sd1 <<< (Y_BITS - 1)) - 64'sd1;
    localparam signed [63:0] Y_MIN = -(64'sd1 <<< (Y_BITS - 1));

    reg [2:0] state;
    reg [IW-1:0] n;                     // beats in, squares done, beats out
    reg [6:0] k;                        // iteration of a divider or the square root
    reg signed [X_BITS-1:0] xbuf [0:N-1];
    reg signed [G_BITS-1:0] gmem [0:N-1];
    reg signed [B_BITS-1:0] bmem [0:N-1];
    initial begin
        $readmemh(G_FILE, gmem);
        $readmemh(B_FILE, bmem);
    end

    reg signed [63:0] sum, mean;
    reg [63:0] m;
    reg [63:0] num, quo;                // restoring division
    /* verilator lint_off UNUSEDSIGNAL */
    reg [63:0] rem;                     // its top bit is shifted out
    /* verilator lint_on UNUSEDSIGNAL */
    reg neg;
    reg [31:0] t;                       // isqrt operand
    reg [31:0] root, bitv;
    reg signed [31:0] half;             // sh / 2
    reg [63:0] r;                       // R = floor(2^40 / u)

    assign in_ready = (state == S_LOAD);
    assign out_valid = (state == S_EMIT);
    wire in_fire = in_valid && in_ready;
    wire out_fire = out_valid && out_ready;

    // Bit length of m (m >= 1).
    function integer bit_length(input [63:0] v);
        integer b;
        begin
            bit_length = 0;
            for (b = 0; b < 64; b = b + 1) if (v[b]) bit_length = b + 1;
        end
    endfunction

    // The output of element n.
    wire [AW-1:0] a = n[AW-1:0];
    wire signed [63:0] c_out = $signed({{(64 - X_BITS){xbuf[a][X_BITS-1]}}, xbuf[a]}) - mean;
    wire signed [63:0] g_out = $signed({{(64 - G_BITS){gmem[a][G_BITS-1]}}, gmem[a]});
    wire signed [63:0] b_out = $signed({{(64 - B_BITS){bmem[a][B_BITS-1]}}, bmem[a]});
    wire signed [63:0] prod = c_out * g_out * $signed(r);
    wire signed [31:0] shift_t = GSHIFT + 40 + half;
    wire signed [63:0] rounded = ((prod + (64'sd1 <<< (shift_t - 1))) >>> shift_t) + b_out;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [63:0] clamped = rounded > Y_MAX ? Y_MAX : (rounded < Y_MIN ? Y_MIN : rounded);
    /* verilator lint_on UNUSEDSIGNAL */
    assign out_data = clamped[Y_BITS-1:0];

    // The element being squared.
    wire signed [63:0] c_sq = $signed({{(64 - X_BITS){xbuf[a][X_BITS-1]}}, xbuf[a]}) - mean;

    // One step of each restoring division (the mean's dividend bit, then 2^40's), and the
    // normalising shift of m: sh = bitlen(m) - 32, rounded up to even.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [6:0] mean_bit = 7'd64 - k;                    // k = 1..64 brings bits 63..0
    /* verilator lint_on UNUSEDSIGNAL */
    wire [63:0] mean_trial = {rem[62:0], num[mean_bit[5:0]]};
    wire [63:0] div_trial = {rem[62:0], k == 7'd1};
    wire signed [31:0] sh_raw = bit_length(m) - 32;
    wire signed [31:0] sh = sh_raw + {31'd0, sh_raw[0]};
    /* verilator lint_off UNUSEDSIGNAL */
    wire [63:0] wide = sh >= 0 ? m >> sh : m << (-sh);
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk) begin
        if (in_fire) xbuf[a] <= $signed(in_data);
        if (rst) begin
            state <= S_LOAD;
            n <= {IW{1'b0}};
        end else begin
            case (state)
                S_LOAD: if (in_fire) begin
                    sum <= (n == 0 ? 64'sd0 : sum) + $signed({{(64 - X_BITS){in_data[X_BITS-1]}}, in_data});
                    if (n == N_W - 1'b1) begin
                        n <= {IW{1'b0}};
                        mean <= 64'sd0;
                        m <= EPS;
                        k <= 7'd0;
                        state <= (LAYER != 0) ? S_MEAN : S_SQ;
                    end else begin
                        n <= n + 1'b1;
                    end
                end
                S_MEAN: begin
                    // floor((sum + floor(N/2)) / N): divide |a| (+ N - 1 when a < 0) by N, one bit per cycle.
                    if (k == 7'd0) begin
                        neg <= (sum + $signed(N64 / 2)) < 0;
                        num <= (sum + $signed(N64 / 2)) < 0 ? $unsigned(-(sum + $signed(N64 / 2))) + N64 - 64'd1
                                                             : $unsigned(sum + $signed(N64 / 2));
                        rem <= 64'd0;
                        quo <= 64'd0;
                        k <= 7'd1;
                    end else if (k <= 7'd64) begin
                        if (mean_trial >= N64) begin
                            rem <= mean_trial - N64;
                            quo <= {quo[62:0], 1'b1};
                        end else begin
                            rem <= mean_trial;
                            quo <= {quo[62:0], 1'b0};
                        end
                        k <= k + 7'd1;
                    end else begin
                        mean <= neg ? -$signed(quo) : $signed(quo);
                        k <= 7'd0;
                        state <= S_SQ;
                    end
                end
                S_SQ: begin
                    m <= m + $unsigned(c_sq * c_sq);
                    if (n == N_W - 1'b1) begin
                        n <= {IW{1'b0}};
                        state <= S_SHIFT;
                    end else begin
                        n <= n + 1'b1;
                    end
                end
                S_SHIFT: begin
                    t <= wide[31:0];
                    half <= sh / 2;
                    root <= 32'd0;
                    bitv <= 32'd1 << 30;
                    k <= 7'd0;
                    state <= S_ISQRT;
                end
                S_ISQRT: begin
                    // t is in [2^30, 2^32): sixteen steps of the bitwise square root.
                    if (t >= root + bitv) begin
                        t <= t - (root + bitv);
                        root <= (root >> 1) + bitv;
                    end else begin
                        root <= root >> 1;
                    end
                    bitv <= bitv >> 2;
                    if (k == 7'd15) begin
                        k <= 7'd0;
                        state <= S_DIV;
                    end else begin
                        k <= k + 7'd1;
                    end
                end
                S_DIV: begin
                    // R = floor(2^40 / u), the 41 dividend bits one per cycle.
                    if (k == 7'd0) begin
                        rem <= 64'd0;
                        quo <= 64'd0;
                        k <= 7'd1;
                    end else if (k <= 7'd41) begin
                        if (div_trial >= {32'd0, root}) begin
                            rem <= div_trial - {32'd0, root};
                            quo <= {quo[62:0], 1'b1};
                        end else begin
                            rem <= div_trial;
                            quo <= {quo[62:0], 1'b0};
                        end
                        k <= k + 7'd1;
                    end else begin
                        r <= quo;
                        k <= 7'd0;
                        state <= S_EMIT;
                    end
                end
                S_EMIT: if (out_fire) begin
                    if (n == N_W - 1'b1) begin
                        n <= {IW{1'b0}};
                        state <= S_LOAD;
                    end else begin
                        n <= n + 1'b1;
                    end
                end
                default: state <= S_LOAD;
            endcase
        end
    end
endmodule

`default_nettype wire
