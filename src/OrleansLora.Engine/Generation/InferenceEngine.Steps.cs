using System.Diagnostics;
using OrleansLora.Engine.Diagnostics;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Runners;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Generation;

// One step: a forward over every running sequence, sampling, streaming, and the end of sequences.
public sealed partial class InferenceEngine
{
    private void Step()
    {
        var started = Stopwatch.GetTimestamp();
        _scheduler.EnsureBlocks(Preempted);
        if (_scheduler.PlanStep() is not { } plan)
            return;
        var members = plan.Members;
        using var span = EngineTelemetry.StartStep(members.Select(m => m.TraceContext).ToList(), members.Count, plan.TokenCount);
        using var logits = _runner.Forward(plan.ToBatch()); // a row per member
        var failed = CollectPromptLogprobs(plan, logits);
        int prefill = _scheduler.Advance(plan);
        var ready = new List<int>(members.Count); // members whose pending tokens are all in the cache now
        for (int i = 0; i < members.Count; i++)
        {
            if (plan.NeedsLogits(i) && failed?.Contains(i) != true)
                ready.Add(i);
        }
        // Samplers are independent and top-p over a large vocabulary costs about a millisecond,
        // so a big batch samples in parallel (the forward is done; the cores are free).
        var next = new int[ready.Count];
        var logprobs = new SampleLogprobs?[ready.Count];
        var errors = new Exception?[ready.Count];
        void SampleOne(int j)
        {
            // One sequence's bad logits (all NaN, say) fail that sequence, not the batch.
            try
            {
                next[j] = members[ready[j]].Sampler.Sample(logits.Row(ready[j]), out logprobs[j]);
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
        for (int j = 0; j < ready.Count; j++)
        {
            var s = members[ready[j]];
            try
            {
                if (errors[j] is { } error)
                    throw error;
                Emit(s, next[j], logprobs[j]);
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

    /// <summary>
    /// The prompt log-probabilities this step's token rows give: row t of a member predicts the token after its t-th
    /// token. Positions already collected (recomputed after a preemption) are skipped. Returns the members whose rows
    /// were broken (they are finished with the error), or null.
    /// </summary>
    private HashSet<int>? CollectPromptLogprobs(StepPlan plan, ModelLogits logits)
    {
        HashSet<int>? failed = null;
        for (int i = 0; i < plan.Members.Count; i++)
        {
            if (!plan.NeedsTokenLogits(i))
                continue;
            var s = plan.Members[i];
            var part = plan.Parts[i];
            try
            {
                for (int t = 0; t < part.TokenCount; t++)
                {
                    int target = part.StartPosition + t + 1;
                    if (target >= s.PromptLength)
                        break;
                    if (target == s.PromptLogprobs!.Count)
                        s.PromptLogprobs.Add(PromptTokenLogprobs.Of(logits.TokenRow(i, t), s.Tokens[target], s.Request.Sampling.PromptLogprobs!.Value));
                }
            }
            catch (Exception ex)
            {
                LogSequenceFailed(_logger, ex, s.Request.RequestId);
                Finish(s, ex);
                (failed ??= []).Add(i);
            }
        }
        return failed;
    }

    private void Emit(SequenceState s, int token, SampleLogprobs? logprobs)
    {
        IReadOnlyList<SampleLogprobs>? stepLogprobs = logprobs is null ? null : [logprobs];
        var sampling = s.Request.Sampling;
        bool eos = !sampling.IgnoreEos && Tokenizer.EosTokenIds.Contains(token);
        if (eos)
        {
            s.Sampler.Accept(token);
            s.Tokens.Add(token);
            Finish(s, FinishReason.EndOfSequence, Flush(s), [token], stepLogprobs); // counted and listed, but its text is not emitted
            return;
        }
        s.Sampler.Accept(token);
        s.Tokens.Add(token);
        var match = s.Stops.Append(s.Detokenizer.Append(token));
        if (match.Stopped)
        {
            Finish(s, FinishReason.StopSequence, match.Text, [token], stepLogprobs);
            return;
        }
        if (s.Generated >= sampling.MaxNewTokens || s.Tokens.Count >= _runner.MaxSequenceLength)
        {
            Finish(s, FinishReason.Length, match.Text + Flush(s), [token], stepLogprobs);
            return;
        }
        s.Output.TryWrite(new GenerationChunk(match.Text, [token]) { Logprobs = stepLogprobs, PromptLogprobs = s.TakePromptLogprobs() });
    }

    private static string Flush(SequenceState s)
    {
        var tail = s.Stops.Append(s.Detokenizer.Flush());
        return tail.Stopped ? tail.Text : tail.Text + s.Stops.Flush();
    }

    private void Finish(SequenceState s, FinishReason reason, string text = "", IReadOnlyList<int>? lastTokens = null, IReadOnlyList<SampleLogprobs>? lastLogprobs = null)
    {
        Release(s);
        if (reason != FinishReason.Cancelled)
        {
            var usage = new GenerationUsage(s.PromptLength, s.Generated, s.Sampler.Seed);
            s.Output.TryWrite(new GenerationChunk(text, lastTokens ?? [], reason, usage) { Logprobs = lastLogprobs, PromptLogprobs = s.TakePromptLogprobs() });
        }
        s.Output.TryComplete();
    }

    private void Finish(SequenceState s, Exception error)
    {
        Release(s);
        s.Output.TryComplete(error);
    }

    /// <summary>A sequence gave its KV blocks to older ones: it waits again with its slots freed, its output so far kept.</summary>
    private void Preempted(SequenceState s)
    {
        LogPreempted(_logger, s.Request.RequestId, s.Tokens.Count);
        FreeSlots(s);
    }

    private void Release(SequenceState s)
    {
        FreeSlots(s);
        _scheduler.Remove(s);
    }

    private void FreeSlots(SequenceState s)
    {
        if (s.Slot >= 0)
        {
            _runner.FreeSequence(s.Slot);
            s.Slot = -1;
        }
        if (s.AdapterSlot >= 0)
        {
            _adapters!.Release(s.AdapterSlot);
            s.AdapterSlot = -1;
        }
    }
}
