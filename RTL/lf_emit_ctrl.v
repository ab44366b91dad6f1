// lf_emit_ctrl: the output side shared by the layer modules. After `start`
// (the cycle of a layer's last compute issue) it waits LATENCY cycles for the
// pipeline to store the last outputs, then streams N_OUT outputs, lane by lane
// within a pass, one per accepted beat; `done` marks the last accepted beat.
`default_nettype none

module lf_emit_ctrl #(
    parameter integer N_OUT = 4,
    parameter integer LANES = 1,
    parameter integer PW = 1,         // pass index width
    parameter integer LW = 1,         // lane index width
    parameter integer LATENCY = 4     // at least 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire          out_ready,
    output wire          out_valid,
    output reg  [PW-1:0] e_pass,
    output reg  [LW-1:0] e_lane,
    output wire          done
);
    localparam integer PASSES = (N_OUT + LANES - 1) / LANES;
    localparam integer P_LAST_I = PASSES - 1;
    localparam integer EL_LAST_I = (N_OUT - 1) % LANES;
    localparam integer L_LAST_I = LANES - 1;
    localparam integer D_LAST_I = LATENCY - 1;
    localparam integer DW = (LATENCY > 1) ? $clog2(LATENCY) : 1;
    localparam [PW-1:0] P_LAST = P_LAST_I[PW-1:0];
    localparam [LW-1:0] EL_LAST = EL_LAST_I[LW-1:0];
    localparam [LW-1:0] L_LAST = L_LAST_I[LW-1:0];
    localparam [DW-1:0] D_LAST = D_LAST_I[DW-1:0];
    localparam [1:0] S_IDLE = 2'd0, S_DRAIN = 2'd1, S_EMIT = 2'd2;

    reg [1:0] state;
    reg [DW-1:0] drain;
    assign out_valid = (state == S_EMIT);
    assign done = out_valid && out_ready && e_pass == P_LAST && e_lane == EL_LAST;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
            drain <= {DW{1'b0}};
            e_pass <= {PW{1'b0}};
            e_lane <= {LW{1'b0}};
        end else begin
            case (state)
                S_IDLE: if (start) state <= S_DRAIN;
                S_DRAIN: begin
                    drain <= drain + 1'b1;
                    if (drain == D_LAST) begin
                        drain <= {DW{1'b0}};
                        state <= S_EMIT;
                    end
                end
                default: if (out_ready) begin
                    if (done) begin
                        e_pass <= {PW{1'b0}};
                        e_lane <= {LW{1'b0}};
                        state <= S_IDLE;
                    end else if (e_lane == L_LAST) begin
                        e_lane <= {LW{1'b0}};
                        e_pass <= e_pass + 1'b1;
                    end else begin
                        e_lane <= e_lane + 1'b1;
                    end
                end
            endcase
        end
    end
endmodule

`default_nettype wire
