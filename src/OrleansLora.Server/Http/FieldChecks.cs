using System.Globalization;
using System.Text.Json;
using OrleansLora.Adapters;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http;

/// <summary>The checks request bodies make of their fields; each throws a 400 naming the field in its wire name.</summary>
internal static class FieldChecks
{
    /// <summary>Longest piece of a client's value quoted back in an error message.</summary>
    private const int QuotedChars = 80;

    /// <summary>A finite number in the interval; the bounds' brackets say whether each end is included.</summary>
    public static void Range(float? value, string param, float min, float max, bool minIncluded = true, bool maxIncluded = true)
    {
        if (value is not { } v)
            return;
        bool inside = float.IsFinite(v) && (minIncluded ? v >= min : v > min) && (maxIncluded ? v <= max : v < max);
        if (!inside)
            throw new InvalidRequestException($"{param} must be in {(minIncluded ? '[' : '(')}{Number(min)}, {Number(max)}{(maxIncluded ? ']' : ')')}, got {Number(v)}.", param);
    }

    public static void Above(float? value, string param, float min)
    {
        if (value is { } v && !(float.IsFinite(v) && v > min))
            throw new InvalidRequestException($"{param} must be a finite number > {Number(min)}, got {Number(v)}.", param);
    }

    public static void AtLeast(long? value, string param, long min)
    {
        if (value is { } v && v < min)
            throw new InvalidRequestException($"{param} must be >= {min}, got {v}.", param);
    }

    /// <summary>A required adapter id (<c>lora_name</c>): it becomes a grain key and a directory name.</summary>
    public static void AdapterId(string? value, string param)
    {
        if (value is null)
            throw new InvalidRequestException($"{param} is required.", param);
        if (!AdapterIds.IsValid(value))
            throw new InvalidRequestException($"{param} {Quote(value)} is not a valid adapter id: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without \"..\".", param);
    }

    /// <summary>Stop sequences: at most <paramref name="max"/>, none empty.</summary>
    public static void Stops(IReadOnlyList<string>? stop, string param, int max)
    {
        if (stop is null)
            return;
        if (stop.Count > max)
            throw new InvalidRequestException($"{param} holds at most {max} sequences, got {stop.Count}.", param);
        for (int i = 0; i < stop.Count; i++)
        {
            if (string.IsNullOrEmpty(stop[i]))
                throw new InvalidRequestException($"{param} must not hold empty sequences.", stop.Count == 1 ? param : $"{param}[{i}]");
        }
    }

    /// <summary>An optional object field (<c>null</c> allowed); anything else (a string, a number, an array) is refused.</summary>
    public static void ObjectOrNull(JsonElement? value, string param)
    {
        if (value is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) } e)
            throw new InvalidRequestException($"{param} must be an object, got {e.ValueKind.ToString().ToLowerInvariant()}.", param);
    }

    /// <summary>An optional array field (<c>null</c> allowed).</summary>
    public static void ArrayOrNull(JsonElement? value, string param)
    {
        if (value is { ValueKind: not (JsonValueKind.Array or JsonValueKind.Null or JsonValueKind.Undefined) } e)
            throw new InvalidRequestException($"{param} must be an array, got {e.ValueKind.ToString().ToLowerInvariant()}.", param);
    }

    /// <summary>Whether an optional JSON field holds something: not absent, null, an empty array or an empty object.</summary>
    public static bool IsSet(JsonElement? element) => element is { } e && e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => false,
        JsonValueKind.Array => e.GetArrayLength() > 0,
        JsonValueKind.Object => e.EnumerateObject().Any(),
        _ => true,
    };

    /// <summary>A client's value for an error message: quoted, and cut short, so a 1 MB field is not echoed back whole.</summary>
    public static string Quote(string? value)
    {
        if (value is null)
            return "null";
        if (value.Length <= QuotedChars)
            return $"\"{value}\"";
        int cut = char.IsHighSurrogate(value[QuotedChars - 1]) ? QuotedChars - 1 : QuotedChars; // never half a pair
        return $"\"{value[..cut]}…\" ({value.Length} characters)";
    }

    private static string Number(float value) => value.ToString(CultureInfo.InvariantCulture);
}
