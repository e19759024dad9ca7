using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Cluster.Tests.Generation;

/// <summary>The one validator every path shares: each bad field is refused and named as the caller's API names it.</summary>
public sealed class GenerateRequestValidatorTests
{
    private static readonly GenerateRequest Good = new() { Prompt = "hello", MaxTokens = 8 };

    public static TheoryData<string, string, string> BadFields => new()
    {
        { "max_tokens 0", "max_tokens", "parameters.max_new_tokens" },
        { "temperature -1", "temperature", "parameters.temperature" },
        { "temperature NaN", "temperature", "parameters.temperature" },
        { "top_p 0", "top_p", "parameters.top_p" },
        { "top_p 1.01", "top_p", "parameters.top_p" },
        { "top_k -1", "top_k", "parameters.top_k" },
        { "repetition_penalty 0", "repetition_penalty", "parameters.repetition_penalty" },
        { "repetition_penalty inf", "repetition_penalty", "parameters.repetition_penalty" },
        { "presence_penalty 2.5", "presence_penalty", "parameters.presence_penalty" },
        { "frequency_penalty -3", "frequency_penalty", "parameters.frequency_penalty" },
        { "stop empty", "stop", "parameters.stop" },
        { "logprobs 21", "logprobs", "parameters.top_n_tokens" },
        { "logprobs -1", "logprobs", "parameters.top_n_tokens" },
        { "no prompt", "prompt", "inputs" },
        { "two prompts", "prompt", "inputs" },
        { "empty token list", "prompt", "inputs" },
        { "negative token id", "prompt", "inputs" },
    };

    private static GenerateRequest Make(string label) => label switch
    {
        "max_tokens 0" => Good with { MaxTokens = 0 },
        "temperature -1" => Good with { Temperature = -1 },
        "temperature NaN" => Good with { Temperature = float.NaN },
        "top_p 0" => Good with { TopP = 0 },
        "top_p 1.01" => Good with { TopP = 1.01f },
        "top_k -1" => Good with { TopK = -1 },
        "repetition_penalty 0" => Good with { RepetitionPenalty = 0 },
        "repetition_penalty inf" => Good with { RepetitionPenalty = float.PositiveInfinity },
        "presence_penalty 2.5" => Good with { PresencePenalty = 2.5f },
        "frequency_penalty -3" => Good with { FrequencyPenalty = -3 },
        "stop empty" => Good with { Stop = ["a", ""] },
        "logprobs 21" => Good with { Logprobs = 21 },
        "logprobs -1" => Good with { Logprobs = -1 },
        "no prompt" => Good with { Prompt = null },
        "two prompts" => Good with { PromptTokenIds = [1, 2] },
        "empty token list" => Good with { Prompt = null, PromptTokenIds = [] },
        "negative token id" => Good with { Prompt = null, PromptTokenIds = [1, -2] },
        _ => throw new ArgumentOutOfRangeException(nameof(label)),
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public void Each_bad_field_is_named_in_the_callers_api(string label, string openAiName, string loraxName)
    {
        var request = Make(label);
        var openAi = Assert.Throws<InvalidRequestException>(() => GenerateRequestValidator.Validate(request));
        Assert.Equal(openAiName, openAi.Param);
        var lorax = Assert.Throws<InvalidRequestException>(() => GenerateRequestValidator.Validate(request, GenerateFieldNames.Lorax));
        Assert.Equal(loraxName, lorax.Param);
    }

    [Fact]
    public void An_empty_text_prompt_is_left_to_the_tokenizer()
    {
        // As Hugging Face: "" is the BOS token alone where the tokenizer adds one (the engine refuses it otherwise).
        GenerateRequestValidator.Validate(Good with { Prompt = "" });
        GenerateRequestValidator.Validate(Good with { Prompt = "" }, GenerateFieldNames.Lorax);
    }

    [Fact]
    public void Chat_messages_are_checked_entry_by_entry()
    {
        var request = new GenerateRequest { Messages = [new ChatMessageItem("user", "hi"), new ChatMessageItem("robot", "x")] };
        var ex = Assert.Throws<InvalidRequestException>(() => GenerateRequestValidator.Validate(request));
        Assert.Equal("messages[1].role", ex.Param);
        Assert.Contains("robot", ex.Message);
        Assert.Equal("messages", Assert.Throws<InvalidRequestException>(() => GenerateRequestValidator.Validate(new GenerateRequest { Messages = [] })).Param);
    }

    [Fact]
    public void Max_tokens_is_bounded_by_the_context_where_it_is_known()
    {
        GenerateRequestValidator.Validate(Good with { MaxTokens = 100_000 });
        var ex = Assert.Throws<InvalidRequestException>(() => GenerateRequestValidator.Validate(Good with { MaxTokens = 2049 }, maxSequenceLength: 2048));
        Assert.Contains("[1, 2048]", ex.Message);
        GenerateRequestValidator.Validate(Good with { MaxTokens = 2048 }, maxSequenceLength: 2048);
    }

    [Fact]
    public void Edges_of_every_range_pass()
    {
        GenerateRequestValidator.Validate(Good with
        {
            Temperature = 0, TopP = 1, TopK = 0, RepetitionPenalty = 1e-3f, PresencePenalty = -2, FrequencyPenalty = 2, Logprobs = 20, Stop = ["x"],
        });
        GenerateRequestValidator.Validate(new GenerateRequest { PromptTokenIds = [0], Logprobs = 0 });
    }
}
