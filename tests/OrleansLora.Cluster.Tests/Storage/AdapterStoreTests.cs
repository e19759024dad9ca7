using Microsoft.Extensions.Options;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Cluster.Tests.Storage;

public sealed class AdapterStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"olora-store-{Guid.NewGuid():n}");
    private readonly AdapterStore _store;

    public AdapterStoreTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "good", "nested"));
        File.WriteAllText(Path.Combine(_dir, "root", "good", "adapter_config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(_dir, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "link-out"), Path.Combine(_dir, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "link-in"), Path.Combine(_dir, "root", "good"));
        _store = new AdapterStore(Options.Create(new AdapterStoreOptions { Root = Path.Combine(_dir, "root") }));
    }

    [Theory]
    [InlineData("good")]
    [InlineData("good/nested")]
    [InlineData("link-in")]
    public void PathsInsideTheRootResolve(string source)
    {
        Assert.True(_store.Contains(source));
        Assert.StartsWith(_store.Root, _store.Resolve(source));
    }

    [Theory]
    [InlineData("../outside", "\"..\"")]
    [InlineData("good/../../outside", "\"..\"")]
    [InlineData("/etc", "absolute")]
    [InlineData("link-out", "symbolic link")]
    [InlineData(".hidden", "hidden")]
    [InlineData("", "empty")]
    [InlineData("C:\\windows", "absolute")]
    public void EscapesAreRefusedWithTheReason(string source, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => _store.Resolve(source));
        Assert.Contains(reason, ex.Message);
        Assert.False(_store.Contains(source));
    }

    [Fact]
    public void ListsAdapterDirectoriesOnly()
    {
        Assert.Equal(["good", "link-in"], _store.List());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
