using OrleansLora.Engine.Models;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// The float32 activation buffers of a decode step (one row per sequence), allocated once for the largest batch seen
/// and reused by every layer of every step, with the views of each row count made once: after the first step of a
/// batch size, the layers allocate no tensor, not even a view. The engine runs a model's forwards on one thread, so
/// one workspace per model is enough; <see cref="LlamaModel"/> sends a forward that finds it in use down the general
/// path. It never shrinks: a model that once decoded 256 sequences keeps 256 rows, about 60 KiB a row on the small
/// preset (hidden 1024) and 0.53 MiB at hidden 8192 with an MLP of 28672 (136 MiB for 256 rows).
/// </summary>
internal sealed class DecodeWorkspace(ModelConfig config) : IDisposable
{
    // A step of more rows than this is prefill-sized work: its temporaries cost little next to its compute.
    public const int MaxRows = 256;

    private readonly long _hidden = config.HiddenSize;
    private readonly long _qWidth = (long)config.NumAttentionHeads * config.HeadDim;
    private readonly long _kvWidth = (long)config.NumKeyValueHeads * config.HeadDim;
    private readonly long _intermediate = config.IntermediateSize;
    private Tensor[] _storage = [];
    private DecodeBuffers?[] _views = [];

    /// <summary>Buffers of <paramref name="rows"/> rows (1 to <see cref="MaxRows"/>), growing the storage when needed.</summary>
    public DecodeBuffers For(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, MaxRows);
        if (rows > _views.Length)
            Grow(Math.Min(MaxRows, Math.Max(rows, 2 * _views.Length)));
        return _views[rows - 1] ??= Views(rows);
    }

    /// <summary>Sets every buffer to <paramref name="value"/> (tests poison them with NaN before a step).</summary>
    internal void Fill(float value)
    {
        foreach (var t in _storage)
            t.fill_(value);
    }

    private void Grow(int capacity)
    {
        Dispose();
        long qkvWidth = _qWidth + 2 * _kvWidth;
        // Residual stream, normed rows, stacked q/k/v, attention output, its projection, stacked gate/up, SwiGLU, MLP output.
        long[] widths = [_hidden, _hidden, qkvWidth, _qWidth, _hidden, 2 * _intermediate, _intermediate, _hidden];
        _storage = [.. widths.Select(w => empty(capacity, w, dtype: ScalarType.Float32).DetachFromDisposeScope())];
        _views = new DecodeBuffers?[capacity];
    }

    private DecodeBuffers Views(int rows)
    {
        Tensor Rows(int i) => _storage[i].narrow(0, 0, rows).DetachFromDisposeScope();
        Tensor Columns(Tensor t, long start, long width) => t.narrow(1, start, width).DetachFromDisposeScope();
        var qkv = Rows(2);
        var gateUp = Rows(5);
        return new DecodeBuffers(Rows(0), Rows(1), qkv,
            Columns(qkv, 0, _qWidth), Columns(qkv, _qWidth, _kvWidth), Columns(qkv, _qWidth + _kvWidth, _kvWidth),
            Rows(3), Rows(4), gateUp, Columns(gateUp, 0, _intermediate), Columns(gateUp, _intermediate, _intermediate),
            Rows(6), Rows(7));
    }

    public void Dispose()
    {
        foreach (var v in _views)
            v?.Dispose();
        foreach (var t in _storage)
            t.Dispose();
        _views = [];
        _storage = [];
    }
}
