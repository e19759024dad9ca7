using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Sampling;

/// <summary>The sampler's log-probabilities on hand-made rows: order, ties, masks, clamping and validation.</summary>
public sealed class SamplerLogprobsTests
{
    [Fact]
    public void Without_logprobs_none_are_reported()
    {
        var sampler = new SequenceSampler(SamplingParams.Greedy, []);
        Assert.Equal(1, sampler.Sample([0f, 2f, 1f], out var logprobs));
        Assert.Null(logprobs);
    }

    [Fact]
    public void Top_tokens_are_best_first_with_ties_to_the_lower_id_and_sum_to_one_over_the_row()
    {
        float[] row = [1f, 3f, 2f, 3f, -1f];
        var sampler = new SequenceSampler(SamplingParams.Greedy with { Logprobs = 5 }, []);
        int token = sampler.Sample(row, out var logprobs);

        Assert.Equal(1, token);
        Assert.Equal([1, 3, 2, 0, 4], logprobs!.Top.Select(t => t.TokenId));
        Assert.Equal(logprobs.Top[0], logprobs.Chosen);
        Assert.Equal(1.0, logprobs.Top.Sum(t => Math.Exp(t.Logprob)), 6);
        double logZ = Math.Log(row.Sum(x => Math.Exp(x)));
        Assert.Equal(3 - logZ, logprobs.Chosen.Logprob, 6);
    }

    [Fact]
    public void Zero_alternatives_still_report_the_chosen_token_and_more_than_the_row_are_clamped()
    {
        var none = new SequenceSampler(new SamplingParams { Seed = 3, Logprobs = 0 }, []);
        int token = none.Sample([0f, 0f], out var logprobs);
        Assert.Empty(logprobs!.Top);
        Assert.Equal(token, logprobs.Chosen.TokenId);
        Assert.Equal(Math.Log(0.5), logprobs.Chosen.Logprob, 6);

        var many = new SequenceSampler(SamplingParams.Greedy with { Logprobs = 20 }, []);
        many.Sample([0f, 1f, 2f], out var all);
        Assert.Equal([2, 1, 0], all!.Top.Select(t => t.TokenId));
    }

    [Fact]
    public void Tokens_a_processor_masks_have_minus_infinity_and_the_rest_renormalise()
    {
        var sampler = new SequenceSampler(SamplingParams.Greedy with { Logprobs = 3 }, [], new MaskFirst());
        int token = sampler.Sample([5f, 1f, 1f], out var logprobs);
        Assert.Equal(1, token);
        Assert.Equal(Math.Log(0.5), logprobs!.Chosen.Logprob, 6);
        Assert.Equal(float.NegativeInfinity, logprobs.Top[2].Logprob);
        Assert.Equal(0, logprobs.Top[2].TokenId);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(21)]
    public void Out_of_range_logprobs_are_refused(int logprobs)
    {
        var error = Assert.Throws<ArgumentException>(() => new SamplingParams { Logprobs = logprobs }.Validate());
        Assert.Equal(nameof(SamplingParams.Logprobs), error.ParamName);
    }

    private sealed class MaskFirst : ILogitsProcessor
    {
        public void Process(Span<float> logits) => logits[0] = float.NegativeInfinity;

        public void Accept(int token)
        {
        }
    }
}
