using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansLora.SoakBench;

/// <summary>
/// One wave: <c>streams</c> loops, each sending one streaming request after another for the wave's duration, loop i
/// on model i mod M (then the next model each request) and on LoRAX for the configured share of loops. When the time
/// is up no loop starts a request; the ones in flight finish.
/// </summary>
internal static class Wave
{
    public static async Task<WaveResult> RunAsync(SoakClient client, SoakOptions options, IReadOnlyList<string> models, int wave, CancellationToken cancellationToken)
    {
        var results = new ConcurrentBag<StreamResult>();
        var clock = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(options.Seconds);
        int loraxLoops = (int)Math.Round(options.Streams * options.LoraxShare);
        int next = wave * 1_000_000;
        var loops = Enumerable.Range(0, options.Streams).Select(loop => Task.Run(async () =>
        {
            // Exactly loraxLoops of the loops, spread evenly over them.
            bool lorax = loop * loraxLoops / options.Streams != (loop + 1) * loraxLoops / options.Streams;
            for (int n = 0; clock.Elapsed < until; n++)
            {
                string model = models[(loop + n) % models.Count];
                results.Add(await client.RunAsync(model, lorax, Interlocked.Increment(ref next), cancellationToken));
            }
        }, cancellationToken)).ToList();
        await Task.WhenAll(loops);
        return WaveResult.From(wave, results.ToList(), clock.Elapsed);
    }
}
