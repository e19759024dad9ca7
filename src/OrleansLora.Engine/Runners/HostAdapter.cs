using OrleansLora.Engine.Adapters;

namespace OrleansLora.Engine.Runners;

/// <summary>
/// An adapter's weights in host memory, prepared by <see cref="IModelRunner.PrepareAdapter"/> in the
/// layout its runner copies into a device slot. Opaque above the runner: the host cache and pending
/// slot loads only count references. The last <see cref="Release"/> frees the memory.
/// </summary>
public abstract class HostAdapter(PeftAdapterInfo info, long byteSize)
{
    private int _references = 1;

    public PeftAdapterInfo Info { get; } = info;
    public int Rank => Info.Rank;

    /// <summary>Bytes of host memory the prepared weights take.</summary>
    public long ByteSize { get; } = byteSize;

    /// <summary>Takes another reference; false when the memory is already freed.</summary>
    internal bool TryRetain()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            if (current == 0)
                return false;
        }
        while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
        return true;
    }

    /// <summary>Drops a reference; the last one frees the memory.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left < 0)
            throw new InvalidOperationException($"adapter {Info.Name} was released more often than retained.");
        if (left == 0)
            Free();
    }

    /// <summary>Frees the prepared weights; called once, by the last <see cref="Release"/>.</summary>
    protected abstract void Free();
}
