using System.Text.Json;
using OrleansLora.Engine.Constraints;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Server.Http;

/// <summary>
/// Reads the structured-output fields of the APIs — OpenAI <c>response_format</c>, vLLM's <c>guided_json</c>,
/// <c>guided_regex</c> and <c>guided_choice</c>, LoRAX <c>parameters.response_format</c> — into an
/// <see cref="OutputConstraint"/>, and compiles it here (cached by hash) so an unsupported schema keyword or
/// a bad regex is a 400 naming it before any worker is involved.
/// </summary>
public static class StructuredOutput
{
    /// <summary>OpenAI: <c>{"type": "text" | "json_object" | "json_schema", "json_schema": {"name", "schema", "strict"}}</c>.</summary>
    public static OutputConstraint? FromOpenAi(JsonElement? responseFormat, string param = "response_format")
    {
        if (responseFormat is not { ValueKind: JsonValueKind.Object } format)
            return null;
        string? type = format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return Checked(OutputConstraint.JsonObject, param);
            case "json_schema":
                if (!format.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object)
                    throw new InvalidRequestException($"{param}.json_schema is required when type is \"json_schema\".", $"{param}.json_schema");
                if (!spec.TryGetProperty("schema", out var schema) || schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                    throw new InvalidRequestException($"{param}.json_schema.schema is required and must be a JSON Schema object.", $"{param}.json_schema.schema");
                return Checked(OutputConstraint.JsonSchema(schema.GetRawText()), $"{param}.json_schema.schema");
            default:
                throw new InvalidRequestException($"{param}.type must be \"text\", \"json_object\" or \"json_schema\", got {FieldChecks.Quote(type)}.", $"{param}.type");
        }
    }

    /// <summary>LoRAX: <c>{"type": "json_object", "schema": {...}}</c> (no schema: any JSON object).</summary>
    public static OutputConstraint? FromLorax(JsonElement? responseFormat, string param = "parameters.response_format")
    {
        if (responseFormat is not { ValueKind: JsonValueKind.Object } format)
            return null;
        string? type = format.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type == "text")
            return null;
        if (type is not ("json_object" or "json_schema"))
            throw new InvalidRequestException($"{param}.type must be \"json_object\" (with an optional schema), got {FieldChecks.Quote(type)}.", $"{param}.type");
        if (format.TryGetProperty("schema", out var schema) && schema.ValueKind != JsonValueKind.Null)
            return Checked(OutputConstraint.JsonSchema(schema.GetRawText()), $"{param}.schema");
        return Checked(OutputConstraint.JsonObject, param);
    }

    /// <summary>vLLM's guided decoding extensions; at most one of them.</summary>
    public static OutputConstraint? FromGuided(JsonElement? guidedJson, string? guidedRegex, IReadOnlyList<string>? guidedChoice)
    {
        int given = (FieldChecks.IsSet(guidedJson) ? 1 : 0) + (guidedRegex is not null ? 1 : 0) + (guidedChoice is not null ? 1 : 0);
        if (given > 1)
            throw new InvalidRequestException("give at most one of guided_json, guided_regex and guided_choice.", "guided_json");
        if (guidedJson is { } json && FieldChecks.IsSet(guidedJson))
        {
            string schema = json.ValueKind == JsonValueKind.String ? json.GetString()! : json.GetRawText();
            return Checked(OutputConstraint.JsonSchema(schema), "guided_json");
        }
        if (guidedRegex is not null)
            return Checked(new OutputConstraint(OutputConstraintKind.Regex, guidedRegex), "guided_regex");
        if (guidedChoice is not null)
            return Checked(new OutputConstraint(OutputConstraintKind.Choice, JsonSerializer.Serialize(guidedChoice)), "guided_choice");
        return null;
    }

    /// <summary>Compiles the grammar (tokenizer-independent part, cached) so a bad one is refused here.</summary>
    public static OutputConstraint Checked(OutputConstraint constraint, string param)
    {
        var kind = constraint.Kind switch
        {
            OutputConstraintKind.JsonObject => GrammarKind.JsonObject,
            OutputConstraintKind.JsonSchema => GrammarKind.JsonSchema,
            OutputConstraintKind.Regex => GrammarKind.Regex,
            _ => GrammarKind.Choice,
        };
        try
        {
            new GrammarSpec(kind, constraint.Text).Validate();
        }
        catch (GrammarException e)
        {
            throw new InvalidRequestException($"{param}: {e.Message}", param);
        }
        return constraint;
    }
}
