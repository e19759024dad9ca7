namespace OrleansLora.Adapters;

/// <summary>
/// The form of an adapter source: a path relative to the adapter store root. Checked from the text alone, so a
/// gateway without the store refuses what can never be valid; where the path really leads (symbolic links out of
/// the root) only a worker, which has the store, can tell.
/// </summary>
public static class AdapterSources
{
    /// <summary>Whether <paramref name="source"/> is a relative path without ".", "..", hidden segments, '\\', ':' or NUL; <paramref name="why"/> says what is wrong.</summary>
    public static bool IsWellFormed(string? source, out string why)
    {
        if (string.IsNullOrWhiteSpace(source))
        {
            why = "it is empty.";
            return false;
        }
        if (source.StartsWith('/') || source.Contains('\\') || source.Contains(':') || source.Contains('\0'))
        {
            why = "absolute paths are not allowed; give a path relative to the adapter store.";
            return false;
        }
        var parts = source.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".." || p.StartsWith('.')))
        {
            why = "\".\", \"..\" and hidden path segments are not allowed.";
            return false;
        }
        why = "";
        return true;
    }

    /// <summary>The message a refused source is reported with, on the gateway and on the worker alike.</summary>
    public static string Refusal(string source, string why) => $"adapter source \"{source}\" is refused: {why}";
}
