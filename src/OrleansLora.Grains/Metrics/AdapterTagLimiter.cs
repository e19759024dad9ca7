using System.Collections.Concurrent;

namespace OrleansLora.Grains.Metrics;

/// <summary>
/// Bounds the <c>adapter</c> tag's cardinality: the first <c>max</c> distinct ids a silo sees keep their
/// own tag (first come, first served, for the silo's lifetime); every later id becomes <see cref="OtherTag"/>.
/// </summary>
public sealed class AdapterTagLimiter(int max)
{
    public const string OtherTag = "_other";
    public const string BaseTag = "_base";

    /// <summary>Requests naming an adapter that is not registered: tagged alike, so bad names cannot use up the tags.</summary>
    public const string UnknownTag = "_unknown";

    private readonly ConcurrentDictionary<string, byte> _tagged = new(StringComparer.Ordinal);
    private int _count;

    public string Tag(string adapterId)
    {
        if (adapterId == OrleansLora.Adapters.AdapterIds.BaseModel)
            return BaseTag;
        if (_tagged.ContainsKey(adapterId))
            return adapterId;
        if (Interlocked.Increment(ref _count) <= max)
        {
            _tagged.TryAdd(adapterId, 0);
            return adapterId;
        }
        Interlocked.Decrement(ref _count);
        return OtherTag;
    }
}
