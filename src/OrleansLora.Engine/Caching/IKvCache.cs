namespace OrleansLora.Engine.Caching;

/// <summary>
/// Where attention keeps keys and values: fixed sequence slots (<see cref="KvCache"/>) or blocks
/// read through block tables (<see cref="PagedKvCache"/>).
/// </summary>
public interface IKvCache : IDisposable
{
    /// <summary>Positions one sequence may reach.</summary>
    int MaxSequenceLength { get; }
}
