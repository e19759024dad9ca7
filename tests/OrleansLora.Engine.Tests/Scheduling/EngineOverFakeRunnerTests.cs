using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Scheduling;

/// <summary>
/// The engine's scheduling — admission, chunked prefill, the adapter exchange, cancellation, the
/// queue limit — over a <see cref="FakeModelRunner"/>: no model, no tensors, exact expectations.
/// </summary>
public sealed class EngineOverFakeRunnerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static InferenceEngine Engine(FakeModelRunner runner, int maxBatchSize = 4, int maxBatchTokens = 16, int maxQueued = 64, int exchangeSteps = 4) =>
        new(runner, new FakeTokenizer(), new InferenceEngineOptions
        {
            ModelPath = "(fake)",
            MaxBatchSize = maxBatchSize,
            MaxBatchTokens = maxBatchTokens,
            MaxQueuedRequests = maxQueued,
            MaxLoras = runner.AdapterSlots,
            AdapterExchangeSteps = exchangeSteps,
        });

    private static GenerationRequest Request(int[] prompt, int newTokens, string? adapter = null) => new()
    {
        PromptTokens = prompt,
        AdapterId = adapter,
        Sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true },
    };

    private static async Task<(List<int> Tokens, GenerationChunk Last)> Run(InferenceEngine engine, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var tokens = new List<int>();
        GenerationChunk? last = null;
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken).WithCancellation(cancellationToken))
        {
            tokens.AddRange(chunk.TokenIds);
            last = chunk;
        }
        return (tokens, last!);
    }

    /// <summary>The engine publishes its state between steps: wait (boundedly) for every KV slot to be free.</summary>
    private static async Task AllSlotsFree(InferenceEngine engine, FakeModelRunner runner)
    {
        var until = DateTime.UtcNow + Deadline;
        while (engine.Statistics.FreeKvSlots != runner.SequenceSlots && DateTime.UtcNow < until)
            await Task.Delay(10);
        Assert.Equal(runner.SequenceSlots, engine.Statistics.FreeKvSlots);
    }

    private static List<int> Expected(FakeModelRunner runner, int last, int count, string? adapter)
    {
        var list = new List<int>();
        for (int i = 0; i < count; i++)
            list.Add(last = runner.NextToken(last, adapter));
        return list;
    }

    [Fact]
    public async Task Concurrent_requests_on_different_adapters_each_get_their_own_continuation()
    {
        var runner = new FakeModelRunner(sequenceSlots: 4, adapterSlots: 2);
        using var engine = Engine(runner);
        engine.RegisterAdapter("a", "dir-a");
        engine.RegisterAdapter("b", "dir-b");
        engine.RegisterAdapter("c", "dir-c"); // three adapters, two slots: one must wait for an exchange
        string?[] adapters = [null, "a", "b", "c", "a", null];
        var runs = await Task.WhenAll(adapters.Select((a, i) => Run(engine, Request([1, 2, 3 + i], 12, a)))).WaitAsync(Deadline);
        for (int i = 0; i < adapters.Length; i++)
        {
            Assert.Equal(Expected(runner, 3 + i, 12, adapters[i]), runs[i].Tokens);
            Assert.Equal(FinishReason.Length, runs[i].Last.FinishReason);
            Assert.Equal(12, runs[i].Last.Usage!.CompletionTokens);
        }
        Assert.Equal(["a", "b", "c"], runner.Loads.Distinct().Order());
        await AllSlotsFree(engine, runner);
    }

    [Fact]
    public async Task A_long_prompt_is_prefilled_in_chunks_behind_running_decodes()
    {
        var runner = new FakeModelRunner(sequenceSlots: 2, maxSequenceLength: 128);
        using var engine = Engine(runner, maxBatchSize: 2, maxBatchTokens: 8);
        using var queued = new ManualResetEventSlim(false);
        // The second step waits until the long prompt is queued, so it joins a running decode.
        runner.BeforeForward = n => queued.Wait(n == 1 ? Deadline : TimeSpan.Zero);
        var decoding = Run(engine, Request([5], 40));
        var prompt = Enumerable.Range(1, 30).ToArray();
        var until = DateTime.UtcNow + Deadline;
        while (runner.Forwards.IsEmpty && DateTime.UtcNow < until)
            await Task.Delay(1);
        var prefilling = Run(engine, Request(prompt, 3)); // queued when this returns
        queued.Set();
        var prefilled = await prefilling.WaitAsync(Deadline);
        Assert.Equal(Expected(runner, 5, 40, null), (await decoding.WaitAsync(Deadline)).Tokens);
        Assert.Equal(Expected(runner, 30, 3, null), prefilled.Tokens);
        foreach (var forward in runner.Forwards)
        {
            Assert.True(forward.Sum(s => s.TokenCount) <= 8, "a step took more than MaxBatchTokens");
            // Decodes (one token) come before any prompt chunk.
            Assert.Equal(forward.OrderBy(s => s.TokenCount > 1 ? 1 : 0), forward);
        }
        Assert.Contains(runner.Forwards, f => f.Count == 2 && f[0].TokenCount == 1 && f[1].TokenCount > 1);
    }

    [Fact]
    public async Task Cancelling_frees_the_kv_slot_and_the_rest_go_on()
    {
        var runner = new FakeModelRunner(sequenceSlots: 2, maxSequenceLength: 512);
        using var engine = Engine(runner, maxBatchSize: 2);
        using var cts = new CancellationTokenSource();
        using var cancelled = new ManualResetEventSlim(false);
        // From the second step on, the engine waits until the reader has cancelled.
        runner.BeforeForward = n => cancelled.Wait(n >= 1 ? Deadline : TimeSpan.Zero);
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in engine.GenerateAsync(Request([1], 400), cts.Token))
            {
                seen += chunk.TokenIds.Count;
                await cts.CancelAsync();
                cancelled.Set();
            }
        }).WaitAsync(Deadline);
        Assert.InRange(seen, 1, 2);
        runner.BeforeForward = null;
        var other = await Run(engine, Request([2], 5)).WaitAsync(Deadline);
        Assert.Equal(Expected(runner, 2, 5, null), other.Tokens);
        await AllSlotsFree(engine, runner);
        Assert.True(runner.Forwards.Count < 20, $"{runner.Forwards.Count} forwards: the cancelled sequence kept running");
    }

    [Fact]
    public async Task Beyond_the_queue_limit_a_request_is_refused_at_once()
    {
        using var gate = new ManualResetEventSlim(false);
        var runner = new FakeModelRunner(adapterSlots: 1) { ReadGate = gate };
        using var engine = Engine(runner, maxQueued: 1);
        engine.RegisterAdapter("slow", "dir-slow");
        var waiting = Run(engine, Request([1], 2, "slow")); // its adapter's read is held: it stays queued
        Assert.Throws<EngineOverloadedException>(() => engine.GenerateAsync(Request([2], 2)));
        gate.Set();
        Assert.Equal(Expected(runner, 1, 2, "slow"), (await waiting.WaitAsync(Deadline)).Tokens);
        Assert.Equal(Expected(runner, 2, 2, null), (await Run(engine, Request([2], 2)).WaitAsync(Deadline)).Tokens);
    }

    [Fact]
    public async Task A_failed_adapter_read_fails_its_requests_only()
    {
        var runner = new FakeModelRunner(adapterSlots: 1);
        runner.FailingReads["dir-bad"] = true;
        using var engine = Engine(runner);
        engine.RegisterAdapter("bad", "dir-bad");
        var bad = Run(engine, Request([1], 3, "bad"));
        var good = Run(engine, Request([2], 3));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad).WaitAsync(Deadline);
        Assert.Contains("bad", error.Message);
        Assert.Equal(Expected(runner, 2, 3, null), (await good.WaitAsync(Deadline)).Tokens);
    }

    [Fact]
    public async Task An_eos_token_ends_the_sequence_with_end_of_sequence()
    {
        var runner = new FakeModelRunner();
        using var engine = Engine(runner);
        // Find a prompt token whose greedy chain reaches the EOS (id 0) within a few steps.
        int start = Enumerable.Range(1, 63).First(t => Expected(runner, t, 6, null).Contains(0));
        var chain = Expected(runner, start, 6, null);
        var run = await Run(engine, new GenerationRequest { PromptTokens = [start], Sampling = SamplingParams.Greedy with { MaxNewTokens = 20 } }).WaitAsync(Deadline);
        Assert.Equal(chain.Take(chain.IndexOf(0) + 1), run.Tokens);
        Assert.Equal(FinishReason.EndOfSequence, run.Last.FinishReason);
    }
}
