using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http;

/// <summary>
/// JSON on the wire: snake_case names as OpenAI and LoRAX send them, enums as snake_case strings,
/// unknown request fields ignored (clients send fields this server does not use).
/// </summary>
public static class GatewayJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Applies the gateway's conventions to <paramref name="options"/> (also used for ASP.NET Core's and OpenAPI's options).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.PropertyNameCaseInsensitive = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        if (!options.Converters.OfType<JsonStringEnumConverter>().Any())
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
