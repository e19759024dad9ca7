using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// One projection of a <see cref="PreparedAdapter"/> as olora_cuda_model_set_adapter reads it: A bf16
/// <c>[layers, rank, in]</c> and Bᵀ bf16 <c>[layers, rank, out]</c>, contiguous, so layer l's factors start
/// <c>l · rank · in</c> and <c>l · rank · out</c> elements in. The pointers are valid while the adapter is.
/// </summary>
internal readonly unsafe struct CudaAdapterTable
{
    public required int Module { get; init; }      // CudaNative.Lora (= LoraTargetModules.All order)
    public required int Rank { get; init; }
    public required int InFeatures { get; init; }
    public required int OutFeatures { get; init; }
    public required ushort* A { get; init; }
    public required ushort* Bt { get; init; }

    /// <summary>
    /// The adapter's projections, each checked against the layout this runner's <see cref="CudaModelRunner.PrepareAdapter"/>
    /// makes (bf16, contiguous, this model's layers and dimensions): anything else — a float32 adapter of a CPU runner,
    /// another model's — would be read as the wrong bytes, so it is refused naming what differs.
    /// </summary>
    public static List<CudaAdapterTable> Of(PreparedAdapter adapter, ModelConfig config)
    {
        string name = adapter.Info.Name;
        int layers = config.NumHiddenLayers;
        if (adapter.Ranks.GetLength(0) != layers || adapter.Ranks.GetLength(1) != LoraTargetModules.All.Count)
            throw new ArgumentException($"adapter {name} was not prepared by this runner: its rank table is [{adapter.Ranks.GetLength(0)}, {adapter.Ranks.GetLength(1)}], this model has {layers} layers of {LoraTargetModules.All.Count} modules.", nameof(adapter));
        var tables = new List<CudaAdapterTable>();
        foreach (var (module, (a, bt)) in adapter.Modules)
        {
            int index = LoraTargetModules.IndexOf(module);
            if (index < 0)
                throw new ArgumentException($"adapter {name} targets {module}, which the CUDA runner has no slot table for.", nameof(adapter));
            var (inFeatures, outFeatures) = LoraTargetModules.Dimensions(config, module);
            long rank = a.shape.Length == 3 ? a.shape[1] : -1;
            void Require(Tensor t, string factor, long features)
            {
                if (t.dtype != ScalarType.BFloat16 || !t.is_contiguous() || t.shape.Length != 3 || t.shape[0] != layers || t.shape[1] != rank || t.shape[2] != features)
                    throw new ArgumentException(
                        $"adapter {name} was not prepared by this runner: {module} {factor} is {t.dtype} [{string.Join(", ", t.shape)}], the CUDA runner needs contiguous BFloat16 [{layers}, {rank}, {features}].",
                        nameof(adapter));
            }
            Require(a, "A", inFeatures);
            Require(bt, "Bᵀ", outFeatures);
            for (int layer = 0; layer < layers; layer++)
            {
                int r = adapter.Ranks[layer, index];
                if (r != 0 && r != rank)
                    throw new ArgumentException($"adapter {name}: layer {layer} {module} has rank {r} but its tables hold rank {rank}.", nameof(adapter));
            }
            tables.Add(new CudaAdapterTable
            {
                Module = index,
                Rank = (int)rank,
                InFeatures = inFeatures,
                OutFeatures = outFeatures,
                A = (ushort*)TensorMemory.DataPointer(a),
                Bt = (ushort*)TensorMemory.DataPointer(bt),
            });
        }
        return tables;
    }
}
