namespace OrleansLora.Engine.Tests.Constraints;

/// <summary>Schemas the structured-output tests generate against: one per feature family.</summary>
internal static class StructuredOutputSchemas
{
    public const string NestedObjects = """
        {"type":"object","properties":{
           "name":{"type":"string","maxLength":12},
           "age":{"type":"integer","minimum":0,"maximum":130},
           "address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city","zip"],"additionalProperties":false},
           "tags":{"type":"array","items":{"type":"string","enum":["a","b","c"]},"maxItems":3},
           "nickname":{"type":["string","null"],"maxLength":8}},
         "required":["name","age","address"],"additionalProperties":false}
        """;

    public const string ArraysOfObjects = """
        {"type":"array","minItems":1,"maxItems":4,"items":{"type":"object","properties":{
           "sku":{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"},"qty":{"type":"integer","exclusiveMinimum":0,"maximum":99},"price":{"type":"number","minimum":0.5,"maximum":1000}},
         "required":["sku","qty"],"additionalProperties":false}}
        """;

    public const string RecursiveRefs = """
        {"$defs":{"tree":{"type":"object","properties":{"label":{"const":"node"},"weight":{"type":"number"},"children":{"type":"array","items":{"$ref":"#/$defs/tree"},"maxItems":2}},"required":["label"],"additionalProperties":false}},
         "$ref":"#/$defs/tree"}
        """;

    public const string FormatsAndChoices = """
        {"type":"object","properties":{
           "id":{"type":"string","format":"uuid"},
           "day":{"type":"string","format":"date"},
           "at":{"type":"string","format":"date-time"},
           "clock":{"type":"string","format":"time"},
           "kind":{"oneOf":[{"type":"string","enum":["alpha","beta"]},{"type":"integer","minimum":-5,"maximum":5}]},
           "flag":{"type":"boolean"},"nothing":{"type":"null"}},
         "required":["id","day","at","clock","kind","flag","nothing"],"additionalProperties":false}
        """;

    public const string FreeForm = """
        {"type":"object","properties":{"summary":{"type":"string"},"extra":{},"counts":{"type":"object","additionalProperties":{"type":"integer"}}},"required":["summary","extra","counts"]}
        """;

    /// <summary>Ten fields of the common kinds: the benchmark's schema.</summary>
    public const string TenFields = """
        {"type":"object","properties":{
           "id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":120},
           "active":{"type":"boolean"},"score":{"type":"number"},"country":{"type":"string","enum":["US","DE","FR","JP"]},
           "tags":{"type":"array","items":{"type":"string"},"maxItems":4},"created":{"type":"string","format":"date"},"note":{"type":["string","null"]}},
         "required":["id","name","email","age","active","score","country","tags","created","note"],"additionalProperties":false}
        """;

    public static TheoryData<string, string> All => new()
    {
        { nameof(NestedObjects), NestedObjects },
        { nameof(ArraysOfObjects), ArraysOfObjects },
        { nameof(RecursiveRefs), RecursiveRefs },
        { nameof(FormatsAndChoices), FormatsAndChoices },
        { nameof(FreeForm), FreeForm },
        { nameof(TenFields), TenFields },
    };
}
