using Microsoft.Extensions.Options;
using OrleansLora.Errors;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Cluster.Tests.Storage;

/// <summary>
/// The store's sandbox is decided by the file system: every existing prefix of a source is resolved
/// (realpath) and must stay under the root's real path, whatever the text of the links says.
/// </summary>
public sealed class AdapterStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"olora-store-{Guid.NewGuid():n}");
    private readonly AdapterStore _store;

    public AdapterStoreTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "root", "good", "nested"));
        File.WriteAllText(Path.Combine(_dir, "root", "good", "adapter_config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(_dir, "outside", "deep"));
        Directory.CreateDirectory(Path.Combine(_dir, "outside", "victim"));
        File.WriteAllText(Path.Combine(_dir, "outside", "victim", "adapter_config.json"), "{}");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "link-out"), Path.Combine(_dir, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "link-in"), Path.Combine(_dir, "root", "good"));
        // Issue 12: as text "sdeep/../victim" stays in the root; the file system resolves sdeep first.
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "sdeep"), Path.Combine(_dir, "outside", "deep"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "dotdotlink"), "sdeep/../victim");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "self"), ".");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "root", "good", "up"), "../../outside");
        _store = new AdapterStore(Options.Create(new AdapterStoreOptions { Root = Path.Combine(_dir, "root") }));
    }

    [Theory]
    [InlineData("good")]
    [InlineData("good/nested")]
    [InlineData("link-in")]
    [InlineData("link-in/nested")]
    public void PathsInsideTheRootResolveToTheirRealPath(string source)
    {
        Assert.True(_store.Contains(source));
        string real = _store.Resolve(source);
        Assert.StartsWith(_store.Root + "/", real);
        Assert.StartsWith(Path.Combine(_store.Root, "good"), real);
    }

    [Theory]
    [InlineData("../outside", "\"..\"")]
    [InlineData("good/../../outside", "\"..\"")]
    [InlineData("/etc", "absolute")]
    [InlineData("link-out", "symbolic link")]
    [InlineData("link-out/victim", "symbolic link")]
    [InlineData("link-out/missing", "symbolic link")]
    [InlineData("dotdotlink", "symbolic link")]
    [InlineData("good/up", "symbolic link")]
    [InlineData("good/up/victim", "symbolic link")]
    [InlineData("self", "symbolic link")]
    [InlineData("self/good", "symbolic link")]
    [InlineData(".hidden", "hidden")]
    [InlineData("", "empty")]
    [InlineData("C:\\windows", "absolute")]
    [InlineData("good\0x", "absolute")]
    public void EscapesAreRefusedWithTheReason(string source, string reason)
    {
        var ex = Assert.Throws<AdapterSourceRefusedException>(() => _store.Resolve(source));
        Assert.Contains(reason, ex.Message);
        Assert.DoesNotContain(Path.Combine(_dir, "outside"), ex.Message);
        Assert.False(_store.Contains(source));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("good/missing/deeper")]
    public void MissingDirectoriesAreNotFoundRatherThanRefused(string source)
    {
        Assert.Equal(Path.Combine(_store.Root, source), _store.Resolve(source));
        Assert.False(_store.Contains(source));
    }

    [Fact]
    public void ARootThatIsASymbolicLinkIsResolvedOnce()
    {
        string link = Path.Combine(_dir, "root-link");
        Directory.CreateSymbolicLink(link, Path.Combine(_dir, "root"));
        var store = new AdapterStore(Options.Create(new AdapterStoreOptions { Root = link }));
        Assert.Equal(Path.Combine(_dir, "root", "good"), store.Resolve("good"));
        Assert.Throws<AdapterSourceRefusedException>(() => store.Resolve("dotdotlink"));
        // Re-pointing the link later does not move the sandbox.
        Directory.Delete(link);
        Directory.CreateSymbolicLink(link, Path.Combine(_dir, "outside"));
        Assert.Throws<AdapterSourceRefusedException>(() => store.Resolve("victim"));
    }

    [Fact]
    public void ListsAdapterDirectoriesOnly()
    {
        Assert.Equal(["good", "link-in"], _store.List());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
