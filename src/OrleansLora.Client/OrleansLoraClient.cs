using System.Runtime.CompilerServices;
using System.Text;
using OrleansLora.Adapters;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Client;

/// <summary>
/// Typed access to the cluster: generate (whole or streamed) on an adapter or the base model, and manage
/// adapters. Thread-safe; one per process (a DI singleton).
/// </summary>
/// <param name="acceptTimeout">How long a generation waits for its adapter grain's acknowledgement
/// (<see cref="GenerationStart"/>); null: <see cref="GenerationStart.DefaultAcceptTimeout"/>.</param>
public sealed class OrleansLoraClient(IClusterClient cluster, TimeSpan? acceptTimeout = null)
{
    /// <summary>Streamed chunks are batched per grain call up to this many (fewer round trips under load).</summary>
    public const int StreamBatchSize = 16;

    /// <summary>Streams a generation; <paramref name="adapterId"/> null or empty for the base model.</summary>
    /// <exception cref="Errors.InvalidRequestException">A field of <paramref name="request"/> is out of range (named as the OpenAI API names it); nothing was sent.</exception>
    public IAsyncEnumerable<GenerateChunk> StreamAsync(string? adapterId, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        GenerateRequestValidator.Validate(request);
        return Stream(adapterId, request, cancellationToken);
    }

    private async IAsyncEnumerable<GenerateChunk> Stream(string? adapterId, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var grain = Adapter(adapterId);
        await using var chunks = await GenerationStart.StartAsync(grain, request, StreamBatchSize, acceptTimeout ?? GenerationStart.DefaultAcceptTimeout, cancellationToken);
        while (await chunks.MoveNextAsync())
            yield return chunks.Current;
    }

    /// <summary>Runs a generation to the end and returns its text and usage.</summary>
    public async Task<GenerateResult> GenerateAsync(string? adapterId, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        await foreach (var chunk in StreamAsync(adapterId, request, cancellationToken))
        {
            text.Append(chunk.TextDelta);
            tokens.AddRange(chunk.TokenIds);
            if (chunk.IsFinal)
                return new GenerateResult(text.ToString(), tokens, chunk.FinishReason!.Value, chunk.Usage!);
        }
        throw new InvalidOperationException("the generation stream ended without a final chunk.");
    }

    /// <summary>Every registered adapter (and every directory of the adapter store), by id.</summary>
    public Task<IReadOnlyList<AdapterRegistration>> ListAdaptersAsync() => cluster.GetGrain<IAdapterCatalogGrain>(0).List();

    public Task<AdapterDescription> DescribeAdapterAsync(string adapterId) => cluster.GetGrain<IAdapterGrain>(adapterId).Describe();

    /// <summary>Registers an adapter whose weights are at <paramref name="source"/> under the silos' adapter store (default: the id).</summary>
    public Task<AdapterDescription> RegisterAdapterAsync(string adapterId, string? source = null)
    {
        AdapterIds.Validate(adapterId);
        return cluster.GetGrain<IAdapterGrain>(adapterId).Register(new AdapterRegistration(adapterId, source));
    }

    public Task UnloadAdapterAsync(string adapterId) => cluster.GetGrain<IAdapterGrain>(adapterId).Unload();

    private IAdapterGrain Adapter(string? adapterId)
    {
        if (string.IsNullOrEmpty(adapterId))
            return cluster.GetGrain<IAdapterGrain>(AdapterIds.BaseModel);
        AdapterIds.Validate(adapterId);
        return cluster.GetGrain<IAdapterGrain>(adapterId);
    }
}
