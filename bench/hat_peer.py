#!/usr/bin/python3
"""The peer for hatfleet's engine benchmark: HAT's SubTransformer inference in Python PyTorch.

It computes what HAT's fairseq code computes when HAT measures latency (mit-han-lab/
hardware-aware-transformers, fairseq/models/transformer_super.py and latency_dataset.py), written
compactly here so that it runs on Debian's python3-torch without fairseq:
  - weights live at SuperTransformer size and every call uses leading slices of them
    (embedding[:, :d], in_proj[0:3*qkv, :d], fc1[:ffn, :d], ...), as HAT's *Super modules do;
  - the encoder runs once on a dummy source ([eos] + [7] * (L - 1)); the decoder runs
    incrementally for T steps on `beam` copies of the encoder output (HAT's reorder_encoder_out),
    with fairseq's incremental state: self-attention keys/values concatenated step by step,
    encoder-decoder keys/values computed at the first step from the concatenated last 1-3
    encoder layers and reused;
  - every step computes the output projection onto the whole vocabulary.
Unlike HAT's script it runs in eval mode under torch.no_grad() (HAT measures in train mode with
autograd on), so both sides do the same arithmetic and the comparison is of the runtimes only.

Input: JSON lines of {"config": <HAT config dict>} on stdin (hatctl space sample --json gives
them). Output: one JSON object per config with HAT's statistics (trimmed mean of 20 timed runs
after 5 warm-ups) of encoder and decoder in milliseconds.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

PAD, EOS, DUMMY = 1, 2, 7


def sinusoidal(num, dim, padding_idx):
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    ang = torch.arange(num, dtype=torch.float).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if dim % 2 == 1:
        table = torch.cat([table, torch.zeros(num, 1)], dim=1)
    table[padding_idx] = 0
    return table


class SuperTransformer:
    """Weights at SuperTransformer size; forward functions slice them per call like HAT."""

    def __init__(self, space, seed=1):
        g = torch.Generator().manual_seed(seed)
        s = space["super"]
        self.q = s["qkv_dim"]
        e_enc, e_dec = s["encoder_embed_dim"], s["decoder_embed_dim"]
        emb = max(e_enc, e_dec)

        def xavier(out, inp):
            b = math.sqrt(6.0 / (inp + out))
            return torch.empty(out, inp).uniform_(-b, b, generator=g)

        self.embed = torch.empty(s["vocab_size"], emb).normal_(0, emb ** -0.5, generator=g)
        self.embed[PAD] = 0
        npos = s["max_positions"] + PAD + 1
        self.enc_pos = sinusoidal(npos, e_enc, PAD)
        self.dec_pos = sinusoidal(npos, e_dec, PAD)
        q = self.q

        def attn(d):
            return {"in_w": xavier(3 * q, d), "in_b": torch.zeros(3 * q),
                    "out_w": xavier(d, q), "out_b": torch.zeros(d)}

        def ffn(d, f):
            return {"fc1_w": xavier(f, d), "fc1_b": torch.zeros(f),
                    "fc2_w": xavier(d, f), "fc2_b": torch.zeros(d)}

        def ln(d):
            return (torch.ones(d), torch.zeros(d))

        self.enc = [dict(attn=attn(e_enc), ffn=ffn(e_enc, s["encoder_ffn_embed_dim"]),
                         ln1=ln(e_enc), ln2=ln(e_enc)) for _ in range(s["encoder_layers"])]
        self.dec = [dict(attn=attn(e_dec),
                         ende={"q_w": xavier(q, e_dec), "q_b": torch.zeros(q),
                               "kv_w": xavier(2 * q, e_enc), "kv_b": torch.zeros(2 * q),
                               "out_w": xavier(e_dec, q), "out_b": torch.zeros(e_dec)},
                         ffn=ffn(e_dec, s["decoder_ffn_embed_dim"]),
                         ln1=ln(e_dec), ln2=ln(e_dec), ln3=ln(e_dec))
                    for _ in range(s["decoder_layers"])]


def layer_norm(x, p, d):
    return F.layer_norm(x, (d,), p[0][:d], p[1][:d], 1e-5)


def ffn(x, p, d, f):
    h = F.relu(F.linear(x, p["fc1_w"][:f, :d], p["fc1_b"][:f]))
    return F.linear(h, p["fc2_w"][:d, :f], p["fc2_b"][:d])


def attention(q, k, v, heads, qkv, mask=None):
    # q: (Tq, B, qkv), k/v: (Tk, B, qkv) -> (Tq, B, qkv); fairseq's bmm layout.
    tq, b, _ = q.shape
    hd = qkv // heads
    q = q.contiguous().view(tq, b * heads, hd).transpose(0, 1)
    k = k.contiguous().view(-1, b * heads, hd).transpose(0, 1)
    v = v.contiguous().view(-1, b * heads, hd).transpose(0, 1)
    w = torch.bmm(q, k.transpose(1, 2))
    if mask is not None:
        w = w.view(b, heads, tq, -1).masked_fill(mask.unsqueeze(1).unsqueeze(2), float("-inf"))
        w = w.view(b * heads, tq, -1)
    w = F.softmax(w.float(), dim=-1).type_as(w)
    out = torch.bmm(w, v)
    return out.transpose(0, 1).contiguous().view(tq, b, qkv)


def encode(m, cfg, src):
    e = cfg["encoder"]
    d = e["encoder_embed_dim"]
    pos = (torch.cumsum(src.ne(PAD).long(), 1) + PAD)
    x = math.sqrt(d) * F.embedding(src, m.embed[:, :d], PAD) + F.embedding(pos, m.enc_pos)[..., :d]
    x = x.transpose(0, 1)
    outs = []
    for i in range(e["encoder_layer_num"]):
        p = m.enc[i]
        heads = e["encoder_self_attention_heads"][i]
        r = x
        qkv = F.linear(x, p["attn"]["in_w"][: 3 * m.q, :d], p["attn"]["in_b"][: 3 * m.q])
        qq, kk, vv = qkv.chunk(3, dim=-1)
        qq = qq * (m.q // heads) ** -0.5
        a = attention(qq, kk, vv, heads, m.q)
        a = F.linear(a, p["attn"]["out_w"][:d, : m.q], p["attn"]["out_b"][:d])
        x = layer_norm(r + a, p["ln1"], d)
        x = layer_norm(x + ffn(x, p["ffn"], d, e["encoder_ffn_embed_dim"][i]), p["ln2"], d)
        outs.append(x)
    return outs


def decode_step(m, cfg, prev, enc_outs, state):
    """One incremental step on the full prefix `prev` (B, t), HAT/fairseq style."""
    dc = cfg["decoder"]
    d = dc["decoder_embed_dim"]
    d_enc = cfg["encoder"]["encoder_embed_dim"]
    pos = torch.cumsum(prev.ne(PAD).long(), 1) + PAD
    tok, pos = prev[:, -1:], pos[:, -1:]
    x = math.sqrt(d) * F.embedding(tok, m.embed[:, :d], PAD) + F.embedding(pos, m.dec_pos)[..., :d]
    x = x.transpose(0, 1)  # (1, B, d)
    for i in range(dc["decoder_layer_num"]):
        p = m.dec[i]
        heads = dc["decoder_self_attention_heads"][i]
        st = state.setdefault(i, {})
        r = x
        qkv = F.linear(x, p["attn"]["in_w"][: 3 * m.q, :d], p["attn"]["in_b"][: 3 * m.q])
        qq, kk, vv = qkv.chunk(3, dim=-1)
        qq = qq * (m.q // heads) ** -0.5
        if "k" in st:
            kk = torch.cat([st["k"], kk], dim=0)
            vv = torch.cat([st["v"], vv], dim=0)
        st["k"], st["v"] = kk, vv
        a = attention(qq, kk, vv, heads, m.q)
        a = F.linear(a, p["attn"]["out_w"][:d, : m.q], p["attn"]["out_b"][:d])
        x = layer_norm(r + a, p["ln1"], d)

        # Arbitrary encoder-decoder attention: last, second-to-last, third-to-last layer.
        arb = dc["decoder_arbitrary_ende_attn"][i]
        n = 1 if arb == -1 else arb + 1
        memory = torch.cat([enc_outs[-1 - j] for j in range(n)], dim=0)
        ende_heads = dc["decoder_ende_attention_heads"][i]
        r = x
        qq = F.linear(x, p["ende"]["q_w"][:, :d], p["ende"]["q_b"]) * (m.q // ende_heads) ** -0.5
        if "ek" not in st:  # static keys/values, computed at the first step
            ek, ev = F.linear(memory, p["ende"]["kv_w"][:, :d_enc], p["ende"]["kv_b"]).chunk(2, -1)
            st["ek"], st["ev"] = ek, ev
        a = attention(qq, st["ek"], st["ev"], ende_heads, m.q)
        a = F.linear(a, p["ende"]["out_w"][:d, :], p["ende"]["out_b"][:d])
        x = layer_norm(r + a, p["ln2"], d)
        x = layer_norm(x + ffn(x, p["ffn"], d, dc["decoder_ffn_embed_dim"][i]), p["ln3"], d)
    return F.linear(x.transpose(0, 1), m.embed[:, :d])


def trimmed(samples):
    s = sorted(samples)
    n = len(s)
    kept = s[int(n * 0.1): n - max(1, int(n * 0.1))] if n >= 2 else s
    return sum(kept) / len(kept)


def measure(m, cfg, tokens, steps, beam, warmups, runs):
    src = torch.tensor([[EOS] + [DUMMY] * (tokens - 1)])
    prev = torch.tensor([[DUMMY] * (steps - 1) + [EOS]]).repeat(beam, 1)
    enc_t, dec_t = [], []
    for it in range(warmups + runs):
        t0 = time.perf_counter()
        outs = encode(m, cfg, src)
        t1 = time.perf_counter()
        expanded = [o.index_select(1, torch.zeros(beam, dtype=torch.long)) for o in outs]
        t2 = time.perf_counter()
        state = {}
        for k in range(steps):
            decode_step(m, cfg, prev[:, : k + 1], expanded, state)
        t3 = time.perf_counter()
        if it >= warmups:
            enc_t.append((t1 - t0) * 1e3)
            dec_t.append((t3 - t2) * 1e3)
    return enc_t, dec_t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--space", required=True, help="hatfleet space JSON (hatctl space show --json)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=30)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--warmups", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.space) as f:
        space = json.load(f)
    model = SuperTransformer(space)
    with torch.no_grad():
        for line in sys.stdin:
            if not line.strip():
                continue
            cfg = json.loads(line)["config"]
            enc, dec = measure(model, cfg, args.tokens, args.steps, args.beam, args.warmups,
                               args.runs)
            print(json.dumps({"encoder_ms": trimmed(enc), "decoder_ms": trimmed(dec),
                              "total_ms": trimmed(enc) + trimmed(dec), "encoder_raw_ms": enc,
                              "decoder_raw_ms": dec, "threads": torch.get_num_threads(),
                              "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
