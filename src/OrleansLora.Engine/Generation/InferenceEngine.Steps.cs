using System.Diagnostics;
using OrleansLora.Engine.Diagnostics;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Generation;

// One step: a forward over every running sequence, sampling, streaming, and the end of sequences.
public sealed partial class InferenceEngine
{
    private void Step()
    {
        var started = Stopwatch.GetTimestamp();
        int budget = _options.MaxBatchTokens;
        var members = new List<SequenceState>();
        var parts = new List<BatchSequence>();
        var tokens = new List<int>();
        // Decoding sequences first (one token each), so a long prompt never delays them; prompts
        // then take what is left of the token budget, a chunk at a time.
        foreach (var s in _running.OrderBy(s => s.Pending > 1 ? 1 : 0))
        {
            int take = Math.Min(s.Pending, budget);
            if (take == 0)
                continue;
            members.Add(s);
            parts.Add(new BatchSequence(s.Slot, s.Processed, take, s.AdapterSlot));
            for (int i = 0; i < take; i++)
                tokens.Add(s.Tokens[s.Processed + i]);
            budget -= take;
        }

        using var span = EngineTelemetry.StartStep(members.ConvertAll(m => m.TraceContext), members.Count, tokens.Count);
        int vocab = _model.Config.VocabSize;
        using var batch = new ForwardBatch(parts, tokens.ToArray(), _cache.MaxSequenceLength);
        using var logits = _model.Forward(batch, _cache); // [members, vocab] float32, read in place
        nint logitsPtr = TensorMemory.DataPointer(logits);

        int prefill = 0;
        var ready = new List<int>(members.Count); // members whose pending tokens are all in the cache now
        for (int i = 0; i < members.Count; i++)
        {
            var s = members[i];
            if (s.Processed < s.PromptLength)
                prefill += parts[i].TokenCount;
            s.Processed += parts[i].TokenCount;
            if (s.Pending == 0)
                ready.Add(i); // else the prompt chunk did not reach its end: no token to sample yet
        }
        // Samplers are independent and top-p over a large vocabulary costs about a millisecond,
        // so a big batch samples in parallel (the forward is done; the cores are free).
        var next = new int[ready.Count];
        var errors = new Exception?[ready.Count];
        unsafe void SampleOne(int j)
        {
            // One sequence's bad logits (all NaN, say) fail that sequence, not the batch.
            try
            {
                next[j] = members[ready[j]].Sampler.Sample(new ReadOnlySpan<float>((float*)logitsPtr + (long)ready[j] * vocab, vocab));
            }
            catch (Exception ex)
            {
                errors[j] = ex;
            }
        }
        if (ready.Count >= 4)
            Parallel.For(0, ready.Count, SampleOne);
        else
            for (int j = 0; j < ready.Count; j++)
                SampleOne(j);
        GC.KeepAlive(logits);
        for (int j = 0; j < ready.Count; j++)
        {
            var s = members[ready[j]];
            try
            {
                if (errors[j] is { } error)
                    throw error;
                Emit(s, next[j]);
            }
            catch (Exception ex)
            {
                LogSequenceFailed(_logger, ex, s.Request.RequestId);
                Finish(s, ex);
            }
        }
        int generated = ready.Count;
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _generatedTokens, generated);
        Interlocked.Add(ref _prefillTokens, prefill);
        Volatile.Write(ref _lastStepMs, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private void Emit(SequenceState s, int token)
    {
        var sampling = s.Request.Sampling;
        bool eos = !sampling.IgnoreEos && Tokenizer.EosTokenIds.Contains(token);
        if (eos)
        {
            s.Sampler.Accept(token);
            s.Tokens.Add(token);
            Finish(s, FinishReason.Stop, Flush(s), [token]); // counted and listed, but its text is not emitted
            return;
        }
        s.Sampler.Accept(token);
        s.Tokens.Add(token);
        var match = s.Stops.Append(s.Detokenizer.Append(token));
        if (match.Stopped)
        {
            Finish(s, FinishReason.Stop, match.Text, [token]);
            return;
        }
        if (s.Generated >= sampling.MaxNewTokens || s.Tokens.Count >= _cache.MaxSequenceLength)
        {
            Finish(s, FinishReason.Length, match.Text + Flush(s), [token]);
            return;
        }
        s.Output.TryWrite(new GenerationChunk(match.Text, [token]));
    }

    private static string Flush(SequenceState s)
    {
        var tail = s.Stops.Append(s.Detokenizer.Flush());
        return tail.Stopped ? tail.Text : tail.Text + s.Stops.Flush();
    }

    private void Finish(SequenceState s, FinishReason reason, string text = "", IReadOnlyList<int>? lastTokens = null)
    {
        Release(s);
        if (reason != FinishReason.Cancelled)
        {
            var usage = new GenerationUsage(s.PromptLength, s.Generated, s.Sampler.Seed);
            s.Output.TryWrite(new GenerationChunk(text, lastTokens ?? [], reason, usage));
        }
        s.Output.TryComplete();
    }

    private void Finish(SequenceState s, Exception error)
    {
        Release(s);
        s.Output.TryComplete(error);
    }

    private void Release(SequenceState s)
    {
        if (s.Slot >= 0)
        {
            _cache.Free(s.Slot);
            s.Slot = -1;
        }
        if (s.AdapterSlot >= 0)
        {
            _adapters!.Release(s.AdapterSlot);
            s.AdapterSlot = -1;
        }
        _running.Remove(s);
    }
}
