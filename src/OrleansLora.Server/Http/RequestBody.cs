using System.Text.Json;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http;

/// <summary>
/// Reads a JSON request body and checks it (<see cref="IValidatedRequest.Validate"/>): malformed JSON, a field of the
/// wrong type, a null, an out-of-range value all become a 400 naming the field in its wire name.
/// </summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class, IValidatedRequest
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
            throw new InvalidRequestException($"the request body is not valid JSON{ContentTypeHint(request)}: {ex.Message}");
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
            catch (InvalidOperationException ex)
            {
                // A string the parser accepted but cannot turn into .NET text: an escaped lone surrogate ("\ud800")
                // or invalid UTF-8 inside a string. The reader does not say which field; the message says what.
                throw new InvalidRequestException($"the request body holds a string that is not valid Unicode text: {ex.Message}");
            }
        }
        if (body is null)
            throw new InvalidRequestException("the request body must be a JSON object, got null.");
        body.Validate();
        return body;
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

    /// <summary>Bodies are read as JSON whatever their Content-Type (clients such as curl -d send form types); when one that is not JSON fails to parse, say so.</summary>
    private static string ContentTypeHint(HttpRequest request) =>
        request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? $" (Content-Type is {FieldChecks.Quote(type)}; send application/json)"
            : "";
}
