#!/usr/bin/python3
"""A reference trainer for the Transformer-tiny benchmark, in Python PyTorch, independent of
hatfleet's C++ trainer: it tells a defect of the trainer from a property of the recipe and data.

It trains the model of bench/train_peer.py (HAT's post-norm Transformer, shared embeddings) with
fairseq's initialisation (xavier-uniform weights, zero biases, the q/k/v bound of one [3q, d]
matrix), on the same subword ids hatfleet prepared (a hatfleet corpus cache: `*.ids` files and
`subword.model`), with fairseq's recipe pieces: token-count batches of length-sorted pairs
visited in a seeded random order per epoch, label-smoothed cross-entropy normalised by target
tokens, Adam (0.9, 0.98), linear warm-up then inverse-sqrt decay, dropout. The last K saved
states are averaged; the average is scored on the validation split (nll, nats per token) and
translates the test split with beam search (fairseq's: 2·beam candidates, an eos among the
top `beam` ends a hypothesis, score / length^lenpen). BLEU is left to `hatctl bleu`.

Interrupted, it resumes from OUT/state.pt (written atomically every --save-every updates).
Output: OUT/test.hyp (one detokenised translation per line), OUT/result.json; progress on stderr.
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_peer import EOS, PAD, Transformer, label_smoothed  # noqa: E402


def read_ids(path):
    """A hatfleet .ids file: magic, count (u64), per sentence length (u32) and ids (i32)."""
    data = open(path, "rb").read()
    if not data.startswith(b"HATIDS1\n"):
        raise SystemExit(f"{path}: not a hatfleet ids file")
    (count,) = struct.unpack_from("<Q", data, 8)
    off, out = 16, []
    for _ in range(count):
        (n,) = struct.unpack_from("<I", data, off)
        out.append(list(struct.unpack_from(f"<{n}i", data, off + 4)))
        off += 4 + 4 * n
    return out


def read_pieces(path):
    """The pieces of a SentencePiece model (ModelProto field 1, each piece's field 1)."""
    data = open(path, "rb").read()

    def varint(buf, i):
        shift = value = 0
        while True:
            b = buf[i]
            value |= (b & 0x7F) << shift
            i += 1
            if b < 0x80:
                return value, i
            shift += 7

    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            wire = key & 7
            if wire == 0:
                value, i = varint(buf, i)
            elif wire == 1:
                value, i = buf[i:i + 8], i + 8
            elif wire == 2:
                n, i = varint(buf, i)
                value, i = buf[i:i + n], i + n
            elif wire == 5:
                value, i = buf[i:i + 4], i + 4
            else:
                raise SystemExit(f"{path}: unsupported protobuf wire type {wire}")
            yield key >> 3, wire, value

    pieces = []
    for field, wire, value in fields(data):
        if field == 1 and wire == 2:
            piece = next((v for f, w, v in fields(value) if f == 1 and w == 2), b"")
            pieces.append(piece.decode("utf-8"))
    return pieces


def detokenise(ids, pieces):
    text = "".join(pieces[i] for i in ids if i > 3)  # 0-3: bos, pad, eos, unk
    return text.replace("\u2581", " ").strip()


def make_batches(src, tgt, max_tokens, seed):
    """fairseq's: pairs sorted by source then target length (ties in a seeded random order),
    cut greedily so that sentences x longest side stays within max_tokens."""
    order = list(range(len(src)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: (len(src[i]), len(tgt[i])))
    batches, batch, longest = [], [], 0
    for i in order:
        n = max(len(src[i]), len(tgt[i]))
        if batch and (len(batch) + 1) * max(longest, n) > max_tokens:
            batches.append(batch)
            batch, longest = [], 0
        batch.append(i)
        longest = max(longest, n)
    if batch:
        batches.append(batch)
    return batches


def collate(src, tgt, idx):
    s_len = max(len(src[i]) for i in idx)
    t_len = max(len(tgt[i]) for i in idx)
    s = torch.full((len(idx), s_len), PAD, dtype=torch.long)
    t = torch.full((len(idx), t_len), PAD, dtype=torch.long)
    p = torch.full((len(idx), t_len), PAD, dtype=torch.long)
    for row, i in enumerate(idx):
        s[row, :len(src[i])] = torch.tensor(src[i])
        t[row, :len(tgt[i])] = torch.tensor(tgt[i])
        p[row, :len(tgt[i])] = torch.tensor([EOS] + tgt[i][:-1])
    return s, p, t


def fairseq_init(model):
    """fairseq's: xavier-uniform weights with zero biases; an attention's q, k, v drawn with the
    bound of one [3q, d] matrix; embeddings N(0, d^-1/2) (train_peer does) with a zero pad row."""
    for module in model.modules():
        if hasattr(module, "kv"):  # train_peer.Attention: q [q, d], kv [2q, d], out
            q, d = module.q.weight.shape
            bound = math.sqrt(6.0 / (d + 3 * q))
            for lin in (module.q, module.kv):
                nn.init.uniform_(lin.weight, -bound, bound)
                nn.init.zeros_(lin.bias)
            nn.init.xavier_uniform_(module.out.weight)
            nn.init.zeros_(module.out.bias)
        elif hasattr(module, "fc1"):
            for lin in (module.fc1, module.fc2):
                nn.init.xavier_uniform_(lin.weight)
                nn.init.zeros_(lin.bias)
    with torch.no_grad():
        model.embed.weight[PAD].zero_()


def encode(model, src):
    mask = src.eq(PAD)[:, None, None, :]
    x = model.embed_tokens(src)
    for layer in model.enc:
        x = layer(x, mask)
    return x, mask


def decode(model, prev, memory, memory_mask):
    t = prev.shape[1]
    causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)[None, None]
    y = model.embed_tokens(prev)
    for layer in model.dec:
        y = layer(y, causal, memory, memory_mask)
    return F.linear(y[:, -1], model.embed.weight)


@torch.no_grad()
def beam_search(model, sources, beam, lenpen, max_len, vocab):
    """The best hypothesis (ids, eos excluded) per source; decoder recomputed per step."""
    n = len(sources)
    s_len = max(len(s) for s in sources)
    src = torch.full((n, s_len), PAD, dtype=torch.long)
    for row, s in enumerate(sources):
        src[row, :len(s)] = torch.tensor(s)
    memory, mask = encode(model, src)
    memory = memory.repeat_interleave(beam, 0)
    mask = mask.repeat_interleave(beam, 0)
    live = [[([], 0.0 if j == 0 else -math.inf) for j in range(beam)] for _ in range(n)]
    finished = [[] for _ in range(n)]
    done = [False] * n
    for step in range(max_len):
        prev = torch.tensor([[EOS] + h for beams in live for h, _ in beams])
        lprobs = F.log_softmax(decode(model, prev, memory, mask)[:, :vocab].double(), -1)
        lprobs[:, PAD] = -math.inf
        if step == max_len - 1:
            eos = lprobs[:, EOS].clone()
            lprobs.fill_(-math.inf)
            lprobs[:, EOS] = eos
        prior = torch.tensor([[lp for _, lp in beams] for beams in live], dtype=torch.double)
        total = (lprobs.view(n, beam, -1) + prior[:, :, None]).view(n, -1)
        values, indices = total.topk(2 * beam, dim=1)
        for i in range(n):
            nxt = []
            for c in range(2 * beam):
                if done[i] or len(nxt) == beam or values[i, c] == -math.inf:
                    break
                origin, token = divmod(int(indices[i, c]), lprobs.shape[1])
                seq = live[i][origin][0] + [token]
                if token == EOS:
                    if c < beam and len(finished[i]) < beam:
                        finished[i].append((float(values[i, c]) / len(seq) ** lenpen, seq))
                    continue
                nxt.append((seq, float(values[i, c])))
            if len(finished[i]) >= beam or step == max_len - 1:
                done[i] = True
            while len(nxt) < beam:  # dead rows keep the shape
                nxt.append((live[i][0][0] + [PAD], -math.inf))
            live[i] = nxt
        if all(done):
            break
    return [max(f)[1][:-1] for f in finished]


@torch.no_grad()
def valid_nll(model, src, tgt, max_tokens):
    model.eval()
    nll = tokens = 0.0
    for idx in make_batches(src, tgt, max_tokens, 0):
        s, p, t = collate(src, tgt, idx)
        lprobs = F.log_softmax(model(s, p), -1)
        keep = t.ne(PAD)
        nll += float(-lprobs.gather(-1, t.unsqueeze(-1)).squeeze(-1)[keep].sum())
        tokens += int(keep.sum())
    return nll / tokens


def save_atomically(obj, path):
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="hatfleet corpus cache (ids + subword.model)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--src", default="en")
    ap.add_argument("--tgt", default="de")
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--max-tokens", type=int, default=4096)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--average-last", type=int, default=10)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--lenpen", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--test-sentences", type=int, default=0, help="the first N (0: all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    split = lambda name, lang: read_ids(os.path.join(a.corpus, f"{name}.{lang}.ids"))
    train_src, train_tgt = split("train", a.src), split("train", a.tgt)
    valid_src, valid_tgt = split("valid", a.src), split("valid", a.tgt)
    test_src = split("test", a.src)
    if a.test_sentences > 0:
        test_src = test_src[:a.test_sentences]
    pieces = read_pieces(os.path.join(a.corpus, "subword.model"))

    torch.manual_seed(a.seed)
    model = Transformer(a.vocab, a.embed, a.ffn, a.layers, a.heads, a.embed, a.dropout)
    fairseq_init(model)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    batches = make_batches(train_src, train_tgt, a.max_tokens, a.seed)
    state_path = os.path.join(a.out, "state.pt")
    step, seconds, snapshots = 0, 0.0, []
    if os.path.exists(state_path):
        state = torch.load(state_path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, seconds, snapshots = state["step"], state["seconds"], state["snapshots"]
        torch.set_rng_state(state["rng"])
        print(f"resumed at update {step}", file=sys.stderr)

    # Rates are this run's (a resumed run's earlier time is in `seconds`).
    run_start, run_first_step = time.time(), step
    start, tokens_seen, log_loss, log_tokens = run_start - seconds, 0, 0.0, 0
    order_epoch, order = -1, []
    while step < a.steps:
        epoch, pos = divmod(step, len(batches))
        if epoch != order_epoch:  # the epoch's batch order, drawn once per epoch
            order_epoch, order = epoch, list(range(len(batches)))
            random.Random(a.seed * 1000003 + epoch).shuffle(order)
        s, p, t = collate(train_src, train_tgt, batches[order[pos]])
        step += 1
        lr = a.lr * (step / a.warmup if step <= a.warmup else math.sqrt(a.warmup / step))
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        target_tokens = int(t.ne(PAD).sum())
        loss = label_smoothed(model(s, p), t, a.label_smoothing)
        opt.zero_grad(set_to_none=True)
        (loss / target_tokens).backward()
        opt.step()
        tokens_seen += int(s.ne(PAD).sum()) + target_tokens
        log_loss, log_tokens = log_loss + float(loss), log_tokens + target_tokens
        if step % a.save_every == 0 or step == a.steps:
            if step > a.steps - a.average_last * a.save_every:
                snapshots = (snapshots + [{k: v.clone() for k, v in model.state_dict().items()}])
                snapshots = snapshots[-a.average_last:]
            seconds = time.time() - start
            save_atomically({"model": model.state_dict(), "optimizer": opt.state_dict(),
                             "step": step, "seconds": seconds, "snapshots": snapshots,
                             "rng": torch.get_rng_state()}, state_path)
            run_seconds = max(time.time() - run_start, 1e-9)
            rate = (step - run_first_step) / run_seconds
            print(f"train {step}/{a.steps} {100 * step / a.steps:3.0f}% {rate:.2f}/s "
                  f"ETA {(a.steps - step) / rate:.0f}s loss {log_loss / log_tokens:.3f} "
                  f"lr {lr:.2e} {tokens_seen / run_seconds:.0f} tok/s",
                  file=sys.stderr, flush=True)
            log_loss, log_tokens = 0.0, 0

    averaged = {k: sum(sn[k] for sn in snapshots) / len(snapshots) for k in snapshots[0]}
    model.load_state_dict(averaged)
    model.eval()
    nll = valid_nll(model, valid_src, valid_tgt, a.max_tokens)
    order = sorted(range(len(test_src)), key=lambda i: len(test_src[i]))
    hyps = [None] * len(test_src)
    t0 = time.time()
    for b in range(0, len(order), 64):
        idx = order[b:b + 64]
        for i, ids in zip(idx, beam_search(model, [test_src[i] for i in idx], a.beam, a.lenpen,
                                           200, len(pieces))):
            hyps[i] = detokenise(ids, pieces)
        print(f"translate {min(b + 64, len(order))}/{len(order)}", file=sys.stderr, flush=True)
    with open(os.path.join(a.out, "test.hyp"), "w") as f:
        f.write("".join(h + "\n" for h in hyps))
    result = {"steps": a.steps, "train_seconds": seconds, "averaged": len(snapshots),
              "valid_nll": nll, "translate_seconds": time.time() - t0, "seed": a.seed,
              "lr": a.lr, "warmup": a.warmup, "torch": torch.__version__}
    json.dump(result, open(os.path.join(a.out, "result.json"), "w"), indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
