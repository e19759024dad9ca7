using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Sampling;

public sealed class SamplingParamsTests
{
    public static TheoryData<SamplingParams, string, string> BadParams => new()
    {
        { new SamplingParams { Temperature = -0.1f }, nameof(SamplingParams.Temperature), "temperature" },
        { new SamplingParams { Temperature = float.NaN }, nameof(SamplingParams.Temperature), "temperature" },
        { new SamplingParams { Temperature = float.PositiveInfinity }, nameof(SamplingParams.Temperature), "temperature" },
        { new SamplingParams { TopP = 0f }, nameof(SamplingParams.TopP), "top_p" },
        { new SamplingParams { TopP = 1.01f }, nameof(SamplingParams.TopP), "top_p" },
        { new SamplingParams { TopP = float.NaN }, nameof(SamplingParams.TopP), "top_p" },
        { new SamplingParams { RepetitionPenalty = 0f }, nameof(SamplingParams.RepetitionPenalty), "repetition_penalty" },
        { new SamplingParams { RepetitionPenalty = -1f }, nameof(SamplingParams.RepetitionPenalty), "repetition_penalty" },
        { new SamplingParams { RepetitionPenalty = float.PositiveInfinity }, nameof(SamplingParams.RepetitionPenalty), "repetition_penalty" },
        { new SamplingParams { PresencePenalty = 2.5f }, nameof(SamplingParams.PresencePenalty), "presence_penalty" },
        { new SamplingParams { PresencePenalty = -2.5f }, nameof(SamplingParams.PresencePenalty), "presence_penalty" },
        { new SamplingParams { FrequencyPenalty = 2.01f }, nameof(SamplingParams.FrequencyPenalty), "frequency_penalty" },
        { new SamplingParams { FrequencyPenalty = float.NaN }, nameof(SamplingParams.FrequencyPenalty), "frequency_penalty" },
        { new SamplingParams { MaxNewTokens = 0 }, nameof(SamplingParams.MaxNewTokens), "max_new_tokens" },
        { new SamplingParams { StopSequences = ["ok", ""] }, nameof(SamplingParams.StopSequences), "stop sequences" },
    };

    [Theory]
    [MemberData(nameof(BadParams))]
    public void Validate_RejectsBadParameter_NamingIt(SamplingParams p, string paramName, string wireName)
    {
        var ex = Assert.Throws<ArgumentException>(p.Validate);
        Assert.Equal(paramName, ex.ParamName);
        Assert.Contains(wireName, ex.Message);
    }

    [Fact]
    public void Validate_AcceptsDefaultsAndEdges()
    {
        new SamplingParams().Validate();
        SamplingParams.Greedy.Validate();
        new SamplingParams
        {
            Temperature = 0f, TopP = 1f, TopK = -1, RepetitionPenalty = 0.5f,
            PresencePenalty = -2f, FrequencyPenalty = 2f, MaxNewTokens = 1, StopSequences = ["\n"],
        }.Validate();
    }
}
