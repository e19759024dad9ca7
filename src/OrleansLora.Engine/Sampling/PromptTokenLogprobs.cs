using System.Buffers;

namespace OrleansLora.Engine.Sampling;

/// <summary>
/// A prompt token's log-probability given the tokens before it, from the raw logits of the position before it (no
/// penalty, processor or temperature: a prompt is not sampled), with the most likely tokens at that position.
/// </summary>
internal static class PromptTokenLogprobs
{
    /// <exception cref="InvalidOperationException">The row holds NaN or +infinity: the model's output is broken there.</exception>
    public static SampleLogprobs Of(ReadOnlySpan<float> logits, int token, int top)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, logits.Length);
        var scores = ArrayPool<float>.Shared.Rent(logits.Length);
        try
        {
            logits.CopyTo(scores);
            float max = float.NegativeInfinity;
            for (int i = 0; i < logits.Length; i++)
            {
                float x = scores[i];
                if (float.IsNaN(x) || float.IsPositiveInfinity(x))
                    throw new InvalidOperationException($"the model's logits hold {x} at vocabulary index {i}: no log-probability for the prompt token.");
                max = Math.Max(max, x);
            }
            if (float.IsNegativeInfinity(max))
                throw new InvalidOperationException("the model's logits are all -infinity: no log-probability for the prompt token.");
            var distribution = LogSoftmax.Of(scores, logits.Length, max, top);
            return new SampleLogprobs(new TokenLogprob(token, distribution.Logprob(scores[token])), distribution.Top);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}
