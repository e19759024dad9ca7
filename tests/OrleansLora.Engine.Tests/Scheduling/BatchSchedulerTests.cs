using System.Threading.Channels;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Scheduling;

/// <summary>Admission, the queue limit, fairness between adapter queues and step composition, on plain state: no engine thread, no model.</summary>
public sealed class BatchSchedulerTests
{
    private static readonly FakeTokenizer Tokenizer = new();

    private static SequenceState Sequence(int promptLength, string? adapter = null) =>
        new(new GenerationRequest { PromptTokens = Enumerable.Range(1, promptLength).ToArray(), AdapterId = adapter, Sampling = SamplingParams.Greedy },
            Enumerable.Range(1, promptLength).ToArray(), Tokenizer, Channel.CreateUnbounded<GenerationChunk>().Writer, CancellationToken.None);

    private static bool AnySlot(string adapterId, out int slot)
    {
        slot = 0;
        return true;
    }

    private static BatchScheduler Enqueued(BatchScheduler scheduler, params SequenceState[] sequences)
    {
        foreach (var s in sequences)
        {
            Assert.True(scheduler.TryReserve());
            scheduler.Enqueue(s);
        }
        return scheduler;
    }

    [Fact]
    public void The_queue_limit_counts_reserved_places_until_admission()
    {
        var scheduler = new BatchScheduler(maxBatchSize: 4, maxBatchTokens: 64, maxQueued: 2);
        Assert.True(scheduler.TryReserve());
        Assert.True(scheduler.TryReserve());
        Assert.False(scheduler.TryReserve());
        scheduler.Unreserve();
        Assert.True(scheduler.TryReserve());
        Assert.Equal(2, scheduler.Queued);
    }

    [Fact]
    public void The_head_that_waited_longest_goes_first_so_a_crowded_adapter_alternates_with_a_quiet_one()
    {
        var a = Enumerable.Range(0, 3).Select(_ => Sequence(2, "a")).ToArray();
        var b = Sequence(2, "b");
        var scheduler = Enqueued(new BatchScheduler(maxBatchSize: 8, maxBatchTokens: 64, maxQueued: 8), [.. a, b]);
        var runner = new FakeModelRunner(sequenceSlots: 3);
        Assert.Equal(3, scheduler.Admit(runner, AnySlot)); // three KV slots
        // a[0] was head first; then b's head is older than a[1] (which became head on a[0]'s admission).
        Assert.Equal([a[0], b, a[1]], scheduler.Running);
        Assert.Equal(1, scheduler.Waiting);
        Assert.Equal(1, scheduler.Queued);
        Assert.Equal(0, runner.FreeSequenceSlots);
        Assert.Equal(3, scheduler.Running.Select(s => s.Slot).Distinct().Count());
    }

    [Fact]
    public void An_adapter_that_cannot_run_now_waits_while_others_go_ahead()
    {
        var cold = Sequence(2, "cold");
        var warm = Sequence(2, "warm");
        var baseModel = Sequence(2);
        var scheduler = Enqueued(new BatchScheduler(maxBatchSize: 8, maxBatchTokens: 64, maxQueued: 8), cold, warm, baseModel);
        bool OnlyWarm(string id, out int slot)
        {
            slot = id == "warm" ? 1 : -1;
            return id == "warm";
        }
        Assert.Equal(2, scheduler.Admit(new FakeModelRunner(sequenceSlots: 4), OnlyWarm));
        Assert.Equal([warm, baseModel], scheduler.Running);
        Assert.Equal([1, -1], scheduler.Running.Select(s => s.AdapterSlot));
        Assert.True(scheduler.HasWaiting("cold"));
        Assert.Equal(["cold"], scheduler.WaitingAdapters);
    }

    [Fact]
    public void A_step_takes_decodes_first_then_prompt_chunks_within_the_token_budget()
    {
        var longPrompt = Sequence(20);
        var shortPrompt = Sequence(3);
        var scheduler = Enqueued(new BatchScheduler(maxBatchSize: 4, maxBatchTokens: 8, maxQueued: 8), longPrompt, shortPrompt);
        scheduler.Admit(new FakeModelRunner(sequenceSlots: 4), AnySlot);

        var first = scheduler.PlanStep()!;
        Assert.Equal([longPrompt], first.Members); // 8 of its 20 prompt tokens fill the budget
        Assert.Equal(8, first.TokenCount);
        Assert.False(first.NeedsLogits(0));
        Assert.Equal(8, scheduler.Advance(first));

        var second = scheduler.PlanStep()!;
        Assert.Equal(8, second.TokenCount);
        Assert.Equal(8, scheduler.Advance(second));

        // The short prompt's 3 tokens and the long prompt's last 4 fit together; both sample afterwards.
        var third = scheduler.PlanStep()!;
        Assert.Equal(7, third.TokenCount);
        Assert.True(third.NeedsLogits(0) && third.NeedsLogits(1));
        scheduler.Advance(third);

        // Decoding now: each takes one token; a new prompt comes after them.
        longPrompt.Tokens.Add(5);
        shortPrompt.Tokens.Add(6);
        var newcomer = Sequence(10);
        Enqueued(scheduler, newcomer).Admit(new FakeModelRunner(sequenceSlots: 1), AnySlot);
        var fourth = scheduler.PlanStep()!;
        Assert.Equal([1, 1, 6], fourth.Parts.Select(p => p.TokenCount));
        Assert.Equal(newcomer, fourth.Members[2]);
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(fourth.NeedsLogits));
        Assert.Equal([20, 3, 0], fourth.Parts.Select(p => p.StartPosition));
    }

    [Fact]
    public void Waiting_requests_removed_give_their_places_back()
    {
        var scheduler = Enqueued(new BatchScheduler(maxBatchSize: 4, maxBatchTokens: 64, maxQueued: 2), Sequence(2, "x"), Sequence(2));
        Assert.False(scheduler.TryReserve());
        var removed = new List<SequenceState>();
        scheduler.RemoveWaiting(s => s.Request.AdapterId == "x", removed.Add);
        Assert.Single(removed);
        Assert.Equal(1, scheduler.Queued);
        Assert.True(scheduler.TryReserve());
    }

    [Fact]
    public void Paged_admission_waits_for_blocks_and_growth_preempts_the_youngest_back_to_the_front_of_the_queue()
    {
        // 6 blocks of 4: three 7-token prompts take 2 blocks each.
        var blocks = new KvBlockAllocator(new KvBlockLayout(4, 6));
        var (old, middle, young, late) = (Sequence(7), Sequence(7), Sequence(7), Sequence(3));
        var scheduler = Enqueued(new BatchScheduler(maxBatchSize: 8, maxBatchTokens: 64, maxQueued: 8, blocks), old, middle, young, late);
        var runner = new FakeModelRunner(sequenceSlots: 8);
        Assert.Equal(3, scheduler.Admit(runner, AnySlot)); // the fourth waits for a block
        Assert.Equal([old, middle, young], scheduler.Running);
        Assert.Equal(0, blocks.AvailableBlocks);

        var prefill = scheduler.PlanStep()!;
        scheduler.Advance(prefill);
        foreach (var s in scheduler.Running)
            s.Tokens.Add(9); // each sampled a token: position 7 is still inside block 2
        var preempted = new List<SequenceState>();
        scheduler.EnsureBlocks(preempted.Add);
        Assert.Empty(preempted);
        scheduler.Advance(scheduler.PlanStep()!);
        foreach (var s in scheduler.Running)
            s.Tokens.Add(9); // position 8 needs a third block each: none is free

        scheduler.EnsureBlocks(preempted.Add);
        // The oldest needs a block: the youngest is preempted (two blocks back); the oldest and the
        // middle one each take one of them.
        Assert.Equal([young], preempted);
        Assert.Equal([old, middle], scheduler.Running);
        Assert.Equal(0, young.Processed);
        Assert.Null(young.Blocks);
        Assert.Equal(1, scheduler.Preemptions);
        Assert.Equal(3, old.Blocks!.Blocks.Count);
        Assert.Equal(3, middle.Blocks!.Blocks.Count);
        Assert.Equal(2, scheduler.Queued);

        // When the oldest finishes, the preempted one is admitted before the request that queued
        // ahead of its readmission, with its generated tokens as part of its prompt; the three had
        // the same prompt, so the oldest's cached blocks give it the first 8 positions back.
        scheduler.Remove(old);
        Assert.Equal(1, scheduler.Admit(runner, AnySlot));
        Assert.Equal([middle, young], scheduler.Running);
        Assert.Equal(9, young.Tokens.Count);
        Assert.Equal(8, young.Processed);
        Assert.Equal(1, scheduler.Queued); // "late" waits for a block
    }
}
