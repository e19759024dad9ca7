namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>
/// Bounds on one render, so that a hostile template (say, from an adapter directory) can neither
/// hang a thread nor exhaust memory. The defaults are far above what real chat templates need
/// (the largest render a few thousand steps and tens of kilobytes).
/// </summary>
public sealed record JinjaLimits
{
    public static JinjaLimits Default { get; } = new();

    /// <summary>Characters of output, and of any one string built while rendering.</summary>
    public int MaxOutputChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>Statements executed plus loop iterations plus items produced by filters, over the whole render.</summary>
    public int MaxSteps { get; init; } = 2_000_000;

    /// <summary>Nested macro calls.</summary>
    public int MaxCallDepth { get; init; } = 32;

    /// <summary>Items of a <c>range()</c> (jinja2's sandbox allows 100000).</summary>
    public int MaxRange { get; init; } = 100_000;
}
