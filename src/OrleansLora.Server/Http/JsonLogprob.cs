namespace OrleansLora.Server.Http;

/// <summary>Log-probabilities as JSON can carry them.</summary>
public static class JsonLogprob
{
    /// <summary>
    /// JSON has no -infinity: a token a grammar refused is written as vLLM writes it, -9999.0 (a probability of 0
    /// in every practical sense).
    /// </summary>
    public const float Floor = -9999f;

    public static float Clamp(float logprob) => float.IsNegativeInfinity(logprob) || logprob < Floor ? Floor : logprob;

    /// <summary>A prompt's first token has no log-probability (NaN from the cluster): JSON null, as vLLM and TGI write it.</summary>
    public static float? OrNull(float logprob) => float.IsNaN(logprob) ? null : Clamp(logprob);
}
