namespace OrleansLora.Server.Http.Lorax;

/// <summary>POST /generate and /generate_stream.</summary>
public sealed record LoraxGenerateRequest
{
    public string? Inputs { get; init; }
    public LoraxParameters? Parameters { get; init; }
}
