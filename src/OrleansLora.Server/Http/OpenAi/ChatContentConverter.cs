using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A chat message's <c>content</c>: a string, or an array of parts of which the text parts are joined.</summary>
public sealed class ChatContentConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        if (reader.TokenType == JsonTokenType.String)
            return reader.GetString();
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("content must be a string or an array of content parts.");
        var text = new StringBuilder();
        using var parts = JsonDocument.ParseValue(ref reader);
        foreach (var part in parts.RootElement.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text" || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw new JsonException("only text content parts ({\"type\": \"text\", \"text\": ...}) are supported.");
            text.Append(t.GetString());
        }
        return text.ToString();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
