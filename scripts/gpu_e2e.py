"""End to end on a GPU through the C ABI (ctypes): the CUDA runner's whole-model forward against transformers +
PEFT on the same GPU, and a Mistral-7B-shaped benchmark. Imported by gpu_check.py e2e (needs torch,
transformers, peft, numpy); prints PASS/FAIL/BENCH lines.

Ran on an H200 (torch 2.11, transformers 5.17, peft 0.21), 2026-12-04; docs/GPU.md has the results. The runner's
orchestration is checked in CI on the host emulation context against a float64 reference (cuda_model_check); this
script is what compares it with transformers and PEFT.

Models: random HF Llama (GQA) and Mistral (sliding window 16, prompts up to 40 tokens) written by transformers in
float32 with weights rounded to bf16 (so the comparison measures the runner's bf16 activations, not weight
rounding); four PEFT adapters written by peft with non-zero B (ranks 4 / 8 / 16 rsLoRA / 64 q,v-only). One batch
holds all adapters and the base: prefill, then decode steps with teacher-forced tokens; every sequence's logits
are compared with transformers run on its full token list (PeftModel.set_adapter / disable_adapter).
"""
import ctypes
import os
import tempfile
import time

import numpy as np
import torch
from olora_cuda_abi import (BF16, INT8, NF4, OK, W_DOWN, W_EMBED, W_FINAL_NORM, W_GATE_UP, W_INPUT_NORM, W_LM_HEAD,
                            W_O, W_POST_NORM, W_QKV, Config, bind)

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
NF4_CODES = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                      -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                      0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                      0.7229568362236023, 1.0], dtype=np.float32)


def err(lib):
    buf = ctypes.create_string_buffer(1024)
    lib.olora_cuda_last_error(buf, 1024)
    return buf.value.decode()


def bf16_bits(t):
    """A torch tensor as contiguous bf16 bits (numpy uint16)."""
    return t.detach().to(torch.bfloat16).contiguous().view(torch.int16).cpu().numpy().view(np.uint16)


def nf4_quantize(w):
    """bitsandbytes NF4 (blocksize 64) of a float32 torch tensor, on its device: (codes uint8, absmax float32)."""
    flat = w.detach().float().flatten()
    pad = (-flat.numel()) % 64
    blocks = torch.nn.functional.pad(flat, (0, pad)).view(-1, 64)
    absmax = blocks.abs().amax(dim=1)
    scaled = blocks / torch.where(absmax > 0, absmax, torch.ones_like(absmax))[:, None]
    codes = torch.tensor(NF4_CODES, device=w.device)
    idx = (scaled.flatten()[:, None] - codes[None, :]).abs().argmin(dim=1)[: flat.numel()].to(torch.uint8)
    if idx.numel() % 2:
        idx = torch.cat([idx, torch.full((1,), 7, dtype=torch.uint8, device=w.device)])
    packed = (idx[0::2] << 4) | idx[1::2]
    return packed.cpu().numpy(), absmax[: (flat.numel() + 63) // 64].cpu().numpy().astype(np.float32)


def nf4_dequantize(codes, absmax, shape):
    c = torch.from_numpy(codes.astype(np.int64))
    idx = torch.stack([c >> 4, c & 15], dim=1).flatten()[: int(np.prod(shape))]
    vals = torch.tensor(NF4_CODES)[idx] * torch.from_numpy(absmax).repeat_interleave(64)[: idx.numel()]
    return vals.view(shape)


def rope_theta(hf_config):
    """transformers 5 keeps RoPE's base in config.rope_parameters, 4.x in config.rope_theta."""
    params = getattr(hf_config, "rope_parameters", None) or {}
    return float(params.get("rope_theta") or getattr(hf_config, "rope_theta", None) or 10000.0)


class Runner:
    """One olora_cuda_model on a context; weights from a transformers state dict."""

    def __init__(self, lib, device, hf_config, fmt=BF16, slots=4, max_rank=64, block_size=16, num_blocks=256,
                 max_positions=256):
        self.lib = lib
        self.ctx, self.model = ctypes.c_void_p(), ctypes.c_void_p()
        if lib.olora_cuda_context_create(device, ctypes.byref(self.ctx)) != OK:
            raise RuntimeError("context: " + err(lib))
        c = Config()
        c.rope_theta = rope_theta(hf_config)
        c.rope_factor = 1.0
        c.rms_norm_eps = float(hf_config.rms_norm_eps)
        c.vocab_size = hf_config.vocab_size
        c.hidden_size = hf_config.hidden_size
        c.intermediate_size = hf_config.intermediate_size
        c.num_layers = hf_config.num_hidden_layers
        c.num_heads = hf_config.num_attention_heads
        c.kv_heads = hf_config.num_key_value_heads
        c.head_dim = getattr(hf_config, "head_dim", None) or hf_config.hidden_size // hf_config.num_attention_heads
        c.sliding_window = getattr(hf_config, "sliding_window", None) or 0
        c.max_positions, c.block_size, c.num_blocks = max_positions, block_size, num_blocks
        c.num_slots, c.max_rank, c.weight_format, c.lm_head_format = slots, max_rank, fmt, fmt
        self.config, self.fmt = c, fmt
        if lib.olora_cuda_model_create(self.ctx, ctypes.byref(c), ctypes.byref(self.model)) != OK:
            raise RuntimeError("model: " + err(lib))
        self.effective = {}  # name -> the float32 weight the runner multiplies with (quantized formats)

    def close(self):
        self.lib.olora_cuda_model_destroy(self.model)
        self.lib.olora_cuda_context_destroy(self.ctx)

    def _set(self, kind, layer, data, aux=None):
        aux_ptr = aux.ctypes.data if aux is not None else None
        rc = self.lib.olora_cuda_model_set_weight(self.model, kind, layer, data.ctypes.data, data.nbytes, aux_ptr,
                                                  aux.nbytes if aux is not None else 0)
        if rc != OK:
            raise RuntimeError(f"set_weight {kind} layer {layer}: {err(self.lib)}")

    def _linear(self, kind, layer, w, name, fmt):
        if fmt == BF16:
            self._set(kind, layer, bf16_bits(w))
        elif fmt == NF4:
            codes, absmax = nf4_quantize(w)
            self._set(kind, layer, codes, absmax)
            if name:
                self.effective[name] = nf4_dequantize(codes, absmax, tuple(w.shape))
        else:
            wf = w.detach().float()
            scales = wf.abs().amax(dim=1) / 127
            q = torch.round(wf / torch.where(scales > 0, scales, torch.ones_like(scales))[:, None]).clamp(-127, 127)
            self._set(kind, layer, q.to(torch.int8).cpu().numpy(), scales.cpu().numpy().astype(np.float32))
            if name:
                self.effective[name] = (q * scales[:, None]).cpu()

    def load(self, state):
        c = self.config
        self._set(W_EMBED, -1, bf16_bits(state["model.embed_tokens.weight"]))
        self._set(W_FINAL_NORM, -1, bf16_bits(state["model.norm.weight"]))
        head = state.get("lm_head.weight", state["model.embed_tokens.weight"])
        self._linear(W_LM_HEAD, -1, head, "lm_head.weight", c.lm_head_format)
        for i in range(c.num_layers):
            p = f"model.layers.{i}."
            self._set(W_INPUT_NORM, i, bf16_bits(state[p + "input_layernorm.weight"]))
            self._set(W_POST_NORM, i, bf16_bits(state[p + "post_attention_layernorm.weight"]))
            qkv = torch.cat([state[p + f"self_attn.{m}.weight"] for m in ("q_proj", "k_proj", "v_proj")])
            self._linear(W_QKV, i, qkv, p + "qkv", self.fmt)
            self._linear(W_O, i, state[p + "self_attn.o_proj.weight"], p + "self_attn.o_proj.weight", self.fmt)
            gu = torch.cat([state[p + "mlp.gate_proj.weight"], state[p + "mlp.up_proj.weight"]])
            self._linear(W_GATE_UP, i, gu, p + "gate_up", self.fmt)
            self._linear(W_DOWN, i, state[p + "mlp.down_proj.weight"], p + "mlp.down_proj.weight", self.fmt)

    def load_adapter(self, slot, lora_state, scale):
        """lora_state: {(layer, module index): (A [r, in], B [out, r])} (PEFT tensors)."""
        keep = []
        for (layer, module), (a, b) in lora_state.items():
            a_bits, bt_bits = bf16_bits(a), bf16_bits(b.t())
            keep += [a_bits, bt_bits]
            if self.lib.olora_cuda_model_set_adapter(self.model, slot, layer, module, a.shape[0], a_bits.ctypes.data,
                                                     bt_bits.ctypes.data) != OK:
                raise RuntimeError(f"set_adapter slot {slot} layer {layer} module {module}: {err(self.lib)}")
        if self.lib.olora_cuda_model_set_adapter_scale(self.model, slot, scale) != OK:
            raise RuntimeError("set_adapter_scale: " + err(self.lib))

    def forward(self, seqs, tables, logit_rows):
        """seqs: [(start, tokens, slot)]; tables: [[block, ...]] per sequence. Returns float32 [rows, vocab]."""
        ids = np.array([t for _, toks, _ in seqs for t in toks], dtype=np.int32)
        starts = np.array([s for s, _, _ in seqs], dtype=np.int32)
        counts = np.array([len(toks) for _, toks, _ in seqs], dtype=np.int32)
        slots = np.array([sl for _, _, sl in seqs], dtype=np.int32)
        stride = max(len(t) for t in tables)
        bt = np.zeros((len(seqs), stride), dtype=np.int32)
        for i, t in enumerate(tables):
            bt[i, : len(t)] = t
        rows = np.array(logit_rows, dtype=np.int32)
        out = np.full((len(rows), self.config.vocab_size), np.nan, dtype=np.float32)
        rc = self.lib.olora_cuda_model_forward(self.model, len(ids), ids.ctypes.data, len(seqs), starts.ctypes.data,
                                               counts.ctypes.data, slots.ctypes.data, bt.ctypes.data, stride,
                                               len(rows), rows.ctypes.data, out.ctypes.data)
        if rc != OK:
            raise RuntimeError("forward: " + err(self.lib))
        return out


def line(ok, name, detail=""):
    print(f"{'PASS' if ok else 'FAIL'} {name}  {detail}", flush=True)
    return ok


def round_to_bf16(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())


def error_stats(got, refs, prompt_lens):
    """got / refs: per sequence, rows of logits. Max |got - ref| / max |ref| over every sequence, top-1 agreement,
    rows, and per sequence 'prefill/decode' maxima."""
    worst, agree, total, per_seq = 0.0, 0, 0, []
    for i, n in enumerate(prompt_lens):
        g = np.stack([np.asarray(row, dtype=np.float32) for row in got[i]])
        r = np.asarray(refs[i], dtype=np.float32)[: len(g)]
        scale = float(np.abs(r).max())
        rel = np.abs(g - r).max(axis=1) / scale
        worst = max(worst, float(rel.max()))
        per_seq.append(f"{rel[:n].max():.1e}/{rel[n:].max():.1e}" if len(g) > n else f"{rel.max():.1e}")
        agree += int((g.argmax(1) == r.argmax(1)).sum())
        total += len(g)
    return worst, agree, total, " ".join(per_seq)


def make_adapters(base, out_dir):
    """Four PEFT adapters saved by peft; returns [(name, dir, rank, scale, {(layer, module): (A, B)})]."""
    from peft import LoraConfig, get_peft_model

    specs = [("r4-all", 4, MODULES, False), ("r8-all", 8, MODULES, False), ("r16-rslora", 16, MODULES, True),
             ("r64-qv", 64, ["q_proj", "v_proj"], False)]
    adapters = []
    for seed, (name, r, targets, rs) in enumerate(specs):
        torch.manual_seed(100 + seed)
        cfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, use_rslora=rs, init_lora_weights=False,
                         lora_dropout=0.0)
        peft_model = get_peft_model(base, cfg)
        with torch.no_grad():
            for n, p in peft_model.named_parameters():
                if "lora_" in n:
                    p.copy_(p.to(torch.bfloat16).float())  # the runner's tables are bf16
        path = os.path.join(out_dir, name)
        peft_model.save_pretrained(path)
        state = {}
        for n, p in peft_model.named_parameters():
            if "lora_A" in n:
                layer = int(n.split(".layers.")[1].split(".")[0])
                module = next(i for i, m in enumerate(MODULES) if f".{m}." in n)
                b = dict(peft_model.named_parameters())[n.replace("lora_A", "lora_B")]
                state[(layer, module)] = (p.detach().float().cpu(), b.detach().float().cpu())
        scale = (2 * r) / (r ** 0.5 if rs else r)
        adapters.append((name, path, r, scale, state))
        base = peft_model.unload()  # back to the plain base model for the next adapter
    return adapters, base


def compare(lib, kind, workdir):
    """One model kind ('llama' GQA or 'mistral' window) in bf16, plus NF4 and int8 for llama."""
    from peft import PeftModel
    from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM

    torch.manual_seed(1 if kind == "llama" else 2)
    common = dict(vocab_size=512, hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=8,
                  num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False)
    if kind == "llama":
        config, cls = LlamaConfig(**common), LlamaForCausalLM
    else:
        config, cls = MistralConfig(sliding_window=16, **common), MistralForCausalLM
    try:  # eager attention in float32: the plainest reference (4.x and 5.x both take this setter)
        config._attn_implementation = "eager"
    except Exception as e:  # noqa: BLE001
        print(f"(transformers kept its default attention: {e!r})", flush=True)
    base = cls(config).float()
    round_to_bf16(base)
    base.save_pretrained(os.path.join(workdir, kind))
    adapters, base = make_adapters(base, workdir)
    base_state = {k: v.detach().float().clone() for k, v in base.state_dict().items()}  # before PEFT wraps it
    base = base.cuda().eval()
    peft = PeftModel.from_pretrained(base, adapters[0][1], adapter_name=adapters[0][0])
    for name, path, *_ in adapters[1:]:
        peft.load_adapter(path, adapter_name=name)
    peft.eval()

    gen = torch.Generator().manual_seed(3)
    prompt_lens = [17, 23, 9, 31, 40]  # base, then the four adapters; 40 > the window of 16
    decode_steps = 4
    tokens = [torch.randint(0, 512, (n + decode_steps,), generator=gen).tolist() for n in prompt_lens]
    slots = [-1, 0, 1, 2, 3]

    def reference(state_override=None, dtype=torch.float32):
        """transformers + PEFT logits of every sequence, on the base weights or on `state_override` (the weights
        a quantized runner multiplies with), in float32 or bf16 (the yardstick)."""
        refs = []
        with torch.no_grad():
            # PEFT renames the weights of the modules it wraps (q_proj.weight -> q_proj.base_layer.weight).
            params = dict(base.named_parameters())
            saved = {n: p.detach().clone() for n, p in params.items()}
            # .to(dtype) converts floating buffers too (RoPE's inv_freq): they come back exactly as they were.
            buffers = {n: b.detach().clone() for n, b in peft.named_buffers() if b.is_floating_point()}
            try:
                for n, w in (state_override or {}).items():
                    target = params.get(n) if n in params else params[n.replace(".weight", ".base_layer.weight")]
                    target.copy_(w.to(target.device, target.dtype))
                peft.to(dtype)
                for i, toks in enumerate(tokens):
                    ids = torch.tensor([toks], device="cuda")
                    if slots[i] < 0:
                        with peft.disable_adapter():
                            refs.append(peft(input_ids=ids).logits[0].float().cpu())
                    else:
                        peft.set_adapter(adapters[slots[i]][0])
                        refs.append(peft(input_ids=ids).logits[0].float().cpu())
            finally:  # the float32 model back, whatever the override, the dtype or a failure did
                peft.to(torch.float32)
                for n, p in params.items():
                    p.copy_(saved[n])
                live = dict(peft.named_buffers())
                for n, b in buffers.items():
                    live[n].copy_(b)
        return refs

    results = True
    for fmt, fname in ([(BF16, "bf16"), (NF4, "nf4"), (INT8, "int8")] if kind == "llama" else [(BF16, "bf16")]):
        runner = Runner(lib, 0, config, fmt=fmt, slots=4, max_rank=64)
        try:
            runner.load(base_state)
            for slot, (_, _, _, scale, state) in enumerate(adapters):
                runner.load_adapter(slot, state, scale)
            override = None
            if fmt != BF16:  # transformers on the weights the runner multiplies with
                override = {}
                for i in range(config.num_hidden_layers):
                    p = f"model.layers.{i}."
                    qkv = runner.effective[p + "qkv"]
                    hd = config.hidden_size // config.num_attention_heads
                    q, kv = config.num_attention_heads * hd, config.num_key_value_heads * hd
                    override[p + "self_attn.q_proj.weight"] = qkv[:q]
                    override[p + "self_attn.k_proj.weight"] = qkv[q:q + kv]
                    override[p + "self_attn.v_proj.weight"] = qkv[q + kv:]
                    override[p + "self_attn.o_proj.weight"] = runner.effective[p + "self_attn.o_proj.weight"]
                    gu = runner.effective[p + "gate_up"]
                    override[p + "mlp.gate_proj.weight"] = gu[: config.intermediate_size]
                    override[p + "mlp.up_proj.weight"] = gu[config.intermediate_size:]
                    override[p + "mlp.down_proj.weight"] = runner.effective[p + "mlp.down_proj.weight"]
                override["lm_head.weight"] = runner.effective["lm_head.weight"]
            refs = reference(override)
            # The yardstick runs on the same weights: a bf16 forward of the override for NF4 / int8. (The first
            # H200 run compared NF4 / int8 with a bf16 forward of the unquantized weights, which measured the
            # quantization, not bf16: its NF4 / int8 PASS lines were not valid, docs/GPU.md.)
            bf16_refs = reference(override, torch.bfloat16)
            blocks_per_seq = (256 // 16)
            tables = [list(range(i * blocks_per_seq, (i + 1) * blocks_per_seq)) for i in range(len(tokens))]
            got = [[] for _ in tokens]
            # Prefill: every sequence in one batch, logits of every prompt row.
            seqs = [(0, toks[:n], slots[i]) for i, (toks, n) in enumerate(zip(tokens, prompt_lens))]
            rows = list(range(sum(prompt_lens)))
            out = runner.forward(seqs, tables, rows)
            r0 = 0
            for i, n in enumerate(prompt_lens):
                got[i] += list(out[r0:r0 + n])
                r0 += n
            for step in range(decode_steps):
                seqs = [(n + step, [tokens[i][n + step]], slots[i]) for i, n in enumerate(prompt_lens)]
                out = runner.forward(seqs, tables, list(range(len(seqs))))
                for i in range(len(seqs)):
                    got[i].append(out[i])
            worst, agree, total, per_seq = error_stats(got, refs, prompt_lens)
            # transformers' own bf16 forward against its float32 one, on the same tokens: the error bf16
            # activations cost in this model, the yardstick for the runner's (which keeps activations in bf16).
            floor_worst, floor_agree, _, _ = error_stats(bf16_refs, refs, prompt_lens)
            limit = max(2e-2, floor_worst)  # no worse than transformers' own bf16 forward
            ok = worst <= limit and agree >= min(0.99 * total, floor_agree - 1) and np.isfinite(worst)
            results &= line(ok, f"e2e {kind} {fname}: base + 4 PEFT adapters (r4, r8, r16 rsLoRA, r64 q/v) vs "
                                f"transformers+PEFT float32",
                            f"max rel err {worst:.2e}, top-1 {agree}/{total}; transformers bf16 vs float32 "
                            f"{floor_worst:.2e}, top-1 {floor_agree}/{total}; tol max(2e-2, that); per sequence "
                            f"(base, r4, r8, r16rs, r64qv) prefill/decode: {per_seq}")
        except Exception as e:  # noqa: BLE001 - every failure is a FAIL line, never a crash of the check
            results &= line(False, f"e2e {kind} {fname}", repr(e))
        finally:
            runner.close()
    return results


def bench(lib, deadline):
    """Mistral-7B-shaped random model: decode tokens/s at batch 1/8/32/64 (base, one adapter, 32 distinct rank-16
    adapters on every projection), step time against the HBM floor (weight bytes / measured copy bandwidth).
    The benchmark measures, it checks nothing: a format with under 60 s left before `deadline` (time.monotonic()),
    and the batch sizes past it, are skipped with a BENCH line saying so, not a FAIL (the lease is short)."""
    from transformers import MistralConfig

    cfg = MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                        num_attention_heads=32, num_key_value_heads=8, sliding_window=4096)
    x = torch.empty(2 ** 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    y.copy_(x)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(10):
        y.copy_(x)
    torch.cuda.synchronize()
    bandwidth = 2 * 10 * 2 ** 30 / (time.perf_counter() - t)
    del x, y
    print(f"BENCH e2e_hbm_copy_bandwidth {bandwidth / 1e9:.1f} GB/s", flush=True)
    ok = True
    for fmt, fname in ((BF16, "bf16"), (NF4, "nf4")):
        if time.monotonic() > deadline - 60:
            print(f"BENCH e2e_{fname} skipped: under 60 s of the time budget left", flush=True)
            continue
        runner = None
        try:
            runner = Runner(lib, 0, cfg, fmt=fmt, slots=32, max_rank=16, block_size=16, num_blocks=64 * 16,
                            max_positions=512)
            gen = torch.Generator(device="cuda").manual_seed(7)
            h, ff, q, kv = 4096, 14336, 4096, 1024

            def rnd(*shape):
                return torch.randn(*shape, generator=gen, device="cuda") * 0.02

            runner._set(W_EMBED, -1, bf16_bits(rnd(32000, h)))
            runner._set(W_FINAL_NORM, -1, bf16_bits(torch.ones(h)))
            runner._linear(W_LM_HEAD, -1, rnd(32000, h), "lm_head", fmt)
            weight_bytes = 0
            for i in range(32):
                runner._set(W_INPUT_NORM, i, bf16_bits(torch.ones(h)))
                runner._set(W_POST_NORM, i, bf16_bits(torch.ones(h)))
                for kind, shape in ((W_QKV, (q + 2 * kv, h)), (W_O, (h, q)), (W_GATE_UP, (2 * ff, h)), (W_DOWN, (h, ff))):
                    runner._linear(kind, i, rnd(*shape), "", fmt)
                    weight_bytes += shape[0] * shape[1] * (2 if fmt == BF16 else 0.5 + 4 / 64)
                runner.effective.clear()
            weight_bytes += 32000 * h * (2 if fmt == BF16 else 0.5 + 4 / 64)
            for slot in range(32):
                state = {}
                for layer in range(32):
                    for m, (i_f, o_f) in enumerate(((h, q), (h, kv), (h, kv), (q, h), (h, ff), (h, ff), (ff, h))):
                        state[(layer, m)] = (rnd(16, i_f).cpu(), rnd(o_f, 16).cpu())
                runner.load_adapter(slot, state, 1.0)
            floor_ms = weight_bytes / bandwidth * 1e3
            print(f"BENCH e2e_{fname}_weight_bytes {weight_bytes / 2**30:.2f} GiB floor {floor_ms:.3f} ms", flush=True)
            for batch in (1, 8, 32, 64):
                if time.monotonic() > deadline:
                    print(f"BENCH e2e_{fname}_b{batch} skipped: the time budget is spent", flush=True)
                    break
                times = {}
                for mode in ("base", "one", "distinct"):
                    slots = [-1 if mode == "base" else (0 if mode == "one" else b % 32) for b in range(batch)]
                    tables = [list(range(b * 16, b * 16 + 16)) for b in range(batch)] if batch <= 64 else None
                    prompt = [(0, [1] * 128, s) for s in slots]
                    runner.forward(prompt, tables, [])
                    steps, t0 = 16, time.perf_counter()
                    for s in range(steps):
                        runner.forward([(128 + s, [2], sl) for sl in slots], tables, list(range(batch)))
                    times[mode] = (time.perf_counter() - t0) / steps * 1e3
                    print(f"BENCH e2e_{fname}_b{batch}_{mode} {times[mode]:.3f} ms/step {batch / times[mode] * 1e3:.0f} "
                          f"tokens/s ({floor_ms / times[mode] * 100:.0f}% of HBM floor)", flush=True)
                if batch in (1, 32) and time.monotonic() < deadline - 30:
                    profile_steps(runner, [b % 32 for b in range(batch)], tables, 144, f"{fname} b{batch} distinct")
                if batch == 32:
                    ratio = times["base"] / times["distinct"]
                    print(f"BENCH e2e_{fname}_b32_distinct_over_base {ratio:.3f} (target >= 0.90)", flush=True)
        except Exception as e:  # noqa: BLE001
            ok = line(False, f"e2e bench {fname}", repr(e))
        finally:
            if runner is not None:
                runner.close()
    return ok


def profile_steps(runner, slots, tables, position, label):
    """Per-kernel GPU time of three decode steps (torch.profiler reads every kernel of the process through
    CUPTI, the library's too): where a step's time goes. Diagnostic output only."""
    from torch.profiler import ProfilerActivity, profile

    try:
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for s in range(3):
                runner.forward([(position + s, [3], sl) for sl in slots], tables, list(range(len(slots))))
            torch.cuda.synchronize()
        events = prof.key_averages()
        key = "self_device_time_total" if hasattr(events[0], "self_device_time_total") else "self_cuda_time_total"
        print(f"PROFILE {label}: 3 steps, by GPU time", flush=True)
        print(events.table(sort_by=key, row_limit=14, max_name_column_width=60), flush=True)
    except Exception as e:  # noqa: BLE001 - the profile is a diagnostic, never a failure
        print(f"PROFILE {label}: not available ({e!r})", flush=True)


def run(library, out_dir, budget_seconds=240):
    """The comparisons, then the benchmark while budget_seconds (from the start of this call) last."""
    deadline = time.monotonic() + budget_seconds
    # The reference is float32: no TF32 in its matrix products.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    import transformers
    import peft
    print(f"(torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__})", flush=True)
    lib = ctypes.CDLL(library)
    bind(lib)
    ok = True
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        for kind in ("llama", "mistral"):
            try:
                ok &= compare(lib, kind, work)
            except Exception as e:  # noqa: BLE001 - a broken setup is a FAIL line; the benchmark still runs
                import traceback
                traceback.print_exc()
                ok &= line(False, f"e2e {kind}: setup", repr(e))
    try:
        ok &= bench(lib, deadline)
    except Exception as e:  # noqa: BLE001 - e.g. no memory for the bandwidth probe: a FAIL line, not a crash
        ok &= line(False, "e2e bench", repr(e))
    return 0 if ok else 1
