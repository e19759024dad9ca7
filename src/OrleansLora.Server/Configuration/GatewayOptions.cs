namespace OrleansLora.Server.Configuration;

/// <summary>Configuration section <c>OrleansLora:Gateway</c>: the HTTP API of gateway silos, validated at start-up.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "OrleansLora:Gateway";

    /// <summary>The smallest <see cref="MaxRequestBodyBytes"/> accepted: below it a chat with a short system prompt no longer fits.</summary>
    public const long MinRequestBodyBytes = 1024;

    /// <summary>Bearer keys accepted on every endpoint but the probes; empty: no key needed.</summary>
    public IList<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// Bearer keys accepted on every endpoint, and the only ones accepted by the adapter management
    /// endpoints; empty: management takes the <see cref="ApiKeys"/>.
    /// </summary>
    public IList<string> AdminKeys { get; set; } = [];

    /// <summary>The base model's name in <c>model</c> fields; default: the model directory's name the workers publish.</summary>
    public string? BaseModelName { get; set; }

    /// <summary>max_tokens (OpenAI) or max_new_tokens (LoRAX) when a request does not give it.</summary>
    public int DefaultMaxTokens { get; set; } = 256;

    /// <summary>Serve the web playground at <c>/</c>.</summary>
    public bool Playground { get; set; } = true;

    /// <summary>OTLP endpoint (for example http://127.0.0.1:4317) that traces are exported to; null: no trace export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How long a device's published load counts for <c>/ready</c>.</summary>
    public TimeSpan ReadyLoadAge { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest request body any endpoint reads (Kestrel's limit, set for every endpoint); a larger one is a 413
    /// <c>request_too_large</c>. 8 MiB holds a 128k-token prompt several times over; the worker refuses a prompt
    /// that cannot fit the context before tokenizing it, so this bounds only the JSON parsing.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// How long a generation may wait for its adapter grain to acknowledge it (delivery and activation only; placement,
    /// queueing and prefill have their own deadlines). A request lost to a silo that died or hangs ends here as a 503
    /// <c>worker_unavailable</c> with Retry-After instead of waiting for Orleans' response timeout.
    /// </summary>
    public TimeSpan AcceptTimeout { get; set; } = Generation.GenerationStart.DefaultAcceptTimeout;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (ApiKeys.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{SectionName}:ApiKeys must not contain empty keys.", nameof(ApiKeys));
        if (AdminKeys.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"{SectionName}:AdminKeys must not contain empty keys.", nameof(AdminKeys));
        if (BaseModelName is not null && string.IsNullOrWhiteSpace(BaseModelName))
            throw new ArgumentException($"{SectionName}:BaseModelName must not be blank when set.", nameof(BaseModelName));
        if (DefaultMaxTokens < 1)
            throw new ArgumentException($"{SectionName}:DefaultMaxTokens must be >= 1, got {DefaultMaxTokens}.", nameof(DefaultMaxTokens));
        if (OtlpEndpoint is not null && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
            throw new ArgumentException($"{SectionName}:OtlpEndpoint must be an absolute URI, got \"{OtlpEndpoint}\".", nameof(OtlpEndpoint));
        if (MaxRequestBodyBytes < MinRequestBodyBytes)
            throw new ArgumentException($"{SectionName}:MaxRequestBodyBytes must be >= {MinRequestBodyBytes}, got {MaxRequestBodyBytes}.", nameof(MaxRequestBodyBytes));
        if (ReadyLoadAge <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ReadyLoadAge must be positive, got {ReadyLoadAge}.", nameof(ReadyLoadAge));
        if (AcceptTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:AcceptTimeout must be positive, got {AcceptTimeout}.", nameof(AcceptTimeout));
    }
}
