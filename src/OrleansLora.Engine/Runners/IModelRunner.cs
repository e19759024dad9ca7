using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Runners;

/// <summary>
/// The one boundary between scheduling and computation: a model on a device with its KV cache and
/// adapter slots. Above it (<see cref="Generation.InferenceEngine"/>, the scheduler, the sampler, the
/// adapter tiers) everything is plain arrays and ids; below it, tensors and kernels. One
/// implementation per backend (<see cref="CpuModelRunner"/> on TorchSharp; a fake in the tests).
/// </summary>
/// <remarks>
/// Threading: <see cref="InspectAdapter"/> and <see cref="PrepareAdapter"/> may run on any thread, at
/// the same time as anything else (they read files and build host memory). Every other member is
/// called from the engine thread only, between or during steps, never concurrently.
/// </remarks>
public interface IModelRunner : IDisposable
{
    /// <summary>The model's config.json (vocabulary, layers, context length).</summary>
    ModelConfig Config { get; }

    /// <summary>What runs where, for the start-up log: model, dtype, quantization, kernels, device.</summary>
    string Description { get; }

    /// <summary>
    /// The device, its memory and what this runner holds of it, for <c>/info</c> and metrics. Called from any
    /// thread (the load publisher), so it reads only figures that are safe to read during a step.
    /// </summary>
    Devices.DeviceDescription DescribeDevice() => Devices.DeviceDescription.Unknown(GetType().Name);

    /// <summary>Positions one sequence's KV space holds (prompt + generated tokens).</summary>
    int MaxSequenceLength { get; }

    /// <summary>Sequences the KV cache holds at once.</summary>
    int SequenceSlots { get; }

    /// <summary>KV sequence slots free now.</summary>
    int FreeSequenceSlots { get; }

    /// <summary>
    /// A paged KV cache's geometry, or null when each sequence's KV space is one fixed slot. When
    /// set, the engine decides which blocks hold which positions (a <see cref="Caching.KvBlockAllocator"/>)
    /// and names them in <see cref="Modeling.BatchSequence.BlockTable"/>; a sequence slot is then only
    /// a handle, with no memory of its own.
    /// </summary>
    Caching.KvBlockLayout? KvBlocks => null;

    /// <summary>Takes KV space for one sequence of up to <see cref="MaxSequenceLength"/> positions (a paged cache: a handle); false when full.</summary>
    bool TryAllocateSequence(out int slot);

    /// <summary>Gives a sequence's KV space back (its contents are never read again).</summary>
    void FreeSequence(int slot);

    /// <summary>Whether <see cref="CopySequence"/> works here (the CPU runner; not yet the CUDA runner).</summary>
    bool CanCopySequences => false;

    /// <summary>
    /// Copies the keys and values of the first <paramref name="positions"/> positions of sequence slot
    /// <paramref name="source"/> into slot <paramref name="destination"/>: several samples of one prompt share its prefill.
    /// </summary>
    void CopySequence(int source, int destination, int positions) =>
        throw new NotSupportedException($"{GetType().Name} cannot copy KV sequences.");

    /// <summary>
    /// Paged cache (<see cref="KvBlocks"/> set; every such runner implements this): copies whole KV blocks, every
    /// layer's keys and values, for each (source, destination) pair of <paramref name="sourceDestinationPairs"/>, in
    /// order. A sample of a prompt another sample has computed copies the partial block it cannot share.
    /// </summary>
    void CopyKvBlocks(int[] sourceDestinationPairs) =>
        throw new NotSupportedException($"{GetType().Name} has no paged KV cache.");

    /// <summary>Whether <see cref="Forward"/> honours <see cref="ModelBatch.TokenLogits"/> (prompt log-probabilities).</summary>
    bool ReturnsTokenLogits => false;

    /// <summary>Device adapter slots (max_loras); 0: this runner serves the base model only.</summary>
    int AdapterSlots { get; }

    /// <summary>The largest LoRA rank a slot holds.</summary>
    int MaxAdapterRank { get; }

    /// <summary>Validates a PEFT adapter directory against this model (config, weight-file header, names, shapes) without reading the weights.</summary>
    PeftAdapterInfo InspectAdapter(string directory, AdapterLoadOptions options);

    /// <summary>
    /// Reads and validates an adapter's weights (again: the files may have changed since
    /// <see cref="InspectAdapter"/>) into host memory in the layout <see cref="LoadAdapter"/> copies
    /// from. The caller holds one reference and releases it.
    /// </summary>
    HostAdapter PrepareAdapter(string directory, AdapterLoadOptions options);

    /// <summary>Copies a prepared adapter into device slot <paramref name="slot"/>, replacing its occupant.</summary>
    void LoadAdapter(int slot, HostAdapter adapter);

    /// <summary>Empties device slot <paramref name="slot"/>: batches must not name it until the next load.</summary>
    void EvictAdapter(int slot);

    /// <summary>
    /// Runs one forward over <paramref name="batch"/>, writing its keys and values into the
    /// sequences' KV slots, and returns the logits of each sequence's last token (row i for
    /// sequence i; rows of sequences without <see cref="ModelBatch.NeedsLogits"/> may be left
    /// unwritten). The caller disposes the result before the next forward.
    /// </summary>
    ModelLogits Forward(ModelBatch batch);
}
