using Orleans.Runtime;
using OrleansLora.Grains;

namespace OrleansLora.Generation;

/// <summary>
/// Starts a generation on an adapter grain and waits, for at most an acceptance timeout, for the grain's
/// <see cref="GenerateChunk.IsAcceptance"/> chunk, which it sends as soon as it holds the request. A request lost on
/// its way (sent or forwarded to a silo that died or hangs before answering) otherwise waits for Orleans' response
/// timeout, minutes, with no grain-side deadline to end it; with the acknowledgement missing it fails fast with a
/// <see cref="SiloUnavailableException"/> (HTTP 503 with Retry-After), which a retry sends to a live activation.
/// </summary>
public static class GenerationStart
{
    /// <summary>Delivery and activation only: placement, queueing and prefill come after the acknowledgement.</summary>
    public static readonly TimeSpan DefaultAcceptTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long disposing the enumerator may wait for the grain's side. Disposal is a grain call to the enumeration's
    /// activation; when that silo died or hangs it may not answer for minutes, and the request it belongs to has
    /// already ended (its error or last chunk is known). Orleans' own expiry cleans up a remote enumerator left behind.
    /// </summary>
    public static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The grain's chunks after its acknowledgement (consumed here), or the error the grain or the messaging raised
    /// before it. The caller disposes the enumerator.
    /// </summary>
    public static async Task<IAsyncEnumerator<GenerateChunk>> StartAsync(IAdapterGrain grain, GenerateRequest request, int batchSize, TimeSpan acceptTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grain);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(acceptTimeout, TimeSpan.Zero);
        // The enumerator's token is the caller's plus ours, so an abandoned call is also cancelled in Orleans.
        var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var chunks = grain.Generate(request, abandon.Token).WithBatchSize(batchSize).GetAsyncEnumerator(abandon.Token);
        var first = chunks.MoveNextAsync().AsTask();
        bool any;
        try
        {
            // WaitAsync, not only the token: a call whose response will never come must not hold this caller.
            any = await first.WaitAsync(acceptTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await abandon.CancelAsync();
            _ = Abandon(chunks, first, abandon);
            throw new SiloUnavailableException(
                $"adapter grain {grain.GetPrimaryKeyString()} did not acknowledge the request within {acceptTimeout.TotalSeconds:0.#} s: a silo on its way is unavailable");
        }
        catch
        {
            await DisposeWithin(chunks, abandon);
            throw;
        }
        if (any && chunks.Current.IsAcceptance)
            return new Accepted(chunks, abandon);
        // A grain that sends no acknowledgement (none does today): its first chunk is the caller's.
        return new Accepted(chunks, abandon, replayCurrent: any);
    }

    /// <summary>Disposes the enumerator, waiting at most <see cref="DisposeWait"/>; past it the call is cancelled and left to finish on its own.</summary>
    private static async ValueTask DisposeWithin(IAsyncEnumerator<GenerateChunk> chunks, CancellationTokenSource abandon)
    {
        var dispose = chunks.DisposeAsync().AsTask();
        try
        {
            await dispose.WaitAsync(DisposeWait);
            abandon.Dispose();
        }
        catch (TimeoutException)
        {
            await abandon.CancelAsync();
            _ = dispose.ContinueWith(t => { _ = t.Exception; abandon.Dispose(); }, TaskScheduler.Default);
        }
    }

    // The hung call finishes (or fails) whenever Orleans gives up on it; nobody waits for it.
    private static async Task Abandon(IAsyncEnumerator<GenerateChunk> chunks, Task<bool> first, CancellationTokenSource abandon)
    {
        try
        {
            await first;
        }
        catch
        {
            // the call was abandoned: its outcome has no reader
        }
        try
        {
            await chunks.DisposeAsync();
        }
        catch
        {
            // the enumeration's grain may be gone
        }
        abandon.Dispose();
    }

    /// <summary>The grain's enumerator past the acknowledgement; disposing it also frees the linked token.</summary>
    private sealed class Accepted(IAsyncEnumerator<GenerateChunk> inner, CancellationTokenSource abandon, bool replayCurrent = false) : IAsyncEnumerator<GenerateChunk>
    {
        private bool _replay = replayCurrent;

        public GenerateChunk Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            if (!_replay)
                return inner.MoveNextAsync();
            _replay = false;
            return ValueTask.FromResult(true);
        }

        public ValueTask DisposeAsync() => DisposeWithin(inner, abandon);
    }
}
