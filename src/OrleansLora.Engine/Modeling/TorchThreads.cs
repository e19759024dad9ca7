using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// libtorch's intra-op thread count for the calling thread, lowered for a scope and restored after (OpenMP keeps the
/// count per thread, so other threads' forwards are unaffected).
/// </summary>
internal readonly struct TorchThreads : IDisposable
{
    private readonly int _restore;

    private TorchThreads(int restore) => _restore = restore;

    /// <summary>One thread until disposed.</summary>
    public static TorchThreads One()
    {
        int current = get_num_threads();
        if (current == 1)
            return default;
        set_num_threads(1);
        return new TorchThreads(current);
    }

    public void Dispose()
    {
        if (_restore > 1)
            set_num_threads(_restore);
    }
}
