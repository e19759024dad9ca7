namespace OrleansLora.Engine.Generation;

/// <summary>
/// Waiting requests, one FIFO queue per adapter and one for the base model. Each queue remembers
/// when its current head became the head; the scheduler serves the head that has waited there
/// longest, so an adapter with 100 queued requests and one with a single request alternate
/// instead of the single one waiting behind all 100. Engine thread only.
/// </summary>
internal sealed class AdapterQueues
{
    private const string BaseKey = ""; // adapter ids are never empty

    private sealed class Queue
    {
        public LinkedList<SequenceState> Items { get; } = new();
        public long HeadSince { get; set; }
    }

    private readonly Dictionary<string, Queue> _queues = new(StringComparer.Ordinal);
    private long _tick;
    private long _frontTick;

    public int Count { get; private set; }

    public IEnumerable<SequenceState> All => _queues.Values.SelectMany(q => q.Items);

    private static string KeyOf(SequenceState s) => s.Request.AdapterId ?? BaseKey;

    public void Enqueue(SequenceState s)
    {
        string key = KeyOf(s);
        if (!_queues.TryGetValue(key, out var queue))
            _queues[key] = queue = new Queue { HeadSince = ++_tick };
        queue.Items.AddLast(s);
        Count++;
    }

    /// <summary>
    /// Puts a preempted sequence back at the head of its queue, and that queue ahead of every
    /// other: it was admitted before anything that waits now.
    /// </summary>
    public void EnqueueFront(SequenceState s)
    {
        string key = KeyOf(s);
        if (!_queues.TryGetValue(key, out var queue))
            _queues[key] = queue = new Queue();
        queue.Items.AddFirst(s);
        // Below every enqueue tick; preemption takes the youngest first, so each later one (older) goes earlier.
        queue.HeadSince = --_frontTick;
        Count++;
    }

    /// <summary>The head of every queue, the one longest at its head first.</summary>
    public IReadOnlyList<SequenceState> HeadsByWait() =>
        _queues.Values.OrderBy(q => q.HeadSince).Select(q => q.Items.First!.Value).ToArray();

    /// <summary>Removes an admitted head; the next request of its queue becomes head now.</summary>
    public void DequeueHead(SequenceState head)
    {
        string key = KeyOf(head);
        var queue = _queues[key];
        if (!ReferenceEquals(queue.Items.First?.Value, head))
            throw new InvalidOperationException("only the head of a queue is admitted.");
        queue.Items.RemoveFirst();
        Count--;
        if (queue.Items.Count == 0)
            _queues.Remove(key);
        else
            queue.HeadSince = ++_tick;
    }

    /// <summary>
    /// Removes every waiting request that matches and hands it to <paramref name="removed"/>. A
    /// queue whose head leaves keeps its place: the next request inherits the wait.
    /// </summary>
    public void RemoveWhere(Func<SequenceState, bool> match, Action<SequenceState> removed)
    {
        foreach (var (key, queue) in _queues.ToArray())
        {
            for (var node = queue.Items.First; node is not null;)
            {
                var next = node.Next;
                if (match(node.Value))
                {
                    queue.Items.Remove(node);
                    Count--;
                    removed(node.Value);
                }
                node = next;
            }
            if (queue.Items.Count == 0)
                _queues.Remove(key);
        }
    }

    public bool HasWaiting(string adapterId) => _queues.ContainsKey(adapterId);

    /// <summary>Adapters with waiting requests, the one whose head has waited longest first.</summary>
    public IEnumerable<string> WaitingAdapters =>
        _queues.Where(q => q.Key != BaseKey).OrderBy(q => q.Value.HeadSince).Select(q => q.Key);

    public Dictionary<string, int> CountsByAdapter() =>
        _queues.Where(q => q.Key != BaseKey).ToDictionary(q => q.Key, q => q.Value.Items.Count, StringComparer.Ordinal);
}
