using OrleansLora.Errors;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>POST /generate and /generate_stream.</summary>
public sealed record LoraxGenerateRequest : IValidatedRequest
{
    public string? Inputs { get; init; }
    public LoraxParameters? Parameters { get; init; }

    /// <summary>LoRAX's (TGI's) ranges: sampling parameters strictly positive, top_p strictly inside (0, 1).</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Inputs))
            throw new InvalidRequestException("inputs is required and must not be empty.", "inputs");
        if (Parameters is not { } p)
            return;
        string source = string.IsNullOrEmpty(p.AdapterSource) ? "hub" : p.AdapterSource;
        if (source is not ("hub" or "local"))
            throw new InvalidRequestException($"parameters.adapter_source {FieldChecks.Quote(source)} is not supported: use \"local\" (a path under the adapter store) or \"hub\" (an adapter id).", "parameters.adapter_source");
        FieldChecks.Above(p.Temperature, "parameters.temperature", 0);
        if (p.TopK is <= 0)
            throw new InvalidRequestException($"parameters.top_k must be > 0, got {p.TopK}.", "parameters.top_k");
        FieldChecks.Range(p.TopP, "parameters.top_p", 0, 1, minIncluded: false, maxIncluded: false);
        FieldChecks.Above(p.RepetitionPenalty, "parameters.repetition_penalty", 0);
        FieldChecks.AtLeast(p.MaxNewTokens, "parameters.max_new_tokens", 1);
        FieldChecks.Stops(p.Stop, "parameters.stop", int.MaxValue);
    }
}
