using System.Text.Json;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http;

/// <summary>Reads a JSON request body; malformed JSON or a field of the wrong type becomes a 400 naming the field.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        T? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<T>(request.Body, GatewayJson.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            string? param = ParamName(ex.Path);
            string what = param is null ? "the request body is not valid JSON" : $"\"{param}\" has the wrong type or is malformed";
            throw new InvalidRequestException($"{what}: {ex.Message}", param);
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
