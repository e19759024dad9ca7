using System.Text;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Server.Http;

/// <summary>
/// A generation on an adapter grain whose first chunk has arrived: errors the cluster raises before the first
/// token (unknown adapter, prompt too long, queue full, no capacity) surface from <see cref="StartAsync"/>,
/// while the HTTP status can still say so. Cancelling the token (a dropped connection) stops the generation.
/// </summary>
public sealed class GenerationStream : IAsyncDisposable
{
    /// <summary>Chunks per grain call when the stream runs ahead of the reader (as the .NET client does).</summary>
    public const int BatchSize = 16;

    private readonly IAsyncEnumerator<GenerateChunk> _chunks;
    private GenerateChunk? _first;

    private GenerationStream(IAsyncEnumerator<GenerateChunk> chunks, GenerateChunk? first)
    {
        _chunks = chunks;
        _first = first;
    }

    /// <param name="acceptTimeout">How long the grain may take to acknowledge the request (<see cref="GenerationStart"/>).</param>
    public static async Task<GenerationStream> StartAsync(IAdapterGrain grain, GenerateRequest request, TimeSpan acceptTimeout, CancellationToken cancellationToken)
    {
        var chunks = await GenerationStart.StartAsync(grain, request, BatchSize, acceptTimeout, cancellationToken);
        try
        {
            var first = await chunks.MoveNextAsync() ? chunks.Current : null;
            return new GenerationStream(chunks, first);
        }
        catch
        {
            await chunks.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every chunk, the first included; the last carries the finish reason and usage.</summary>
    public async IAsyncEnumerable<GenerateChunk> ReadAllAsync()
    {
        if (_first is { } first)
        {
            _first = null;
            yield return first;
            if (first.IsFinal)
                yield break;
            while (await _chunks.MoveNextAsync())
            {
                yield return _chunks.Current;
                if (_chunks.Current.IsFinal)
                    yield break;
            }
        }
        throw new InvalidOperationException("the generation stream ended without a final chunk.");
    }

    /// <summary>Reads the rest of the stream: the whole text, the log-probabilities when asked, the finish reason and usage.</summary>
    public async Task<GenerationResult> ReadToEndAsync()
    {
        var text = new StringBuilder();
        var logprobs = new List<GeneratedLogprobs>();
        IReadOnlyList<GeneratedLogprobs>? promptLogprobs = null;
        int tokens = 0;
        await foreach (var chunk in ReadAllAsync())
        {
            promptLogprobs ??= chunk.PromptLogprobs;
            text.Append(chunk.TextDelta);
            tokens += chunk.TokenIds.Count;
            if (chunk.Logprobs is { } l)
                logprobs.AddRange(l);
            if (chunk.IsFinal)
                return new GenerationResult(text.ToString(), logprobs, chunk.FinishReason!.Value, chunk.Usage ?? new GenerateUsage(0, tokens, 0)) { PromptLogprobs = promptLogprobs };
        }
        throw new InvalidOperationException("the generation stream ended without a final chunk.");
    }

    public ValueTask DisposeAsync() => _chunks.DisposeAsync();
}
