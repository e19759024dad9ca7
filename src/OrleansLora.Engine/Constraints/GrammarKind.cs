namespace OrleansLora.Engine.Constraints;

/// <summary>What a <see cref="GrammarSpec"/> constrains the output to.</summary>
public enum GrammarKind
{
    /// <summary>Any JSON object (OpenAI <c>json_object</c>).</summary>
    JsonObject,

    /// <summary>A JSON document valid against a JSON Schema.</summary>
    JsonSchema,

    /// <summary>Text that the regex matches in full.</summary>
    Regex,

    /// <summary>Exactly one of a list of strings.</summary>
    Choice,
}
