#!/usr/bin/python3
"""The peer for hatfleet's training-throughput benchmark: the same training step in Python PyTorch.

One fixed Transformer (HAT's post-norm encoder-decoder with a fixed qkv width, shared embeddings
and output projection, sinusoidal positions), trained with what hatfleet's trainer does per step:
label-smoothed cross-entropy (0.1, fairseq's form), Adam (0.9, 0.98), dropout after embeddings,
attention blocks and FFNs, gradients normalised by the target token count. Batches are synthetic
and of a fixed shape (sentences x length), the same as bench/train_throughput_bench.cc uses, so
both sides do the same arithmetic; the comparison is of the runtimes.

Output: one JSON object: tokens_per_s (source + target tokens), step_ms (median), steps.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, EOS = 1, 2


def sinusoidal(num, dim, padding_idx):
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    ang = torch.arange(num, dtype=torch.float).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    table[padding_idx] = 0
    return table


class Attention(nn.Module):
    def __init__(self, d_query, d_memory, qkv, heads, dropout):
        super().__init__()
        self.q = nn.Linear(d_query, qkv)
        self.kv = nn.Linear(d_memory, 2 * qkv)
        self.out = nn.Linear(qkv, d_query)
        self.heads, self.qkv, self.dropout = heads, qkv, dropout

    def forward(self, x, memory, mask):
        b, t, _ = x.shape
        s = memory.shape[1]
        hd = self.qkv // self.heads
        q = self.q(x).view(b, t, self.heads, hd).transpose(1, 2) * hd ** -0.5
        k, v = self.kv(memory).chunk(2, dim=-1)
        k = k.view(b, s, self.heads, hd).transpose(1, 2)
        v = v.view(b, s, self.heads, hd).transpose(1, 2)
        w = q @ k.transpose(-1, -2)
        if mask is not None:
            w = w.masked_fill(mask, float("-inf"))
        w = F.dropout(F.softmax(w, dim=-1), self.dropout, self.training)
        return self.out((w @ v).transpose(1, 2).reshape(b, t, self.qkv))


class Layer(nn.Module):
    def __init__(self, d, ffn, qkv, heads, dropout, cross):
        super().__init__()
        self.self_attn = Attention(d, d, qkv, heads, 0.0)
        self.ln1 = nn.LayerNorm(d)
        self.cross = Attention(d, d, qkv, heads, 0.0) if cross else None
        self.ln2 = nn.LayerNorm(d) if cross else None
        self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.ln3 = nn.LayerNorm(d)
        self.dropout = dropout

    def forward(self, x, self_mask, memory=None, memory_mask=None):
        drop = lambda y: F.dropout(y, self.dropout, self.training)
        x = self.ln1(x + drop(self.self_attn(x, x, self_mask)))
        if self.cross is not None:
            x = self.ln2(x + drop(self.cross(x, memory, memory_mask)))
        return self.ln3(x + drop(self.fc2(F.relu(self.fc1(x)))))


class Transformer(nn.Module):
    def __init__(self, vocab, d, ffn, layers, heads, qkv, dropout, positions=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=PAD)
        nn.init.normal_(self.embed.weight, 0, d ** -0.5)
        self.register_buffer("pos", sinusoidal(positions + 2, d, PAD))
        self.enc = nn.ModuleList(Layer(d, ffn, qkv, heads, dropout, False) for _ in range(layers))
        self.dec = nn.ModuleList(Layer(d, ffn, qkv, heads, dropout, True) for _ in range(layers))
        self.d, self.dropout = d, dropout

    def embed_tokens(self, tokens):
        positions = torch.cumsum(tokens.ne(PAD), dim=1) * tokens.ne(PAD) + PAD
        x = self.embed(tokens) * math.sqrt(self.d) + self.pos[positions]
        return F.dropout(x, self.dropout, self.training)

    def forward(self, src, prev):
        src_mask = src.eq(PAD)[:, None, None, :]
        x = self.embed_tokens(src)
        for layer in self.enc:
            x = layer(x, src_mask)
        t = prev.shape[1]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)[None, None]
        y = self.embed_tokens(prev)
        for layer in self.dec:
            y = layer(y, causal, x, src_mask)
        return F.linear(y, self.embed.weight)


def label_smoothed(logits, target, eps):
    lprobs = F.log_softmax(logits, dim=-1)
    keep = target.ne(PAD)
    nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)[keep].sum()
    smooth = -lprobs.sum(-1)[keep].sum()
    return (1 - eps) * nll + eps / lprobs.shape[-1] * smooth


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--qkv", type=int, default=128)
    ap.add_argument("--sentences", type=int, default=128)
    ap.add_argument("--length", type=int, default=24)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Transformer(a.vocab, a.embed, a.ffn, a.layers, a.heads, a.qkv, 0.3)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.98), eps=1e-8)
    g = torch.Generator().manual_seed(a.seed)
    times = []
    for step in range(a.warmup_steps + a.steps):
        src = torch.randint(4, a.vocab, (a.sentences, a.length), generator=g)
        tgt = torch.randint(4, a.vocab, (a.sentences, a.length), generator=g)
        src[:, -1] = EOS
        tgt[:, -1] = EOS
        prev = torch.cat([torch.full((a.sentences, 1), EOS), tgt[:, :-1]], dim=1)
        start = time.perf_counter()
        model.train()
        loss = label_smoothed(model(src, prev), tgt, 0.1)
        opt.zero_grad(set_to_none=True)
        (loss / tgt.numel()).backward()
        opt.step()
        float(loss)
        if step >= a.warmup_steps:
            times.append(time.perf_counter() - start)
    tokens = 2 * a.sentences * a.length
    med = statistics.median(times)
    print(json.dumps({"tokens_per_s": tokens / med, "step_ms": med * 1e3, "steps": a.steps,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
