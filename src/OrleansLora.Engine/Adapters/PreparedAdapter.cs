using static TorchSharp.torch;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// An adapter's weights already in the slot table's layout and dtype — per projection A
/// <c>[layers, r, in]</c> and Bᵀ <c>[layers, r, out]</c> (scaling folded in) — so that moving it
/// into a slot is two strided copies per projection. Built off the engine thread; the host cache
/// keeps these. Reference counted: the cache and a pending slot load may hold it at once, and the
/// last <see cref="Release"/> frees the tensors.
/// </summary>
public sealed class PreparedAdapter
{
    private readonly Dictionary<string, (Tensor A, Tensor Bt)> _modules;
    private int _references = 1;

    private PreparedAdapter(PeftAdapterInfo info, Dictionary<string, (Tensor, Tensor)> modules, int[,] ranks, long bytes)
    {
        Info = info;
        _modules = modules;
        Ranks = ranks;
        ByteSize = bytes;
    }

    public PeftAdapterInfo Info { get; }
    public int Rank => Info.Rank;
    /// <summary>Rank per [layer, module] (<see cref="LoraTargetModules.All"/> order); 0 where the adapter leaves a projection alone.</summary>
    internal int[,] Ranks { get; }
    /// <summary>Bytes of the prepared tensors.</summary>
    public long ByteSize { get; }

    /// <summary>The projections present and their stacked factors.</summary>
    internal IEnumerable<KeyValuePair<string, (Tensor A, Tensor Bt)>> Modules => _modules;

    /// <summary>Stacks a loaded adapter's factors by layer (Bᵀ transposed once here, not per slot load) in <paramref name="dtype"/>.</summary>
    public static PreparedAdapter From(PeftAdapter adapter, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        int layers = adapter.NumLayers, r = adapter.Rank;
        var ranks = new int[layers, LoraTargetModules.All.Count];
        var modules = new Dictionary<string, (Tensor, Tensor)>(StringComparer.Ordinal);
        long bytes = 0;
        try
        {
            foreach (var group in adapter.Weights.GroupBy(w => w.Module))
            {
                var first = group.First();
                var a = zeros([layers, r, first.InFeatures], dtype).DetachFromDisposeScope();   // [layers, r, in]
                var bt = zeros([layers, r, first.OutFeatures], dtype).DetachFromDisposeScope(); // [layers, r, out]
                modules[group.Key] = (a, bt);
                foreach (var w in group)
                {
                    using var aRow = a[w.Layer];
                    using var btRow = bt[w.Layer];
                    using var wBt = w.B.t();
                    aRow.copy_(w.A);
                    btRow.copy_(wBt);
                    ranks[w.Layer, LoraTargetModules.IndexOf(w.Module)] = w.Rank;
                }
                bytes += (a.NumberOfElements + bt.NumberOfElements) * a.ElementSize;
            }
        }
        catch
        {
            foreach (var (a, bt) in modules.Values)
            {
                a.Dispose();
                bt.Dispose();
            }
            throw;
        }
        return new PreparedAdapter(adapter.Info, modules, ranks, bytes);
    }

    /// <summary>Takes another reference; false when the tensors are already freed.</summary>
    internal bool TryRetain()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            if (current == 0)
                return false;
        }
        while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
        return true;
    }

    /// <summary>Drops a reference; the last one frees the tensors.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left < 0)
            throw new InvalidOperationException($"adapter {Info.Name} was released more often than retained.");
        if (left > 0)
            return;
        foreach (var (a, bt) in _modules.Values)
        {
            a.Dispose();
            bt.Dispose();
        }
    }
}
