using System.Text.Json;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http;

/// <summary>Reads a JSON request body; malformed JSON or a field of the wrong type becomes a 400 naming the field.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        // Parsed first, then bound: a syntax error (a truncated body, say) is "not valid JSON" with no param,
        // rather than blamed on the field the reader had reached.
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new InvalidRequestException($"the request body is not valid JSON: {ex.Message}");
        }
        T? body;
        using (document)
        {
            try
            {
                body = document.Deserialize<T>(GatewayJson.Options);
            }
            catch (JsonException ex)
            {
                string? param = ParamName(ex.Path);
                string what = param is null ? "the request body does not have the expected shape" : $"\"{param}\" has the wrong type or is malformed";
                throw new InvalidRequestException($"{what}: {ex.Message}", param);
            }
        }
        return body ?? throw new InvalidRequestException("the request body must be a JSON object, got null.");
    }

    /// <summary>"$.parameters.temperature" → "parameters.temperature"; "$" or null → null.</summary>
    internal static string? ParamName(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
            return null;
        string p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        int bracket = p.IndexOf('[', StringComparison.Ordinal);
        return bracket == 0 ? null : p;
    }
}
