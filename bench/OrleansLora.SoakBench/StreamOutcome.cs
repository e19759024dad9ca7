namespace OrleansLora.SoakBench;

/// <summary>How one streaming request ended.</summary>
internal enum StreamOutcome
{
    /// <summary>The stream ended as the protocol says: a finish and usage (OpenAI, then [DONE]) or the final event with details (LoRAX).</summary>
    Completed,

    /// <summary>429 queue_full before the stream started.</summary>
    RateLimited,

    /// <summary>A 5xx status, or an error event of a 5xx kind (server_error, service_unavailable_error) after the stream started.</summary>
    ServerError,

    /// <summary>Any other 4xx, or an error event of a 4xx kind.</summary>
    ClientError,

    /// <summary>The stream stopped without its end or an error event (connection closed or reset, truncated body): a lost stream.</summary>
    Dropped,
}
