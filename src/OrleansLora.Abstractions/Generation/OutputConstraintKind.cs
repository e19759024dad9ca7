namespace OrleansLora.Generation;

/// <summary>What an <see cref="OutputConstraint"/> restricts the output to.</summary>
[GenerateSerializer]
public enum OutputConstraintKind
{
    /// <summary>Any JSON object (OpenAI <c>json_object</c>).</summary>
    JsonObject,

    /// <summary>JSON valid against the schema in <see cref="OutputConstraint.Text"/>.</summary>
    JsonSchema,

    /// <summary>Text the regex in <see cref="OutputConstraint.Text"/> matches in full.</summary>
    Regex,

    /// <summary>One of the strings of the JSON array in <see cref="OutputConstraint.Text"/>.</summary>
    Choice,
}
