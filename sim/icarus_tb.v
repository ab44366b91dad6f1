// Icarus Verilog testbench for a generated LUTForge design: the same protocol and
// measurements as sim/verilator_main.cpp, in Verilog-2005. It streams integer input
// vectors into lutforge_top one at a time and records every output and the cycles
// from the first input beat to the last output beat; then it streams all vectors
// again back to back, checks the outputs are the same and records the cycles
// between successive out_last beats. design.vh (generated) holds the interface.
// Usage: vvp sim.vvp +in=inputs.txt +out=outputs.txt  (build: see Makefile)
`timescale 1ns / 1ps
`default_nettype none

`ifndef LF_MAX_VALUES
`define LF_MAX_VALUES 65536
`endif
`ifndef LF_MAX_OUTPUTS
`define LF_MAX_OUTPUTS 65536
`endif

module lutforge_tb;
    parameter MEM_DIR = "./";
    `include "design.vh"
    localparam integer MAX_VALUES = `LF_MAX_VALUES;
    localparam integer MAX_OUTPUTS = `LF_MAX_OUTPUTS;

    reg clk = 1'b0, rst = 1'b1, in_valid = 1'b0, out_ready = 1'b0;
    reg [IN_BITS-1:0] in_data = {IN_BITS{1'b0}};
    wire in_ready, out_valid, out_last;
    wire [OUT_BITS-1:0] out_data;

    lutforge_top #(.MEM_DIR(MEM_DIR)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data), .out_last(out_last)
    );

    reg [8*1024-1:0] in_path, out_path;
    integer fin, fout, count, width, v, i, got, sent, received;
    integer failed;
    reg signed [63:0] value;
    reg signed [63:0] inputs [0:MAX_VALUES-1];
    reg signed [63:0] outputs [0:MAX_OUTPUTS-1];
    reg signed [63:0] y;
    reg in_fire, out_fire, last_s;
    reg [OUT_BITS-1:0] data_s;
    integer cycle, first, last, latency, lat_min, lat_max, lat_total, limit, start;
    integer total_in, total_out, last_end, d, int_min, int_max, int_last;

    // One clock cycle: the inputs are set, the design settles, the handshakes are sampled, then the edge.
    task tick;
        begin
            #1;
            in_fire = in_valid && in_ready;
            out_fire = out_valid && out_ready;
            last_s = out_last;
            data_s = out_data;
            #4 clk = 1'b1;
            #5 clk = 1'b0;
            cycle = cycle + 1;
        end
    endtask

    function signed [63:0] extend;
        input [OUT_BITS-1:0] raw;
        begin
            extend = {{(64-OUT_BITS){OUT_SIGNED != 0 && raw[OUT_BITS-1]}}, raw};
        end
    endfunction

    initial begin
        failed = 0;
        if (!$value$plusargs("in=%s", in_path) || !$value$plusargs("out=%s", out_path)) begin
            $display("usage: vvp sim.vvp +in=inputs.txt +out=outputs.txt");
            $finish;
        end
        fin = $fopen(in_path, "r");
        if (fin == 0) begin $display("lutforge-tb error: cannot open the inputs"); $finish; end
        got = $fscanf(fin, "%d %d", count, width);
        if (got != 2 || width != IN_COUNT || count < 0 || count * IN_COUNT > MAX_VALUES) begin
            $display("lutforge-tb error: bad input header (width %0d, at most %0d values)", IN_COUNT, MAX_VALUES);
            $finish;
        end
        for (i = 0; i < count * IN_COUNT; i = i + 1) begin
            got = $fscanf(fin, "%d", value);
            if (got != 1) begin $display("lutforge-tb error: input %0d is missing", i); $finish; end
            inputs[i] = value;
        end
        $fclose(fin);
        fout = $fopen(out_path, "w");
        $fwrite(fout, "%0d %0d\n", count, OUT_COUNT);
        cycle = 0;
        repeat (4) tick;
        rst = 1'b0;
        lat_min = -1; lat_max = -1; lat_total = 0;
        limit = 1000 * (LATENCY + 16);
        for (v = 0; v < count; v = v + 1) begin
            sent = 0; received = 0; first = -1; last = -1; start = cycle;
            while (received < OUT_COUNT) begin
                if (cycle - start > limit) begin
                    $display("lutforge-tb error: vector %0d: no output after %0d cycles (design hung)", v, limit);
                    $finish;
                end
                in_valid = sent < IN_COUNT;
                in_data = inputs[v * IN_COUNT + (sent < IN_COUNT ? sent : 0)];
                out_ready = 1'b1;
                tick;
                if (in_fire && sent == 0) first = cycle - 1;
                if (out_fire) begin
                    if (sent < IN_COUNT) begin $display("lutforge-tb error: vector %0d: output before the whole input was taken", v); $finish; end
                    if (last_s != (received == OUT_COUNT - 1)) begin $display("lutforge-tb error: vector %0d: out_last is wrong on output %0d", v, received); $finish; end
                    y = extend(data_s);
                    if (received == 0) $fwrite(fout, "%0d", y); else $fwrite(fout, " %0d", y);
                    outputs[v * OUT_COUNT + received] = y;
                    received = received + 1;
                    last = cycle - 1;
                end
                if (in_fire) sent = sent + 1;
            end
            $fwrite(fout, "\n");
            latency = last - first + 1;
            if (lat_min < 0 || latency < lat_min) lat_min = latency;
            if (latency > lat_max) lat_max = latency;
            lat_total = lat_total + latency;
        end
        $fclose(fout);
        // Streaming pass: inputs offered every cycle; the gap between out_last beats is the interval.
        total_in = count * IN_COUNT; total_out = count * OUT_COUNT;
        sent = 0; received = 0; start = cycle; last_end = -1; int_min = -1; int_max = -1; int_last = -1;
        while (received < total_out) begin
            if ((cycle - start) / (count + 1) > limit) begin $display("lutforge-tb error: streaming: design hung"); $finish; end
            in_valid = sent < total_in;
            in_data = inputs[sent < total_in ? sent : 0];
            out_ready = 1'b1;
            tick;
            if (out_fire) begin
                y = extend(data_s);
                if (y != outputs[received]) begin
                    $display("lutforge-tb error: streaming: output %0d is %0d, one vector at a time it was %0d", received, y, outputs[received]);
                    $finish;
                end
                if (last_s) begin
                    if (last_end >= 0) begin
                        d = cycle - 1 - last_end;
                        if (int_min < 0 || d < int_min) int_min = d;
                        if (d > int_max) int_max = d;
                        int_last = d;
                    end
                    last_end = cycle - 1;
                end
                received = received + 1;
            end
            if (in_fire) sent = sent + 1;
        end
        $display("lutforge-sim vectors=%0d latency_min=%0d latency_max=%0d latency_total=%0d interval_min=%0d interval_max=%0d interval_last=%0d cycles=%0d",
                 count, lat_min, lat_max, lat_total, int_min, int_max, int_last, cycle);
        $finish;
    end
endmodule

`default_nettype wire
