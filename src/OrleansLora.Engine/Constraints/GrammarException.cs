namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A grammar, schema, regex or choice list that cannot be compiled (unsupported keyword, bad regex,
/// too large). The message names the offending part; the HTTP layer answers it with 400.
/// </summary>
public sealed class GrammarException(string message) : ArgumentException(message);
