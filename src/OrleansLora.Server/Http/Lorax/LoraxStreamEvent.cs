namespace OrleansLora.Server.Http.Lorax;

/// <summary>One event of /generate_stream: a token; the last event also carries generated_text and details (null before).</summary>
public sealed record LoraxStreamEvent(LoraxToken Token, string? GeneratedText, LoraxDetails? Details);
