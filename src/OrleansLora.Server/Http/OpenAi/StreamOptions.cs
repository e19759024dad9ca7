namespace OrleansLora.Server.Http.OpenAi;

/// <summary><c>stream_options</c>: <c>include_usage</c> adds a last chunk with the usage and no choices.</summary>
public sealed record StreamOptions
{
    public bool IncludeUsage { get; init; }
}
