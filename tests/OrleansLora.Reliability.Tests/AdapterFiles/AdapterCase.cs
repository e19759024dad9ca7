namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>What every entry point must answer for a case.</summary>
public enum Outcome
{
    /// <summary>400 <c>invalid_adapter</c> in the OpenAI error shape, the message naming the problem.</summary>
    Refused,

    /// <summary>A valid load: the admin load, the LoRAX request and the chat all succeed.</summary>
    Loads,

    /// <summary>Either, per entry point (depends on the machine, e.g. whether the tests run as root).</summary>
    RefusedOrLoads,

    /// <summary>
    /// The path itself is refused before any file is read: 400 <c>invalid_parameter</c> naming the path field on
    /// the admin load and LoRAX, 404 <c>model_not_found</c> on a chat (first use does not follow links out).
    /// </summary>
    PathRefused,
}

/// <summary>
/// One broken, malicious or valid adapter directory: <see cref="Build"/> writes it (the directory is the
/// case's name, directly under the store root), <see cref="Mentions"/> are the words one of which a refusal's
/// message must contain.
/// </summary>
public sealed record AdapterCase(string Name, Outcome Outcome, string[] Mentions, Action<CaseContext> Build)
{
    public override string ToString() => Name;
}
