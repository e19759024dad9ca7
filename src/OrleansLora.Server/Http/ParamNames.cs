namespace OrleansLora.Server.Http;

/// <summary>
/// Endpoint metadata: how the parameter names that the cluster's errors use (OpenAI chat spelling: "messages",
/// "max_tokens", "model") are spelled in this endpoint's request, so an error's <c>param</c> names a field the
/// client actually sent (a long prompt is "prompt" on /v1/completions and "inputs" on /generate).
/// </summary>
public sealed class ParamNames(IReadOnlyDictionary<string, string> renames)
{
    public static ParamNames Chat { get; } = new(new Dictionary<string, string> { ["prompt"] = "messages" });

    public static ParamNames Completions { get; } = new(new Dictionary<string, string> { ["messages"] = "prompt" });

    public static ParamNames Lorax { get; } = new(new Dictionary<string, string>
    {
        ["prompt"] = "inputs",
        ["messages"] = "inputs",
        ["model"] = "parameters.adapter_id",
        ["max_tokens"] = "parameters.max_new_tokens",
        ["temperature"] = "parameters.temperature",
        ["top_p"] = "parameters.top_p",
        ["top_k"] = "parameters.top_k",
        ["repetition_penalty"] = "parameters.repetition_penalty",
        ["stop"] = "parameters.stop",
        ["seed"] = "parameters.seed",
        ["response_format"] = "parameters.response_format",
    });

    /// <summary>This endpoint's spelling of <paramref name="param"/> (unchanged when it has none of its own).</summary>
    public string? Rename(string? param) => param is not null && renames.TryGetValue(param, out var name) ? name : param;
}
