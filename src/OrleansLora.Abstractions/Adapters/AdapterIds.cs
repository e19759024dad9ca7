using System.Text.RegularExpressions;

namespace OrleansLora.Adapters;

/// <summary>Rules for adapter ids: they name grains, metric tags and directories in the adapter store.</summary>
public static partial class AdapterIds
{
    /// <summary>The grain key of the base model without an adapter (not a valid adapter id, so it cannot collide).</summary>
    public const string BaseModel = "~base";

    /// <summary>A letter or digit, then up to 127 letters, digits, '.', '_' or '-'; never "." or "..".</summary>
    public static bool IsValid(string? id) => id is not null && IdPattern().IsMatch(id) && !id.Contains("..", StringComparison.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> naming the rule when <paramref name="id"/> is not a valid adapter id.</summary>
    public static void Validate(string? id, string paramName = "adapterId")
    {
        if (!IsValid(id))
            throw new ArgumentException($"adapter id \"{id}\" is not valid: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\".", paramName);
    }

    // \z, not $: "$" also matches before a final "\n", which let "demo-sql\n" through as a distinct id.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
