namespace OrleansLora.SoakBench;

/// <summary>One request of a wave: its outcome, generated tokens, and time to first token (ms, -1 when none came).</summary>
internal sealed record StreamResult(StreamOutcome Outcome, int Tokens, double TtftMs, string? Detail);
