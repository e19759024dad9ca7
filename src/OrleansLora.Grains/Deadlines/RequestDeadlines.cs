using Microsoft.Extensions.Options;

namespace OrleansLora.Grains.Deadlines;

/// <summary>
/// Makes the <see cref="RequestDeadline"/>s of the silo's requests from <see cref="DeadlineOptions"/> on one clock
/// (a DI singleton: tests give it a fake clock to expire a deadline without waiting for it).
/// </summary>
public sealed class RequestDeadlines(IOptions<DeadlineOptions> options, TimeProvider time)
{
    public DeadlineOptions Options => options.Value;

    /// <summary>A deadline whose token also follows <paramref name="caller"/>; nothing runs until <see cref="RequestDeadline.Start"/>.</summary>
    internal RequestDeadline Create(CancellationToken caller) => new(options.Value, time, caller);
}
