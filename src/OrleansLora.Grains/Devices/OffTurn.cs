namespace OrleansLora.Grains.Devices;

/// <summary>
/// Runs prompt preparation (chat template, tokenizer) for long prompts off the calling grain's turn. A grain
/// turn is single-threaded: tokenizing a long prompt on it stalls every other call to that adapter (or, on the
/// GPU grain's path, to that device) for as long as the tokenizer runs.
/// </summary>
internal static class OffTurn
{
    /// <summary>
    /// Up to this many characters the work stays on the turn: it takes microseconds, less than the two thread
    /// hops of moving it (and nearly every chat is this short).
    /// </summary>
    public const long InlineChars = 16 * 1024;

    /// <summary>
    /// Long preparations at once per silo: each holds a thread and its tokenizer's working memory, so
    /// a burst of long prompts queues here (asynchronously, holding no thread) instead of taking every core and
    /// the memory of all of them together.
    /// </summary>
    private static readonly SemaphoreSlim Long = new(Math.Max(1, Environment.ProcessorCount / 2));

    public static async ValueTask<T> RunAsync<T>(long chars, Func<T> work, CancellationToken cancellationToken)
    {
        if (chars <= InlineChars)
            return work();
        await Long.WaitAsync(cancellationToken);
        try
        {
            // TaskScheduler.Default, not Current: inside a grain Current is the activation's scheduler, which would
            // put the work right back on the turn. LongRunning: its own thread, so a long tokenization does not hold
            // one of the thread-pool threads Orleans runs every grain turn on.
            return await Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            Long.Release();
        }
    }
}
