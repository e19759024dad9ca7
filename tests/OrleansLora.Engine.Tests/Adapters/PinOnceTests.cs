using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Tests.Support;
using static OrleansLora.Engine.Tests.Adapters.AdapterEngines;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>
/// PinOnceAsync keeps the engine the only record of pins: a repeated pin is not a second pin, the limit keeps
/// slots free for unpinned adapters, and ReleasePinsAsync lets go of whatever an adapter holds.
/// </summary>
public sealed class PinOnceTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-pin-once");
    private static readonly int[] Prompt = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

    [Fact]
    public async Task APinIsTakenOnceAndOnlyWithinTheLimit()
    {
        string[] adapters = Write(model.Path, _dir.Path, [4, 8, 16]);
        // Three slots, two pinnable: the third stays free for adapters that are not pinned.
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxLoras = 3, MaxLoraRank = 16 });
        Assert.True(await engine.PinOnceAsync("a0", maxPinnedAdapters: 2));
        Assert.True(await engine.PinOnceAsync("a0", maxPinnedAdapters: 2)); // asked again (a re-created grain): still one pin
        Assert.True(await engine.PinOnceAsync("a1", maxPinnedAdapters: 2));
        Assert.False(await engine.PinOnceAsync("a2", maxPinnedAdapters: 2));

        var byId = (await engine.GetAdaptersAsync()).ToDictionary(a => a.AdapterId);
        Assert.Equal((1, 1, 0), (byId["a0"].Pins, byId["a1"].Pins, byId["a2"].Pins));
        Assert.Equal(2, engine.Statistics.AdapterSlotsPinned);
        // The unpinned adapter runs in the slot the limit kept free.
        var unpinned = Run(engine, Greedy(Prompt, "a2", newTokens: 3));
        Assert.True(await Task.WhenAny(unpinned, Task.Delay(TimeSpan.FromSeconds(60))) == unpinned, "the unpinned adapter a2 did not run within 60 s: the pins left it no slot");
        Assert.Equal(3, (await unpinned).Length);

        Assert.True(await engine.ReleasePinsAsync("a0"));
        Assert.False(await engine.ReleasePinsAsync("a0")); // nothing left to release
        Assert.True(await engine.PinOnceAsync("a2", maxPinnedAdapters: 2));
        byId = (await engine.GetAdaptersAsync()).ToDictionary(a => a.AdapterId);
        Assert.Equal((0, 1, 1), (byId["a0"].Pins, byId["a1"].Pins, byId["a2"].Pins));
        await engine.UnregisterAdapterAsync("a0"); // no pin left behind to refuse it
    }

    public void Dispose() => _dir.Dispose();
}
