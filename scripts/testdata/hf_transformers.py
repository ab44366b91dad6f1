#!/usr/bin/env python3
"""Writes tiny checkpoints with Hugging Face `transformers` itself (seeded random weights
scaled to unit-ish size so logits are O(1), `save_pretrained` as safetensors) and the
outputs of transformers' own float32 forward pass:

  qwen3/, qwen2/, llama/   Qwen3Config / Qwen2Config / LlamaConfig, 2 layers, hidden 64,
                           4 query heads, 2 KV heads, vocab 256 (llama with tied embeddings);
                           prompt.npy (8 ids), logits.npy (the prompt's logits, [8, 256]),
                           greedy.npy (8 greedy tokens, each from a full forward pass)
  bert/                    BertConfig, 2 layers, hidden 64, 4 heads; ids.npy, mask.npy (the last
                           two positions masked), hidden.npy (last_hidden_state, [8, 64])

    python scripts/testdata/hf_transformers.py OUT_DIR     (needs torch and transformers)
"""
import os
import sys

import numpy as np
import torch
import transformers as tf


def scaled(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name or "LayerNorm" in name) and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    return model.eval()


def decoder(out, name, config_cls, model_cls, seed, **extra):
    cfg = config_cls(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                     vocab_size=256, max_position_embeddings=128, rms_norm_eps=1e-6, attn_implementation="eager", **extra)
    torch.manual_seed(seed)
    model = scaled(model_cls(cfg), seed)
    d = os.path.join(out, name)
    model.save_pretrained(d, safe_serialization=True)
    prompt = np.random.default_rng(seed).integers(0, 256, 8)
    ids = torch.tensor(prompt)[None]
    with torch.no_grad():
        np.save(os.path.join(d, "logits.npy"), model(ids).logits[0].numpy().astype(np.float32))
        tokens = []
        for _ in range(8):
            nxt = int(model(ids).logits[0, -1].argmax())
            tokens.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    np.save(os.path.join(d, "prompt.npy"), prompt.astype(np.int64))
    np.save(os.path.join(d, "greedy.npy"), np.array(tokens, dtype=np.int64))


def main():
    out = sys.argv[1]
    decoder(out, "qwen3", tf.Qwen3Config, tf.Qwen3ForCausalLM, 1, head_dim=16, rope_theta=1000000.0, tie_word_embeddings=False)
    decoder(out, "qwen2", tf.Qwen2Config, tf.Qwen2ForCausalLM, 2, rope_theta=10000.0, tie_word_embeddings=False)
    decoder(out, "llama", tf.LlamaConfig, tf.LlamaForCausalLM, 3, rope_theta=10000.0, tie_word_embeddings=True)
    cfg = tf.BertConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, vocab_size=256,
                        max_position_embeddings=32, attn_implementation="eager")
    torch.manual_seed(4)
    model = scaled(tf.BertModel(cfg, add_pooling_layer=False), 4)
    d = os.path.join(out, "bert")
    model.save_pretrained(d, safe_serialization=True)
    ids = np.random.default_rng(4).integers(0, 256, 8)
    mask = np.array([1, 1, 1, 1, 1, 1, 0, 0])
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor(ids)[None], attention_mask=torch.tensor(mask)[None]).last_hidden_state[0]
    np.save(os.path.join(d, "ids.npy"), ids.astype(np.int64))
    np.save(os.path.join(d, "mask.npy"), mask.astype(np.int64))
    np.save(os.path.join(d, "hidden.npy"), hidden.numpy().astype(np.float32))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
