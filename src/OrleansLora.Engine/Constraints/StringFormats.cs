namespace OrleansLora.Engine.Constraints;

/// <summary>
/// The string <c>format</c>s enforced, as regexes that only admit valid values (days 01-28 so that no
/// month/day combination is invalid; years 1000-9999 so every parser takes them).
/// </summary>
internal static class StringFormats
{
    private const string Date = "[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
    private const string Time = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";

    private static readonly Dictionary<string, string> Patterns = new(StringComparer.Ordinal)
    {
        ["date"] = Date,
        ["time"] = Time,
        ["date-time"] = Date + "T" + Time,
        ["uuid"] = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    };

    public static IEnumerable<string> Names => Patterns.Keys;

    public static bool TryGet(string format, out RegexNode regex)
    {
        if (Patterns.TryGetValue(format, out string? pattern))
        {
            regex = RegexParser.Parse(pattern);
            return true;
        }
        regex = RegexNode.Never;
        return false;
    }
}
