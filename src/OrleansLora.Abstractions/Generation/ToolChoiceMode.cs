namespace OrleansLora.Generation;

/// <summary>OpenAI's <c>tool_choice</c>.</summary>
public enum ToolChoiceMode
{
    /// <summary>The model answers in text; tools are still shown to it.</summary>
    None,

    /// <summary>The model decides; calls written in the model's own syntax are parsed back.</summary>
    Auto,

    /// <summary>At least one call: the output is constrained to a JSON array of calls.</summary>
    Required,

    /// <summary>A call of one named function: the output is constrained to its arguments.</summary>
    Function,
}
