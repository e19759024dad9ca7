using System.Diagnostics;

namespace OrleansLora.Server.Observability;

/// <summary>
/// The gateway's <see cref="ActivitySource"/>: one span per generation, child of the HTTP request's span and
/// parent of the adapter-grain call's span (Orleans propagates the activity to the worker silo).
/// </summary>
public static class GatewayTelemetry
{
    public const string SourceName = "OrleansLora.Gateway";

    public static ActivitySource Source { get; } = new(SourceName, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the span of a generation through <paramref name="api"/> ("openai.chat", "lorax.generate", ...).</summary>
    public static Activity? StartGeneration(string api, string adapterKey, bool stream)
    {
        var activity = Source.StartActivity($"olora.generate {api}", ActivityKind.Internal);
        activity?.SetTag("olora.api", api);
        activity?.SetTag("olora.adapter", adapterKey);
        activity?.SetTag("olora.stream", stream);
        return activity;
    }

    public static void Finish(Activity? activity, int promptTokens, int completionTokens, string finishReason)
    {
        activity?.SetTag("olora.prompt_tokens", promptTokens);
        activity?.SetTag("olora.completion_tokens", completionTokens);
        activity?.SetTag("olora.finish_reason", finishReason);
    }
}
