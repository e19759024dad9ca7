using Orleans.Concurrency;
using OrleansLora.Adapters;
using OrleansLora.Generation;

namespace OrleansLora.Grains;

/// <summary>
/// One LoRA adapter as a virtual actor (key: the adapter id, <see cref="AdapterIds.BaseModel"/> for the
/// base model alone). Its activation pins the adapter's weights into a device on its own silo and
/// unpins them when it deactivates; a deactivated adapter comes back on the next call.
/// </summary>
public interface IAdapterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Streams a generation: text deltas and token ids, the last chunk with the finish reason and usage.
    /// Cancelling the token (or disposing the enumerator) frees the sequence in the engine.
    /// </summary>
    IAsyncEnumerable<GenerateChunk> Generate(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tokenizes a text or chat prompt with the tokenizer and chat template a generation on this adapter uses (vLLM's
    /// <c>/tokenize</c>). Runs on the adapter's worker silo, which holds the tokenizer; a bad prompt is
    /// <see cref="Errors.InvalidRequestException"/>.
    /// </summary>
    Task<TokenizeResult> Tokenize(TokenizeQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decodes token ids with this adapter's tokenizer, special tokens kept (vLLM's <c>/detokenize</c>); an id outside the
    /// vocabulary is <see cref="Errors.InvalidRequestException"/> naming it (<c>tokens[i]</c>).
    /// </summary>
    Task<string> Detokenize(IReadOnlyList<int> tokens, CancellationToken cancellationToken = default);

    /// <summary>Registers (or re-registers) the adapter from the adapter store; validates it on a worker silo.</summary>
    Task<AdapterDescription> Register(AdapterRegistration registration);

    /// <summary>
    /// Registers the adapter from the adapter store unless the id is already registered: an existing
    /// registration from the same source is kept and described, one from another source is refused with
    /// <see cref="Errors.AdapterConflictException"/>. What requests without admin rights may do (LoRAX's
    /// local source); checked and written in one grain turn, so concurrent requests cannot race it.
    /// </summary>
    Task<AdapterDescription> RegisterIfNew(AdapterRegistration registration);

    /// <summary>The adapter's configuration, placement and counters. Throws <see cref="Errors.AdapterNotFoundException"/> when unknown.</summary>
    [AlwaysInterleave]
    Task<AdapterDescription> Describe();

    /// <summary>Unpins the weights, forgets the registration and deactivates.</summary>
    Task Unload();

    /// <summary>Asks the adapter to migrate when idle to wherever placement chooses (it stays when placement chooses its silo).</summary>
    [AlwaysInterleave, OneWay]
    Task Shed();

    /// <summary>
    /// Asks the adapter to migrate to <paramref name="target"/> when idle (its requests finish where they run): how a
    /// saturated device sheds work and how an overloaded silo rebalances request load. Ignored when the target has no devices.
    /// </summary>
    [AlwaysInterleave, OneWay]
    Task Move(SiloAddress target);
}
