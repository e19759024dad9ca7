using OrleansLora.Engine.ModelInit;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>One tiny random-weight model written per test class that uses it.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly TempDirectory _dir = new("olora-tiny");

    public TinyModelFixture()
    {
        RandomModelWriter.Write(ModelPresets.Tiny, _dir.Path, seed: 1234);
    }

    public string Path => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
