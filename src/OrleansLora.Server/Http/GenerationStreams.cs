using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OrleansLora.Generation;
using OrleansLora.Grains;

namespace OrleansLora.Server.Http;

/// <summary>
/// The samples of one request (OpenAI's <c>n</c>, <c>best_of</c>): one generation per sample on the same adapter grain,
/// all started before the answer begins, so an error before the first token still has its own status. Each sample is
/// its own sequence in the engine, sampled with its own seed; their requests share a prefix group, so the engine prefills
/// the prompt once and copies its keys and values to the others (<c>GenerationRequest.PrefixGroup</c>). Stopping one stops them all.
/// </summary>
public sealed class GenerationStreams : IAsyncDisposable
{
    private readonly GenerationStream[] _streams;
    private readonly CancellationTokenSource _stop;

    private GenerationStreams(GenerationStream[] streams, CancellationTokenSource stop)
    {
        _streams = streams;
        _stop = stop;
    }

    public int Count => _streams.Length;

    /// <summary>Starts every request (sample i is <paramref name="requests"/>[i]); when one fails, the others are stopped.</summary>
    public static async Task<GenerationStreams> StartAsync(IAdapterGrain grain, IReadOnlyList<GenerateRequest> requests, TimeSpan acceptTimeout, CancellationToken cancellationToken)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var starts = requests.Select(r => GenerationStream.StartAsync(grain, r, acceptTimeout, stop.Token)).ToArray();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            await stop.CancelAsync();
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
                await start.Result.DisposeAsync();
            stop.Dispose();
            throw;
        }
        return new GenerationStreams(starts.Select(s => s.Result).ToArray(), stop);
    }

    /// <summary>Every sample read to its end, in sample order.</summary>
    public async Task<GenerationResult[]> ReadToEndAsync()
    {
        var reads = _streams.Select(s => s.ReadToEndAsync()).ToArray();
        try
        {
            return await Task.WhenAll(reads);
        }
        catch
        {
            await StopAsync(reads);
            throw;
        }
    }

    /// <summary>
    /// The chunks of every sample as they arrive, each with its sample's index; each sample's final chunk is the last of
    /// its own. A sample's error ends the whole sequence with that error (and stops the other samples).
    /// </summary>
    public async IAsyncEnumerable<(int Index, GenerateChunk Chunk)> ReadAllAsync()
    {
        if (_streams.Length == 1)
        {
            await foreach (var chunk in _streams[0].ReadAllAsync())
                yield return (0, chunk);
            yield break;
        }
        var merged = Channel.CreateUnbounded<(int, GenerateChunk)>(new UnboundedChannelOptions { SingleReader = true });
        async Task Pump(int index)
        {
            try
            {
                await foreach (var chunk in _streams[index].ReadAllAsync())
                    merged.Writer.TryWrite((index, chunk));
            }
            catch (Exception ex)
            {
                merged.Writer.TryComplete(ex); // at once: the reader stops the other samples rather than waiting for them
            }
        }
        var pumps = Enumerable.Range(0, _streams.Length).Select(Pump).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            await foreach (var item in merged.Reader.ReadAllAsync())
                yield return item;
        }
        finally
        {
            // Read to the end, failed or abandoned: no pump may still be reading when the streams are disposed.
            await StopAsync(pumps);
        }
    }

    private async Task StopAsync(Task[] readers)
    {
        if (readers.All(r => r.IsCompleted))
            return;
        await _stop.CancelAsync();
        await Task.WhenAll(readers).ContinueWith(_ => { }, TaskScheduler.Default); // their errors are the cancellation's
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams)
            await stream.DisposeAsync();
        _stop.Dispose();
    }
}
