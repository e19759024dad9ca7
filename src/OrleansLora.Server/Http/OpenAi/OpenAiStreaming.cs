using System.Diagnostics;
using System.Text;
using OrleansLora.Generation;
using OrleansLora.Server.Http.Sse;
using OrleansLora.Server.Observability;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>The server-sent events of a streamed chat or text completion, for one or several choices.</summary>
internal static class OpenAiStreaming
{
    /// <summary>
    /// Writes each choice's text chunks (with the log-probabilities of their tokens when asked), its finish chunk, then the
    /// usage chunk when asked (the completions of every choice summed) and [DONE]; an error after the first event becomes an
    /// error event. A token whose text is still held back (part of a character, a possible stop sequence) has its
    /// log-probability sent with the next text, or with the finish chunk. With <paramref name="holdUntilEnd"/> a choice's
    /// text is held and turned, at its end, into the chunks it returns (and the finish reason). With <paramref name="prompt"/>,
    /// a chunk carrying the prompt's log-probabilities (each choice's first) is preceded by the event it returns.
    /// </summary>
    public static async Task WriteAsync<T>(SseWriter sse, GenerationStreams streams, Activity? activity, bool logprobs, CancellationToken ct,
        Func<int, string, IReadOnlyList<GeneratedLogprobs>?, T> content,
        Func<int, string, IReadOnlyList<GeneratedLogprobs>?, T> finish,
        Func<Usage, T?> usageChunk,
        Func<int, string, string, (List<T> Chunks, string Reason)>? holdUntilEnd = null,
        Func<int, IReadOnlyList<GeneratedLogprobs>, T>? prompt = null)
        where T : class
    {
        var held = Enumerable.Range(0, streams.Count).Select(_ => new StringBuilder()).ToArray();
        var pending = Enumerable.Range(0, streams.Count).Select(_ => new List<GeneratedLogprobs>()).ToArray();
        IReadOnlyList<GeneratedLogprobs>? Take(int index)
        {
            if (!logprobs || pending[index].Count == 0)
                return null;
            var tokens = pending[index].ToArray();
            pending[index].Clear();
            return tokens;
        }
        int promptTokens = 0, completionTokens = 0, finished = 0;
        string lastReason = "stop";
        try
        {
            await foreach (var (index, chunk) in streams.ReadAllAsync())
            {
                if (prompt is not null && chunk.PromptLogprobs is { } p)
                    await sse.WriteAsync(prompt(index, p), ct); // the echoed prompt with its log-probabilities, before the choice's text
                if (chunk.Logprobs is { } l)
                    pending[index].AddRange(l);
                if (holdUntilEnd is not null)
                    held[index].Append(chunk.TextDelta);
                else if (chunk.TextDelta.Length > 0)
                    await sse.WriteAsync(content(index, chunk.TextDelta, Take(index)), ct);
                if (!chunk.IsFinal)
                    continue;
                string reason = OpenAiApi.FinishReason(chunk.FinishReason!.Value);
                if (holdUntilEnd is not null)
                {
                    (var chunks, reason) = holdUntilEnd(index, held[index].ToString(), reason);
                    foreach (var c in chunks)
                        await sse.WriteAsync(c, ct);
                }
                await sse.WriteAsync(finish(index, reason, Take(index)), ct);
                var usage = chunk.Usage ?? new GenerateUsage(0, 0, 0);
                promptTokens = usage.PromptTokens;
                completionTokens += usage.CompletionTokens;
                lastReason = reason;
                if (++finished < streams.Count)
                    continue;
                GatewayTelemetry.Finish(activity, promptTokens, completionTokens, lastReason);
                if (usageChunk(new Usage(promptTokens, completionTokens, promptTokens + completionTokens)) is { } u)
                    await sse.WriteAsync(u, ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await sse.WriteErrorAsync(ex, ct);
        }
        await sse.WriteDoneAsync(ct);
    }
}
