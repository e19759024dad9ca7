using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// The index tensors and masks attention needs for one batch, built once per forward and shared by
/// every layer (they depend only on the batch and the sliding window, not on the layer). Its
/// tensors are detached from dispose scopes: the batch owns and disposes them.
/// </summary>
internal sealed class AttentionPlan : IDisposable
{
    public AttentionPlan(ForwardBatch batch, int? window)
    {
        using var scope = NewDisposeScope();
        var decodeRows = new List<long>();
        var decodeSlots = new List<long>();
        var decodePositions = new List<long>();
        PrefillMasks = new Tensor?[batch.Sequences.Count];
        int row = 0;
        for (int i = 0; i < batch.Sequences.Count; i++)
        {
            var s = batch.Sequences[i];
            if (s.TokenCount == 1)
            {
                decodeRows.Add(row);
                decodeSlots.Add(s.Slot);
                decodePositions.Add(s.StartPosition);
            }
            else
            {
                long len = s.StartPosition + s.TokenCount;
                // Every Scalar held across its call (HeldScalars says why); arange's shorter overloads make temporaries.
                using var first = s.StartPosition.ToScalar();
                using var end = len.ToScalar();
                var qPos = arange(first, end, HeldScalars.One, dtype: ScalarType.Int64).unsqueeze(1);         // [T, 1]
                var j = arange(HeldScalars.Zero, end, HeldScalars.One, dtype: ScalarType.Int64).unsqueeze(0); // [1, L]
                PrefillMasks[i] = Mask(j, qPos, window).DetachFromDisposeScope();             // [T, L]
            }
            row += s.TokenCount;
        }
        DecodeCount = decodeRows.Count;
        if (DecodeCount > 0)
        {
            DecodeMaxLength = decodePositions.Max() + 1;
            DecodeRows = tensor(decodeRows.ToArray(), dtype: ScalarType.Int64).DetachFromDisposeScope();   // [B]
            bool consecutive = true;
            for (int i = 1; i < decodeSlots.Count && consecutive; i++)
                consecutive = decodeSlots[i] == decodeSlots[0] + i;
            if (consecutive)
                DecodeFirstSlot = decodeSlots[0];
            else
                DecodeSlots = tensor(decodeSlots.ToArray(), dtype: ScalarType.Int64).DetachFromDisposeScope(); // [B]
            var pos = tensor(decodePositions.ToArray(), dtype: ScalarType.Int64).unsqueeze(1);              // [B, 1]
            using var end = DecodeMaxLength.ToScalar();
            var j = arange(HeldScalars.Zero, end, HeldScalars.One, dtype: ScalarType.Int64).unsqueeze(0); // [1, L]
            DecodeMask = Mask(j, pos, window).view(DecodeCount, 1, 1, DecodeMaxLength).DetachFromDisposeScope(); // [B, 1, 1, L]
        }
    }

    /// <summary>True where key position j must not be seen from query position p: j &gt; p, or j &lt;= p - window.</summary>
    private static Tensor Mask(Tensor j, Tensor p, int? window)
    {
        var masked = j > p;
        if (window is not { } w)
            return masked;
        using var width = w.ToScalar(); // held across the call, never left to the finalizer
        return masked.logical_or(j <= p - width);
    }

    public int DecodeCount { get; }
    public long DecodeMaxLength { get; }
    public Tensor? DecodeRows { get; }
    /// <summary>The first decode slot when the decode slots are consecutive (always so for one sequence): the cache rows are then a view, not a gather.</summary>
    public long? DecodeFirstSlot { get; }
    /// <summary>The decode slots to gather when they are not consecutive (null when <see cref="DecodeFirstSlot"/> is set).</summary>
    public Tensor? DecodeSlots { get; }
    public Tensor? DecodeMask { get; }
    public Tensor?[] PrefillMasks { get; }

    public void Dispose()
    {
        DecodeRows?.Dispose();
        DecodeSlots?.Dispose();
        DecodeMask?.Dispose();
        foreach (var m in PrefillMasks)
            m?.Dispose();
    }
}
