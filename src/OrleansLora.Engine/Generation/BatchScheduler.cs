using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// Decides which requests run and what each step computes, on plain ids and counts: the queue
/// limit, one waiting queue per adapter (the head that has waited longest goes first), admission
/// while KV slots and <c>maxBatchSize</c> allow, and steps that take one token from every decoding
/// sequence before prompt chunks share what is left of <c>maxBatchTokens</c> (chunked prefill: a
/// long prompt never stalls running decodes). Whether an adapter's request can run now is asked of
/// the caller (the adapter tiers). With a paged KV cache (<paramref name="blocks"/>) a request is
/// admitted when blocks for all its tokens are available (less the cached prefix it reuses, which it
/// does not compute again), and a running sequence that needs a block when none is left takes it from
/// the youngest running sequence, which is preempted: its blocks freed, it goes back to the front
/// of the queue with its generated tokens and is computed again when admitted (recompute; the
/// cached prefix makes that cheap). An admitted request never fails for want of KV space.
/// Engine thread, except <see cref="TryReserve"/> and <see cref="Unreserve"/>.
/// </summary>
internal sealed class BatchScheduler(int maxBatchSize, int maxBatchTokens, int maxQueued, KvBlockAllocator? blocks = null)
{
    /// <summary>Engine thread: gives the device adapter slot an adapter's request runs in now (acquired for it), or says it must wait.</summary>
    public delegate bool AdapterSlotFor(string adapterId, out int slot);

    private readonly AdapterQueues _queues = new(); // waiting requests, one queue per adapter and one for the base model
    private readonly List<SequenceState> _running = [];
    private int _queued; // accepted and not yet admitted (or dropped): the queue limit counts these

    public IReadOnlyList<SequenceState> Running => _running;
    /// <summary>The paged cache's blocks; null with fixed slots.</summary>
    public KvBlockAllocator? Blocks => blocks;
    /// <summary>Sequences preempted so far (their blocks taken by older ones).</summary>
    public long Preemptions { get; private set; }
    public int Queued => Volatile.Read(ref _queued);
    public int Waiting => _queues.Count;
    public IEnumerable<SequenceState> WaitingRequests => _queues.All;

    /// <summary>Any thread: takes a place in the queue; false when <c>maxQueued</c> requests already wait.</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _queued) <= maxQueued)
            return true;
        Interlocked.Decrement(ref _queued);
        return false;
    }

    /// <summary>Any thread: gives back a place taken by <see cref="TryReserve"/> for a request that never queued.</summary>
    public void Unreserve() => Interlocked.Decrement(ref _queued);

    /// <summary>A reserved request joins its adapter's queue.</summary>
    public void Enqueue(SequenceState s) => _queues.Enqueue(s);

    /// <summary>Removes waiting requests that match (their places freed) and hands each to <paramref name="removed"/>.</summary>
    public void RemoveWaiting(Func<SequenceState, bool> match, Action<SequenceState> removed) =>
        _queues.RemoveWhere(match, s =>
        {
            Interlocked.Decrement(ref _queued);
            removed(s);
        });

    public bool HasWaiting(string adapterId) => _queues.HasWaiting(adapterId);

    /// <summary>Adapters with waiting requests, the one whose head has waited longest first.</summary>
    public IEnumerable<string> WaitingAdapters => _queues.WaitingAdapters;

    public IReadOnlyDictionary<string, int> WaitingByAdapter() => _queues.CountsByAdapter();

    /// <summary>
    /// While KV space and <c>maxBatchSize</c> allow: again and again, the waiting request whose queue
    /// head has waited longest among those that can run now. A base-model request always can; an
    /// adapter's when <paramref name="adapterSlotFor"/> gives it a slot. The others keep waiting
    /// while the rest go ahead. Returns how many were admitted.
    /// </summary>
    public int Admit(IModelRunner runner, AdapterSlotFor adapterSlotFor)
    {
        int admitted = 0;
        while (_running.Count < maxBatchSize && runner.FreeSequenceSlots > 0 && _queues.Count > 0)
        {
            SequenceState? chosen = null;
            int adapterSlot = -1;
            foreach (var head in _queues.HeadsByWait())
            {
                if (SharesPrefill(runner) && PrefillingSibling(head))
                    continue; // it starts from the sibling's keys and values once they are in the cache
                // The head that has waited longest and lacks KV blocks stops admission: smaller
                // requests behind it would otherwise take every block it waits for.
                if (blocks is not null && !blocks.CanAdmit(KvKey(head), head.Tokens, reuse: !head.WantsPromptLogits))
                    break;
                if (head.Request.AdapterId is not { } id)
                {
                    chosen = head;
                    adapterSlot = -1;
                    break;
                }
                if (adapterSlotFor(id, out adapterSlot))
                {
                    chosen = head;
                    break;
                }
            }
            if (chosen is null)
                break;
            _queues.DequeueHead(chosen);
            Interlocked.Decrement(ref _queued);
            chosen.AdapterSlot = adapterSlot;
            runner.TryAllocateSequence(out int slot);
            chosen.Slot = slot;
            // A sequence that wants its prompt's log-probabilities computes every position: nothing is reused or copied.
            bool reuse = !chosen.WantsPromptLogits;
            if (blocks is not null)
            {
                // Samples of one prompt share its full blocks through the prefix cache: no copy.
                chosen.Blocks = blocks.TryAdmit(KvKey(chosen), chosen.Tokens, reuse)
                    ?? throw new InvalidOperationException("KV blocks counted for admission were not available.");
                chosen.Processed = chosen.Blocks.ReusedTokens;
                // A sample whose sibling has computed the prompt copies the rest of it (the partial block)
                // instead of computing it: only the last prompt token runs, giving its own logits.
                int positions = chosen.PromptLength - 1;
                if (chosen.Processed < positions && Donor(chosen) is { Blocks: { } donorBlocks })
                {
                    var pairs = new List<int>();
                    for (int k = chosen.Processed / blocks.BlockSize; k <= (positions - 1) / blocks.BlockSize; k++)
                    {
                        pairs.Add(donorBlocks.Blocks[k]);
                        pairs.Add(chosen.Blocks.Blocks[k]);
                    }
                    runner.CopyKvBlocks([.. pairs]);
                    chosen.Processed = positions;
                }
            }
            else if (runner.CanCopySequences && Donor(chosen) is { } donor)
            {
                // Up to the prompt's last token: that one runs as the sequence's own one-token prefill, giving its logits.
                int positions = chosen.PromptLength - 1;
                runner.CopySequence(donor.Slot, slot, positions);
                chosen.Processed = positions;
            }
            _running.Add(chosen);
            admitted++;
        }
        return admitted;
    }

    /// <summary>The prefix cache's key for a sequence: its adapter id, or empty for the base model.</summary>
    private static string KvKey(SequenceState s) => s.Request.AdapterId ?? "";

    /// <summary>
    /// Paged cache: gives every running sequence the blocks its pending tokens need, oldest first;
    /// when none are left, preempts the youngest running sequence (possibly the one asking) and
    /// hands it to <paramref name="preempted"/> (which frees its sequence and adapter slots).
    /// </summary>
    public void EnsureBlocks(Action<SequenceState> preempted)
    {
        if (blocks is null)
            return;
        for (int i = 0; i < _running.Count; i++)
        {
            var s = _running[i];
            while (!blocks.TryGrow(s.Blocks!, s.Tokens.Count))
            {
                var victim = _running[^1];
                Preempt(victim, preempted);
                if (ReferenceEquals(victim, s))
                    return; // s was the youngest: everything older has its blocks
            }
        }
    }

    private void Preempt(SequenceState s, Action<SequenceState> preempted)
    {
        _running.Remove(s);
        blocks!.Free(s.Blocks!);
        s.Blocks = null;
        s.Processed = 0;
        s.Preemptions++;
        Preemptions++;
        preempted(s);
        _queues.EnqueueFront(s);
        Interlocked.Increment(ref _queued);
    }

    /// <summary>
    /// Whether samples of one prompt wait for the first one's prefill and then share it: by a copy
    /// of its slot, or with a paged cache its full blocks through the prefix cache and a copy of the rest.
    /// </summary>
    private bool SharesPrefill(IModelRunner runner) => blocks is not null || runner.CanCopySequences;

    /// <summary>
    /// A running sample of the same prompt (group and adapter) that has not yet cached what <paramref name="s"/> could copy;
    /// never for a sequence that wants its prompt's log-probabilities (it computes every position itself).
    /// </summary>
    private bool PrefillingSibling(SequenceState s) =>
        !s.WantsPromptLogits && s.Request.PrefixGroup is { } group && s.PromptLength > 1
        && _running.Exists(r => r.Request.PrefixGroup == group && r.Request.AdapterId == s.Request.AdapterId && r.Processed < s.PromptLength - 1);

    /// <summary>
    /// A running sequence whose cache holds <paramref name="s"/>'s prompt but its last token: same group, adapter and tokens.
    /// None for a sequence that wants its prompt's log-probabilities (it computes every position itself).
    /// </summary>
    private SequenceState? Donor(SequenceState s)
    {
        if (s.WantsPromptLogits || s.Request.PrefixGroup is not { } group || s.PromptLength < 2)
            return null;
        int positions = s.PromptLength - 1;
        return _running.Find(r => r != s && r.Request.PrefixGroup == group && r.Request.AdapterId == s.Request.AdapterId
            && r.Slot >= 0 && r.Processed >= positions && r.Tokens.Count >= positions
            && r.Tokens.Take(positions).SequenceEqual(s.Tokens.Take(positions)));
    }

    /// <summary>
    /// The next step: decoding sequences first (one token each), so a long prompt never delays
    /// them; prompts then take what is left of the token budget, a chunk at a time. Null when
    /// nothing runs.
    /// </summary>
    public StepPlan? PlanStep()
    {
        int budget = maxBatchTokens;
        var members = new List<SequenceState>();
        var parts = new List<BatchSequence>();
        var tokens = new List<int>();
        foreach (var s in _running.OrderBy(s => s.Pending > 1 ? 1 : 0))
        {
            int take = Math.Min(s.Pending, budget);
            if (take == 0)
                continue;
            members.Add(s);
            parts.Add(new BatchSequence(s.Slot, s.Processed, take, s.AdapterSlot, s.Blocks?.Blocks.ToArray()));
            for (int i = 0; i < take; i++)
                tokens.Add(s.Tokens[s.Processed + i]);
            budget -= take;
        }
        if (members.Count == 0)
            return null;
        // A member needs logits when this step puts all its pending tokens in the cache; a prompt
        // chunk that does not reach the prompt's end has no token to sample yet.
        var needsLogits = new bool[members.Count];
        bool[]? tokenLogits = null;
        for (int i = 0; i < members.Count; i++)
        {
            needsLogits[i] = parts[i].TokenCount == members[i].Pending;
            if (members[i].WantsPromptLogits)
                (tokenLogits ??= new bool[members.Count])[i] = true;
        }
        return new StepPlan(members, parts, [.. tokens], needsLogits, tokenLogits);
    }

    /// <summary>
    /// After the forward: the step's tokens are in the cache (with a paged cache, the blocks they
    /// filled join the prefix cache). Returns the prompt tokens it prefilled.
    /// </summary>
    public int Advance(StepPlan plan)
    {
        int prefill = 0;
        for (int i = 0; i < plan.Members.Count; i++)
        {
            var s = plan.Members[i];
            if (s.Processed < s.PromptLength)
                prefill += plan.Parts[i].TokenCount;
            s.Processed += plan.Parts[i].TokenCount;
            if (blocks is not null && s.Blocks is not null)
                blocks.Commit(s.Blocks, s.Tokens, s.Processed);
        }
        return prefill;
    }

    /// <summary>A running sequence ends: its KV blocks are given back (its sequence and adapter slots are the caller's to free).</summary>
    public void Remove(SequenceState s)
    {
        _running.Remove(s);
        if (s.Blocks is not null)
        {
            blocks!.Free(s.Blocks);
            s.Blocks = null;
        }
    }
}
