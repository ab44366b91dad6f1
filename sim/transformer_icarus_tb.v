// Icarus Verilog bench of a LUTForge transformer (rtl/lutforge_transformer.v), the counterpart
// of sim/transformer_verilator.cpp: +ids=FILE (hex token ids, one per line), +n=COUNT (prompt
// length), +new=N (decoders: greedy tokens, the argmax fed back) or +mask=FILE (encoders: hex
// mask bits). Prints `logits …`/`token t` per step or `hidden …` per token, and the cycles of each run.
// The engine's off-chip memory: +offchip=FILE (MEM_WORDS hex 64-bit words), +mem_latency=L,
// +mem_interval=I, the model of HardwareIR/TransformerEngine.swift as the Verilator harness has it.
`timescale 1ns/1ps
`default_nettype none

module lutforge_transformer_tb;
    parameter MEM_DIR = "./";
    parameter integer ID_BITS = 8;
    parameter integer OUT_W = 256;      // outputs per row (vocabulary or hidden size)
    parameter integer MAX_IDS = 512;
    parameter integer MEM_WORDS = 1;

    reg clk = 1'b0, rst = 1'b1, clear = 1'b0, tok_valid = 1'b0, tok_mask = 1'b1, go = 1'b0, out_ready = 1'b1;
    reg [ID_BITS-1:0] tok_data = 0;
    reg [9:0] mode = 10'd0;
    wire tok_ready, out_valid, done;
    wire [15:0] out_data;
    wire mem_req_valid;
    wire [31:0] mem_req_addr, mem_req_len;
    wire mem_rsp_valid;
    wire [63:0] mem_rsp_data;
    lutforge_transformer #(.MEM_DIR(MEM_DIR)) dut (
        .clk(clk), .rst(rst), .clear(clear), .tok_valid(tok_valid), .tok_ready(tok_ready), .tok_data(tok_data), .tok_mask(tok_mask),
        .go(go), .mode(mode), .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data), .done(done),
        .mem_req_valid(mem_req_valid), .mem_req_addr(mem_req_addr), .mem_req_len(mem_req_len), .mem_rsp_valid(mem_rsp_valid),
        .mem_rsp_data(mem_rsp_data));
    always #5 clk = ~clk;

    // The off-chip memory model: a burst accepted when asked, its first word mem_latency cycles
    // later, each next one mem_interval cycles after the previous.
    reg [63:0] offchip [0:MEM_WORDS-1];
    reg m_busy = 1'b0;
    reg [31:0] m_addr = 32'd0, m_left = 32'd0;
    integer m_next = 0, m_latency = 24, m_interval = 1;
    wire m_beat = m_busy && cycles >= m_next;
    assign mem_rsp_valid = m_beat;
    assign mem_rsp_data = m_beat ? offchip[m_addr] : 64'd0;
    always @(posedge clk) begin
        if (m_beat) begin
            m_addr <= m_addr + 32'd1;
            m_next <= cycles + m_interval;
            m_left <= m_left - 32'd1;
            if (m_left == 32'd1) m_busy <= 1'b0;
        end
        if (mem_req_valid) begin
            if (m_busy || mem_req_addr + mem_req_len > MEM_WORDS) begin
                $display("bad off-chip request at cycle %0d: %0d words at %0d", cycles, mem_req_len, mem_req_addr);
                $finish;
            end
            m_busy <= 1'b1;
            m_addr <= mem_req_addr;
            m_left <= mem_req_len;
            m_next <= cycles + m_latency;
        end
    end

    reg [31:0] ids [0:MAX_IDS-1];
    reg [31:0] masks [0:MAX_IDS-1];
    reg [1023:0] path;
    integer n, count, step, i, beats, best, cycles, started, next, decoder;
    integer best_value;

    // Output beats: printed as they stream, the first maximum tracked.
    always @(posedge clk) begin
        cycles <= cycles + 1;
        if (out_valid && out_ready) begin
            if (decoder && beats == 0) $write("logits");
            if (!decoder && beats % OUT_W == 0) $write("hidden");
            $write(" %0d", $signed(out_data));
            if (beats == 0 || $signed(out_data) > best_value) begin
                best = beats;
                best_value = $signed(out_data);
            end
            if (beats % OUT_W == OUT_W - 1) $write("\n");
            beats = beats + 1;
        end
    end

    task run(input integer length, input integer first);
        integer k;
        begin
            for (k = 0; k < length; k = k + 1) begin
                @(negedge clk);
                tok_valid = 1'b1;
                tok_data = (first >= 0) ? first[ID_BITS-1:0] : ids[k][ID_BITS-1:0];
                tok_mask = (first >= 0) ? 1'b1 : masks[k][0];
                @(posedge clk);
                while (!tok_ready) @(posedge clk);
                #1 tok_valid = 1'b0;
            end
            @(negedge clk);
            beats = 0;
            mode = {length == 1 ? 1'b1 : 1'b0, length[8:0]};
            go = 1'b1;
            @(posedge clk);
            started = cycles;
            #1 go = 1'b0;
            @(posedge clk);
            while (!done) @(posedge clk);
            if (first >= 0) $display("cycles decode %0d", cycles - started);
            else $display("cycles prefill %0d", cycles - started);
        end
    endtask

    initial begin
        cycles = 0;
        if (!$value$plusargs("ids=%s", path)) begin $display("usage: +ids=FILE +n=COUNT (+new=N | +mask=FILE)"); $finish; end
        $readmemh(path, ids);
        if (!$value$plusargs("n=%d", n)) n = 1;
        decoder = $value$plusargs("new=%d", count);
        for (i = 0; i < MAX_IDS; i = i + 1) masks[i] = 32'd1;
        if ($value$plusargs("mask=%s", path)) $readmemh(path, masks);
        if ($value$plusargs("offchip=%s", path)) $readmemh(path, offchip);
        if (!$value$plusargs("mem_latency=%d", m_latency)) m_latency = 24;
        if (!$value$plusargs("mem_interval=%d", m_interval)) m_interval = 1;
        repeat (4) @(posedge clk);
        rst = 1'b0;
        @(posedge clk);
        run(n, -1);
        if (decoder) begin
            for (step = 0; step < count; step = step + 1) begin
                $display("token %0d", best);
                next = best;
                if (step + 1 < count) run(1, next);
            end
        end
        $finish;
    end
endmodule

`default_nettype wire
