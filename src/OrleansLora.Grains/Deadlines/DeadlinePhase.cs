namespace OrleansLora.Grains.Deadlines;

/// <summary>The waits of one request on the serving path, each with its own deadline (<see cref="DeadlineOptions"/>).</summary>
public enum DeadlinePhase
{
    /// <summary>Finding a device on the adapter's silo, validating the adapter, pinning and loading it.</summary>
    Placement,

    /// <summary>From the engine taking the request to its first token: admission (a free batch row and adapter slot) and prefill.</summary>
    FirstToken,

    /// <summary>Between two tokens of a running generation.</summary>
    NextToken,
}
