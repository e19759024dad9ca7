using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Grouped-query self-attention over the KV cache. New keys/values of the whole batch are written
/// into their slots with one scatter; every single-token (decode) sequence is then attended in one
/// batched computation, and each multi-token (prefill) sequence with a causal mask.
/// Mistral's sliding window masks keys at positions &lt;= p - window.
/// </summary>
public sealed class Attention : IDisposable
{
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int? _window;
    // Held for the model's life, never converted per call (HeldScalars says why).
    private readonly Scalar _scale;

    /// <param name="qkv">q_proj, k_proj and v_proj stacked by rows, so one matmul projects all three.</param>
    public Attention(ModelConfig config, ILinearLayer qkv, ILinearLayer o)
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _window = config.EffectiveSlidingWindow;
        _scale = (1.0 / Math.Sqrt(_headDim)).ToScalar();
        QkvProj = qkv;
        OProj = o;
    }

    public ILinearLayer QkvProj { get; } // hidden → (heads + 2*kvHeads)*headDim
    public ILinearLayer OProj { get; }   // heads*headDim → hidden

    /// <summary>Mistral's sliding window as the kernels take it (0: none).</summary>
    internal int SlidingWindow => _window ?? 0;

    /// <summary>x: [tokens, hidden] → [tokens, hidden].</summary>
    public Tensor Forward(Tensor x, ForwardBatch batch, IKvCache kv, int layer, Tensor cos, Tensor sin, LoraContext? lora = null)
    {
        using var scope = NewDisposeScope();
        long tokens = x.size(0);
        var qkv = QkvProj.Forward(x);                                                       // [tokens, (heads+2*kvHeads)*D]
        long qWidth = (long)_heads * _headDim, kvWidth = (long)_kvHeads * _headDim;
        if (lora is not null)
        {
            // LoRA adds to each projection's part of the stacked output, before RoPE.
            lora.Apply(layer, LoraTargetModules.QProj, x, qkv.narrow(1, 0, qWidth));
            lora.Apply(layer, LoraTargetModules.KProj, x, qkv.narrow(1, qWidth, kvWidth));
            lora.Apply(layer, LoraTargetModules.VProj, x, qkv.narrow(1, qWidth + kvWidth, kvWidth));
        }
        Tensor q, k;
        bool fused = FusedOps.Usable(qkv) && cos.dtype == ScalarType.Float32;
        if (fused)
        {
            FusedOps.Rope(qkv, _heads, _kvHeads, _headDim, cos, sin, batch.RowIndices); // in place, on the stacked projection
            q = qkv.narrow(1, 0, qWidth).view(tokens, _heads, _headDim);
            k = qkv.narrow(1, qWidth, kvWidth).view(tokens, _kvHeads, _headDim);
        }
        else
        {
            q = RotaryEmbedding.Apply(qkv.narrow(1, 0, qWidth).view(tokens, _heads, _headDim), cos, sin);         // [tokens, heads, D]
            k = RotaryEmbedding.Apply(qkv.narrow(1, qWidth, kvWidth).view(tokens, _kvHeads, _headDim), cos, sin); // [tokens, kvHeads, D]
        }
        var v = qkv.narrow(1, qWidth + kvWidth, kvWidth).view(tokens, _kvHeads, _headDim);                       // [tokens, kvHeads, D]

        if (kv is PagedKvCache paged)
        {
            var attended = AttendPaged(q, k, v, batch, paged, layer, fused ? qkv : null).to(x.dtype);
            var pagedOut = OProj.Forward(attended);
            lora?.Apply(layer, LoraTargetModules.OProj, attended, pagedOut);
            return pagedOut.MoveToOuterDisposeScope();
        }
        var cache = (KvCache)kv;
        var keys = cache.Keys(layer);
        var values = cache.Values(layer);
        // Advanced indices around a slice: the indexed view is [tokens, kvHeads, D].
        keys.index_put_(k, TensorIndex.Tensor(batch.Slots), TensorIndex.Colon, TensorIndex.Tensor(batch.Positions));
        values.index_put_(v, TensorIndex.Tensor(batch.Slots), TensorIndex.Colon, TensorIndex.Tensor(batch.Positions));

        var plan = batch.AttentionPlan(_window);
        var output = empty(tokens, _heads * _headDim, dtype: x.dtype, device: x.device); // [tokens, heads*D]
        int row = 0;
        for (int i = 0; i < batch.Sequences.Count; i++)
        {
            var s = batch.Sequences[i];
            if (plan.PrefillMasks[i] is { } mask)
                output.narrow(0, row, s.TokenCount).copy_(AttendPrefill(q.narrow(0, row, s.TokenCount), keys, values, s, mask));
            row += s.TokenCount;
        }
        if (plan.DecodeCount > 0)
            output.index_copy_(0, plan.DecodeRows!, AttendDecode(q.index_select(0, plan.DecodeRows!), keys, values, plan));
        var projected = OProj.Forward(output);
        lora?.Apply(layer, LoraTargetModules.OProj, output, projected);
        return projected.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A decode step on <paramref name="b"/>'s buffers: projects <see cref="DecodeBuffers.Normed"/> into the stacked
    /// q/k/v, applies RoPE from the full tables at each token's position, appends k/v to the paged cache, attends into
    /// <see cref="DecodeBuffers.Attended"/> and projects that into <see cref="DecodeBuffers.Projected"/>. No tensor is allocated.
    /// </summary>
    internal void ForwardDecode(DecodeBuffers b, ForwardBatch batch, PagedKvCache cache, int layer, Tensor cosTable, Tensor sinTable, LoraContext? lora)
    {
        QkvProj.ForwardInto(b.Normed, b.Qkv);
        if (lora is not null)
        {
            lora.Apply(layer, LoraTargetModules.QProj, b.Normed, b.Q);
            lora.Apply(layer, LoraTargetModules.KProj, b.Normed, b.K);
            lora.Apply(layer, LoraTargetModules.VProj, b.Normed, b.V);
        }
        FusedOps.RopeAt(b.Qkv, _heads, _kvHeads, _headDim, cosTable, sinTable, batch.PositionIndices);
        AttendPaged(b.Q, b.K, b.V, batch, cache, layer, b.Qkv, b.Attended);
        OProj.ForwardInto(b.Attended, b.Projected);
        lora?.Apply(layer, LoraTargetModules.OProj, b.Attended, b.Projected);
    }

    /// <summary>
    /// Appends the batch's keys/values to their blocks and attends every row through the block
    /// tables on the native kernels (float32 rows; online softmax in float32). q: [tokens, heads, D],
    /// k and v: [tokens, kvHeads, D]. Returns [tokens, heads*D] float32. With <paramref name="stacked"/>, the float32
    /// [tokens, (heads + 2 kvHeads) D] projection q, k and v are views of, the kernels read it in place (row stride).
    /// With <paramref name="into"/> (float32 [tokens, heads*D], contiguous), the rows are written there.
    /// </summary>
    private unsafe Tensor AttendPaged(Tensor q, Tensor k, Tensor v, ForwardBatch batch, PagedKvCache cache, int layer, Tensor? stacked, Tensor? into = null)
    {
        var plan = batch.PagedPlan(cache.BlockSize);
        int tokens = (int)q.size(0);
        int width = _heads * _headDim, kvWidth = _kvHeads * _headDim;
        var q32 = stacked ?? q.to(ScalarType.Float32).contiguous();
        var k32 = stacked ?? k.to(ScalarType.Float32).contiguous();
        var v32 = stacked ?? v.to(ScalarType.Float32).contiguous();
        long qStride = stacked?.stride(0) ?? width, kvStride = stacked?.stride(0) ?? kvWidth;
        long kOffset = stacked is null ? 0 : width, vOffset = stacked is null ? 0 : width + kvWidth;
        var output = into ?? empty(tokens, width, dtype: ScalarType.Float32);
        var keys = cache.Keys(layer);
        var values = cache.Values(layer);
        int code = cache.Dtype == ScalarType.Float32 ? NativeMethods.DtypeF32 : NativeMethods.DtypeBf16;
        int n = batch.Sequences.Count;
        int window = SlidingWindow;
        fixed (long* slots = plan.SlotMapping)
        fixed (int* tables = plan.BlockTables)
        fixed (int* lengths = plan.ContextLengths)
        fixed (int* starts = plan.QueryStarts)
        {
            void* kp = (void*)TensorMemory.DataPointer(keys);
            void* vp = (void*)TensorMemory.DataPointer(values);
            float* qp = (float*)TensorMemory.DataPointer(q32);
            float* op = (float*)TensorMemory.DataPointer(output);
            Check(NativeMethods.KvAppend(code, (float*)TensorMemory.DataPointer(k32) + kOffset, kvStride, (float*)TensorMemory.DataPointer(v32) + vOffset, kvStride,
                slots, tokens, kp, vp, cache.BlockCount, cache.BlockSize, _kvHeads, _headDim), "olora_kv_append");
            Check(plan.AllDecode
                ? NativeMethods.PagedAttentionDecode(code, qp, qStride, op, width, kp, vp, cache.BlockCount, cache.BlockSize,
                    tables, plan.MaxBlocks, plan.MaxBlocks, lengths, n, _heads, _kvHeads, _headDim, window)
                : NativeMethods.PagedAttentionPrefill(code, qp, qStride, op, width, kp, vp, cache.BlockCount, cache.BlockSize,
                    tables, plan.MaxBlocks, plan.MaxBlocks, starts, lengths, n, _heads, _kvHeads, _headDim, window), "olora_paged_attention");
        }
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        GC.KeepAlive(q32);
        GC.KeepAlive(k32);
        GC.KeepAlive(v32);
        return output;
    }

    private static void Check(int rc, string kernel)
    {
        if (rc != NativeStatus.Ok)
            throw new InvalidOperationException($"{kernel} failed: {NativeStatus.Describe(rc)} ({rc}).");
    }

    /// <summary>One query row per sequence, all sequences in one computation. q: [B, heads, D].</summary>
    private Tensor AttendDecode(Tensor q, Tensor keys, Tensor values, AttentionPlan plan)
    {
        int b = plan.DecodeCount;
        long maxLen = plan.DecodeMaxLength;
        // Consecutive slots (one sequence always) are read in place; others are gathered (a copy).
        Tensor k, v;                                                            // [B, kvHeads, L, D]
        if (plan.DecodeFirstSlot is long first)
        {
            k = keys.narrow(0, first, b).narrow(2, 0, maxLen);
            v = values.narrow(0, first, b).narrow(2, 0, maxLen);
        }
        else
        {
            k = keys.narrow(2, 0, maxLen).index_select(0, plan.DecodeSlots!);
            v = values.narrow(2, 0, maxLen).index_select(0, plan.DecodeSlots!);
        }
        int groups = _heads / _kvHeads;
        var qg = q.view(b, _kvHeads, groups, _headDim);                          // [B, kvHeads, G, D]
        var scores = matmul(qg, k.transpose(-1, -2)).mul_(_scale);               // [B, kvHeads, G, L]
        scores = scores.to(ScalarType.Float32).masked_fill_(plan.DecodeMask!, HeldScalars.NegativeInfinity);
        var probs = softmax(scores, -1).to(q.dtype);
        return matmul(probs, v).view(b, _heads * _headDim);                      // [B, heads*D]
    }

    /// <summary>A causal block of T query rows at positions [start, start+T). q: [T, heads, D]; mask: [T, L].</summary>
    private Tensor AttendPrefill(Tensor q, Tensor keys, Tensor values, BatchSequence s, Tensor mask)
    {
        long t = s.TokenCount;
        long len = s.StartPosition + t;
        int groups = _heads / _kvHeads;
        var k = keys[s.Slot].narrow(1, 0, len).unsqueeze(1);     // [kvHeads, 1, L, D]
        var v = values[s.Slot].narrow(1, 0, len).unsqueeze(1);   // [kvHeads, 1, L, D]
        var qg = q.view(t, _kvHeads, groups, _headDim).permute(1, 2, 0, 3); // [kvHeads, G, T, D]
        var scores = matmul(qg, k.transpose(-1, -2)).mul_(_scale);          // [kvHeads, G, T, L]
        scores = scores.to(ScalarType.Float32).masked_fill_(mask, HeldScalars.NegativeInfinity);
        var probs = softmax(scores, -1).to(q.dtype);
        return matmul(probs, v).permute(2, 0, 1, 3).reshape(t, _heads * _headDim); // [T, heads*D]
    }

    public void Dispose()
    {
        QkvProj.Dispose();
        _scale.Dispose();
        OProj.Dispose();
    }
}
