using OrleansLora.Errors;

namespace OrleansLora.Server.Http.Tokenize;

/// <summary>POST /detokenize in vLLM's shape: <c>model</c> and the token ids to decode (special tokens kept).</summary>
public sealed record DetokenizeRequest : IValidatedRequest
{
    public string? Model { get; init; }
    public IReadOnlyList<int>? Tokens { get; init; }

    public void Validate()
    {
        if (Tokens is null)
            throw new InvalidRequestException("tokens (an array of token ids) is required.", "tokens");
        for (int i = 0; i < Tokens.Count; i++)
        {
            if (Tokens[i] < 0)
                throw new InvalidRequestException($"tokens[{i}] must be a token id >= 0, got {Tokens[i]}.", $"tokens[{i}]");
        }
    }
}
