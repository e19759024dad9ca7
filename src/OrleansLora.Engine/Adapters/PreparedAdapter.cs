using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Runners;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// An adapter's weights already in the slot table's layout and dtype — per projection A
/// <c>[layers, r, in]</c> and Bᵀ <c>[layers, r, out]</c> (scaling folded in) — so that moving it
/// into a slot is two strided copies per projection. Built off the engine thread; the host cache
/// keeps these. Reference counted: the cache and a pending slot load may hold it at once, and the
/// last <see cref="Release"/> frees the tensors.
/// </summary>
public sealed class PreparedAdapter : HostAdapter
{
    private readonly Dictionary<string, (Tensor A, Tensor Bt)> _modules;

    private PreparedAdapter(PeftAdapterInfo info, Dictionary<string, (Tensor, Tensor)> modules, int[,] ranks, long bytes)
        : base(info, bytes)
    {
        _modules = modules;
        Ranks = ranks;
    }

    /// <summary>Rank per [layer, module] (<see cref="LoraTargetModules.All"/> order); 0 where the adapter leaves a projection alone.</summary>
    internal int[,] Ranks { get; }
    /// <summary>The projections present and their stacked factors.</summary>
    internal IEnumerable<KeyValuePair<string, (Tensor A, Tensor Bt)>> Modules => _modules;

    /// <summary>Stacks a loaded adapter's factors by layer (Bᵀ transposed once here, not per slot load) in <paramref name="dtype"/>.</summary>
    public static PreparedAdapter From(PeftAdapter adapter, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        // The loaded B already has the scaling folded in.
        return Stack(adapter.Info, adapter.NumLayers, adapter.Weights.Select(w => (w.Layer, w.Module, w.A, w.B)), 1.0, dtype);
    }

    /// <summary>
    /// Reads a PEFT adapter straight into the slot layout: validated as <see cref="PeftAdapter.Load"/>
    /// does (the files may have changed since registration), its weights read with one file read,
    /// then per projection and layer one native strided copy for A and one for Bᵀ (scaling folded
    /// in, dtype converted), on the calling thread: the cold-load path, no per-tensor allocations.
    /// </summary>
    public static PreparedAdapter Load(string directory, ModelConfig baseModel, ScalarType dtype, AdapterLoadOptions? options = null)
    {
        options ??= new AdapterLoadOptions();
        var (info, file, found) = PeftAdapter.Open(directory, baseModel, options);
        using (file)
        using (NewDisposeScope())
        {
            var flat = file.ReadFlat(found.Values, out long dataOffset);
            if (flat is not null && flat.dtype == ScalarType.Float16)
                flat = flat.to(ScalarType.Float32); // the native copy reads float32 and bfloat16
            // Each factor is checked (finite, within MaxAbsWeight) before it is stacked: the files
            // may have changed since registration checked them.
            Tensor Factor(SafetensorsTensorInfo t, bool isB)
            {
                Tensor factor;
                if (flat is not null)
                {
                    factor = SafetensorsFile.ViewOf(flat, dataOffset, t);
                }
                else
                {
                    var read = file.Read(t);
                    factor = read.dtype == ScalarType.Float16 ? read.to(ScalarType.Float32) : read;
                }
                AdapterWeightCheck.Check(file.Path, t, factor, info.Config, isB, options.MaxAbsWeight);
                return factor;
            }
            var factors = found.Keys.Where(k => !k.IsB).Select(k => (k.Layer, k.Module, Factor(found[k], isB: false), Factor(found[(k.Layer, k.Module, true)], isB: true)));
            return Stack(info, baseModel.NumHiddenLayers, factors, info.Config.Scaling, dtype);
        }
    }

    /// <summary>
    /// Stacks factors A <c>[r, in]</c> and B <c>[out, r]</c> (float32 or bfloat16) into per-projection
    /// A <c>[layers, r, in]</c> and Bᵀ <c>[layers, r, out]</c> of <paramref name="dtype"/>, B scaled by
    /// <paramref name="scale"/> in float32 before any rounding to <paramref name="dtype"/>. Layers an
    /// adapter skips keep rank 0: their rows are never read, so they are left unwritten.
    /// </summary>
    private static PreparedAdapter Stack(PeftAdapterInfo info, int layers, IEnumerable<(int Layer, string Module, Tensor A, Tensor B)> factors, double scale, ScalarType dtype)
    {
        int r = info.Rank;
        var ranks = new int[layers, LoraTargetModules.All.Count];
        var modules = new Dictionary<string, (Tensor, Tensor)>(StringComparer.Ordinal);
        long bytes = 0;
        try
        {
            foreach (var group in factors.GroupBy(f => f.Module))
            {
                var (_, _, firstA, firstB) = group.First();
                var a = empty([layers, r, firstA.shape[1]], dtype).DetachFromDisposeScope();   // [layers, r, in]
                var bt = empty([layers, r, firstB.shape[0]], dtype).DetachFromDisposeScope();  // [layers, r, out]
                modules[group.Key] = (a, bt);
                foreach (var (layer, _, fa, fb) in group)
                {
                    using var aRow = a[layer];
                    using var btRow = bt[layer];
                    using var fbT = fb.t();
                    StridedCopy.Copy(fa, aRow);
                    StridedCopy.Copy(fbT, btRow, (float)scale);
                    ranks[layer, LoraTargetModules.IndexOf(group.Key)] = r;
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
        return new PreparedAdapter(info, modules, ranks, bytes);
    }

    protected override void Free()
    {
        foreach (var (a, bt) in _modules.Values)
        {
            a.Dispose();
            bt.Dispose();
        }
    }
}
