namespace OrleansLora.Generation;

/// <summary>
/// Grammar-constrained decoding for one request: the worker compiles it (cached by hash) into a token
/// mask applied at every step, so the output always parses. docs/STRUCTURED-OUTPUT.md lists what is enforced.
/// </summary>
/// <param name="Text">The JSON Schema, the regex, or the choices as a JSON array of strings; empty for <see cref="OutputConstraintKind.JsonObject"/>.</param>
[GenerateSerializer, Immutable]
public sealed record OutputConstraint([property: Id(0)] OutputConstraintKind Kind, [property: Id(1)] string Text)
{
    public static OutputConstraint JsonObject { get; } = new(OutputConstraintKind.JsonObject, "");

    public static OutputConstraint JsonSchema(string schemaJson) => new(OutputConstraintKind.JsonSchema, schemaJson);
}
