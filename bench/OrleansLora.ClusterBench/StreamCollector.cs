using System.Diagnostics;
using System.Text;

namespace OrleansLora.ClusterBench;

/// <summary>
/// Collects one streamed request on any path: its text, the tokens its chunks carried, and the time from
/// submission (this object's creation) to the first chunk that carries text.
/// </summary>
internal sealed class StreamCollector(string path, WorkItem item)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly StringBuilder _text = new();
    private double _ttft = -1;
    private int _tokens;

    public void Add(string delta, int tokens = 0)
    {
        if (_ttft < 0 && delta.Length > 0)
            _ttft = Stopwatch.GetElapsedTime(_start).TotalMilliseconds;
        _text.Append(delta);
        _tokens += tokens;
    }

    /// <summary>The result; where chunks carry token ids (<paramref name="chunksCarryTokens"/>) their count must equal the usage.</summary>
    public RequestResult Finish(int completionTokens, int promptTokens, string finishReason, bool chunksCarryTokens = true)
    {
        if (chunksCarryTokens && completionTokens != _tokens)
            throw new InvalidOperationException($"{path} request {item.Index}: usage says {completionTokens} tokens, the stream carried {_tokens}.");
        return new RequestResult(item.Index, _text.ToString(), completionTokens, promptTokens, finishReason, _ttft);
    }

    public InvalidOperationException Incomplete(string what = "a final chunk") => new($"{path} request {item.Index}: the stream ended without {what}.");
}
