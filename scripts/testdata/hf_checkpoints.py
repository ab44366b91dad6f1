#!/usr/bin/env python3
"""Writes tiny Hugging Face checkpoint directories in the safetensors format with numpy
only (the format is an 8-byte little-endian header length, a JSON header, the data), for
the import tests, with each tensor's values as float32 .npy beside them:

  qwen3/   Qwen3ForCausalLM, one model.safetensors in BF16 (q/k norms, untied lm_head)
  llama/   LlamaForCausalLM, two F16 shards + model.safetensors.index.json, tied embeddings;
           its extra tensor 'all_halves' holds all 65,536 binary16 bit patterns
  bert/    BertModel with the 'bert.' prefix, F32
  bad_arch/, bad_dtype/ (an F64 tensor), missing/ (no v_proj of layer 1), bad_shape/

    python scripts/testdata/hf_checkpoints.py OUT_DIR
"""
import json
import os
import sys

import numpy as np

RNG = np.random.default_rng(20261201)


def bf16_bits(x):
    """float32 -> bfloat16 bits, rounding to nearest even (as torch does)."""
    b = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return b.astype(np.uint16)


def write_file(path, tensors):
    """tensors: name -> (dtype string, numpy array of the stored bytes' dtype)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, (dt, a) in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def encode(dtype, x):
    """Stored form and the float32 values it stands for."""
    x = x.astype(np.float32)
    if dtype == "F32":
        return ("F32", x), x
    if dtype == "F16":
        h = x.astype(np.float16)
        return ("F16", h), h.astype(np.float32)
    bits = bf16_bits(x)
    return ("BF16", bits), (bits.astype(np.uint32) << 16).view(np.float32)


def decoder_weights(cfg, arch):
    h, q, kv, f = cfg["hidden_size"], cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"], cfg["intermediate_size"]
    w = {"model.embed_tokens.weight": (cfg["vocab_size"], h), "model.norm.weight": (h,)}
    for i in range(cfg["num_hidden_layers"]):
        l = f"model.layers.{i}."
        w.update({l + "self_attn.q_proj.weight": (q, h), l + "self_attn.k_proj.weight": (kv, h), l + "self_attn.v_proj.weight": (kv, h),
                  l + "self_attn.o_proj.weight": (h, q), l + "mlp.gate_proj.weight": (f, h), l + "mlp.up_proj.weight": (f, h),
                  l + "mlp.down_proj.weight": (h, f), l + "input_layernorm.weight": (h,), l + "post_attention_layernorm.weight": (h,)})
        if arch == "qwen3":
            w.update({l + "self_attn.q_norm.weight": (cfg["head_dim"],), l + "self_attn.k_norm.weight": (cfg["head_dim"],)})
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = (cfg["vocab_size"], h)
    return w


def bert_weights(cfg, prefix):
    h, f = cfg["hidden_size"], cfg["intermediate_size"]
    w = {"embeddings.word_embeddings.weight": (cfg["vocab_size"], h), "embeddings.position_embeddings.weight": (cfg["max_position_embeddings"], h),
         "embeddings.token_type_embeddings.weight": (cfg["type_vocab_size"], h), "embeddings.LayerNorm.weight": (h,), "embeddings.LayerNorm.bias": (h,)}
    for i in range(cfg["num_hidden_layers"]):
        l = f"encoder.layer.{i}."
        for part in ["query", "key", "value"]:
            w.update({l + f"attention.self.{part}.weight": (h, h), l + f"attention.self.{part}.bias": (h,)})
        w.update({l + "attention.output.dense.weight": (h, h), l + "attention.output.dense.bias": (h,), l + "attention.output.LayerNorm.weight": (h,),
                  l + "attention.output.LayerNorm.bias": (h,), l + "intermediate.dense.weight": (f, h), l + "intermediate.dense.bias": (f,),
                  l + "output.dense.weight": (h, f), l + "output.dense.bias": (h,), l + "output.LayerNorm.weight": (h,), l + "output.LayerNorm.bias": (h,)})
    return {prefix + k: v for k, v in w.items()}


def checkpoint(out, name, cfg, shapes, dtype, shards=1, extra=None, edit=None):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "expected"), exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    stored, names = {}, sorted(shapes)
    for n in names:
        stored[n], values = encode(dtype, RNG.normal(0, 0.5, shapes[n]))
        np.save(os.path.join(d, "expected", n + ".npy"), values)
    for n, (s, values) in (extra or {}).items():
        stored[n] = s
        np.save(os.path.join(d, "expected", n + ".npy"), values)
    if edit:
        edit(stored)
    keys = list(stored)
    if shards == 1:
        write_file(os.path.join(d, "model.safetensors"), stored)
    else:
        weight_map = {}
        for k in range(shards):
            part = keys[k::shards]
            file = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
            write_file(os.path.join(d, file), {n: stored[n] for n in part})
            weight_map.update({n: file for n in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)


def main():
    out = sys.argv[1]
    qwen3 = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 256, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
             "max_position_embeddings": 128, "tie_word_embeddings": False, "hidden_act": "silu", "torch_dtype": "bfloat16"}
    checkpoint(out, "qwen3", qwen3, decoder_weights(qwen3, "qwen3"), "BF16")
    llama = dict(qwen3, architectures=["LlamaForCausalLM"], model_type="llama", tie_word_embeddings=True, rope_theta=10000.0)
    bits = np.arange(65536, dtype=np.uint16)
    halves = {"all_halves": (("F16", bits.view(np.float16)), bits.view(np.float16).astype(np.float32))}
    checkpoint(out, "llama", llama, decoder_weights(llama, "llama"), "F16", shards=2, extra=halves)
    bert = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
            "hidden_act": "gelu", "position_embedding_type": "absolute"}
    checkpoint(out, "bert", bert, bert_weights(bert, "bert."), "F32")
    checkpoint(out, "bad_arch", dict(qwen3, architectures=["MambaForCausalLM"]), decoder_weights(qwen3, "qwen3"), "F32")
    def f64(stored):
        stored["model.norm.weight"] = ("F64", np.ones(64))
    checkpoint(out, "bad_dtype", qwen3, decoder_weights(qwen3, "qwen3"), "F32", edit=f64)
    def drop(stored):
        del stored["model.layers.1.self_attn.v_proj.weight"]
    checkpoint(out, "missing", qwen3, decoder_weights(qwen3, "qwen3"), "F32", shards=2, edit=drop)
    def reshape(stored):
        stored["model.layers.0.mlp.up_proj.weight"] = ("F32", np.zeros((64, 128), np.float32))
    checkpoint(out, "bad_shape", qwen3, decoder_weights(qwen3, "qwen3"), "F32", edit=reshape)
    print(f"wrote checkpoints to {out}")


if __name__ == "__main__":
    main()
