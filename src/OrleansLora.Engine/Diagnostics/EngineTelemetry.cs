using System.Diagnostics;

namespace OrleansLora.Engine.Diagnostics;

/// <summary>
/// The engine's spans: <c>engine.generate</c> per request, from queueing to its last chunk, a child of
/// whatever span was current when the request was submitted (an adapter-grain call in a silo); and
/// <c>engine.step</c> per forward step, linked to the requests it served (a step serves many traces, so
/// it is a root with links, not anyone's child). Nothing is created unless a listener samples the source.
/// </summary>
public static class EngineTelemetry
{
    public const string SourceName = "OrleansLora.Engine";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts a request's span without making it current: the caller's context must not change.</summary>
    internal static Activity? StartGenerate(string? adapterId, int promptTokens)
    {
        var previous = Activity.Current;
        var activity = Source.StartActivity("engine.generate", ActivityKind.Internal);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("olora.adapter", adapterId ?? "");
            activity.SetTag("olora.prompt_tokens", promptTokens);
        }
        return activity;
    }

    internal static Activity? StartStep(IReadOnlyList<ActivityContext> requests, int sequences, int tokens)
    {
        if (!Source.HasListeners())
            return null;
        var links = requests.Where(c => c != default).Select(c => new ActivityLink(c));
        // An explicit empty parent: the engine thread must not inherit a leftover ambient span.
        var activity = Source.StartActivity("engine.step", ActivityKind.Internal, parentContext: default, tags: null, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("olora.batch_sequences", sequences);
            activity.SetTag("olora.batch_tokens", tokens);
        }
        return activity;
    }
}
