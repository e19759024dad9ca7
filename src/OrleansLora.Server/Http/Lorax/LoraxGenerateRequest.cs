using OrleansLora.Errors;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>POST /generate and /generate_stream.</summary>
public sealed record LoraxGenerateRequest : IValidatedRequest
{
    public string? Inputs { get; init; }
    public LoraxParameters? Parameters { get; init; }

    /// <summary>The most alternatives <c>top_n_tokens</c> lists (the engine's limit; TGI's default limit is 5).</summary>
    public const int MaxTopNTokens = 20;

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
        FieldChecks.Stops(p.Stop, "parameters.stop", int.MaxValue);
        FieldChecks.ObjectOrNull(p.ResponseFormat, "parameters.response_format");
        if (p.TopNTokens is < 0 or > MaxTopNTokens)
            throw new InvalidRequestException($"parameters.top_n_tokens must be in [0, {MaxTopNTokens}], got {p.TopNTokens}.", "parameters.top_n_tokens");
        if (FieldChecks.IsSet(p.AdapterParameters))
            throw new InvalidRequestException("parameters.adapter_parameters (merging several adapters per request) is not supported: name one adapter in adapter_id.", "parameters.adapter_parameters");
        if (p.TypicalP is not null)
            throw new InvalidRequestException("parameters.typical_p is not supported: use top_p or top_k.", "parameters.typical_p");
        if (p.Watermark)
            throw new InvalidRequestException("parameters.watermark is not supported.", "parameters.watermark");
        if (p.BestOf is not null and not 1)
            throw new InvalidRequestException($"parameters.best_of must be 1 (several candidates per request: use /v1/completions with best_of), got {p.BestOf}.", "parameters.best_of");
    }
}
