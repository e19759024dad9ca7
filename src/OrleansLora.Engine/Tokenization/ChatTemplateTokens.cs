namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The special-token strings a chat template sees as variables (transformers passes the tokenizer's
/// special_tokens_map): bos_token, eos_token, unk_token, pad_token, additional_special_tokens.
/// A null token is not defined in the template (Qwen has no bos_token).
/// </summary>
public sealed record ChatTemplateTokens(string? BosToken = null, string? EosToken = null, string? UnkToken = null, string? PadToken = null)
{
    public static ChatTemplateTokens None { get; } = new();

    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    internal void AddTo(Dictionary<string, object?> variables)
    {
        if (BosToken is not null)
            variables["bos_token"] = BosToken;
        if (EosToken is not null)
            variables["eos_token"] = EosToken;
        if (UnkToken is not null)
            variables["unk_token"] = UnkToken;
        if (PadToken is not null)
            variables["pad_token"] = PadToken;
        if (AdditionalSpecialTokens.Count > 0)
            variables["additional_special_tokens"] = AdditionalSpecialTokens.ToList<object?>();
    }
}
