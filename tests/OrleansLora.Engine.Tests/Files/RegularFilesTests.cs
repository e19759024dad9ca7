using OrleansLora.Engine.Files;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Files;

/// <summary>
/// The file opener adapters are read through: the operating system decides where a path leads, only
/// regular files open, nothing blocks, and a sandbox holds against every kind of symbolic link.
/// </summary>
public sealed class RegularFilesTests : IDisposable
{
    private static readonly TimeSpan NoBlock = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _dir = new("olora-files");
    private readonly FileSandbox _sandbox;

    public RegularFilesTests()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(_dir.File("outside/deep"));
        File.WriteAllText(_dir.File("outside/victim"), "secret");
        File.WriteAllText(Path.Combine(Root, "plain"), "hello");
        _sandbox = new FileSandbox(Root, "the adapter store");
    }

    private string Root => _dir.File("root");

    private string InRoot(string name) => Path.Combine(Root, name);

    private FileRefusedException Refused(string path, FileSandbox? sandbox, long maxBytes = long.MaxValue)
    {
        // Run beside the test thread with a deadline: a FIFO that blocked the open would hang here.
        var open = Task.Run(() => RegularFiles.OpenRead(path, maxBytes, sandbox).Dispose());
        Assert.True(Task.WaitAny([open], NoBlock) == 0, $"opening {path} blocked for {NoBlock}");
        return Assert.IsType<FileRefusedException>(open.Exception?.InnerException);
    }

    [Fact]
    public void A_regular_file_inside_opens_and_reads()
    {
        using var handle = RegularFiles.OpenRead(InRoot("plain"), 100, _sandbox);
        Assert.Equal(5, RandomAccess.GetLength(handle));
    }

    [Fact]
    public void A_link_through_a_link_and_dotdot_is_resolved_by_the_file_system()
    {
        // sdeep -> outside/deep; dotdotlink -> sdeep/../victim: as text it stays in the root, on disk it is outside/victim.
        File.CreateSymbolicLink(InRoot("sdeep"), _dir.File("outside/deep"));
        File.CreateSymbolicLink(InRoot("dotdotlink"), "sdeep/../victim");
        Assert.Equal(_dir.File("outside/victim"), RegularFiles.RealPath(InRoot("dotdotlink")));
        var ex = Refused(InRoot("dotdotlink"), _sandbox);
        Assert.Contains("outside the adapter store", ex.Message);
        Assert.DoesNotContain("victim", ex.Reason);
        Assert.Throws<FileRefusedException>(() => _sandbox.Resolve(InRoot("dotdotlink")));
    }

    [Fact]
    public void Links_out_are_refused_links_inside_are_followed()
    {
        File.CreateSymbolicLink(InRoot("out"), _dir.File("outside/victim"));
        File.CreateSymbolicLink(InRoot("in"), "plain");
        Assert.Contains("outside", Refused(InRoot("out"), _sandbox).Reason);
        using var handle = RegularFiles.OpenRead(InRoot("in"), 100, _sandbox);
        Assert.Equal(5, RandomAccess.GetLength(handle));
        // Without a sandbox the same link opens: only the root makes it an escape.
        RegularFiles.OpenRead(InRoot("out"), 100).Dispose();
    }

    [Fact]
    public void A_fifo_is_refused_at_once_instead_of_waiting_for_a_writer()
    {
        Fifo.Create(InRoot("pipe"));
        Assert.Contains("FIFO", Refused(InRoot("pipe"), _sandbox).Reason);
        Assert.Contains("FIFO", Refused(InRoot("pipe"), null).Reason);
    }

    [Fact]
    public void Devices_and_directories_are_not_regular_files()
    {
        File.CreateSymbolicLink(InRoot("zero"), "/dev/zero");
        Assert.Contains("outside", Refused(InRoot("zero"), _sandbox).Reason);
        Assert.Contains("character device", Refused(InRoot("zero"), null).Reason);
        Directory.CreateDirectory(InRoot("dir"));
        Assert.Contains("a directory", Refused(InRoot("dir"), _sandbox).Reason);
    }

    [Fact]
    public void Size_limits_missing_files_and_link_loops_are_refused_with_the_reason()
    {
        Assert.Contains("more than the 4 accepted", Refused(InRoot("plain"), _sandbox, maxBytes: 4).Reason);
        Assert.Contains("not found", Refused(InRoot("missing"), _sandbox).Reason);
        File.CreateSymbolicLink(InRoot("loop-a"), "loop-b");
        File.CreateSymbolicLink(InRoot("loop-b"), "loop-a");
        Assert.Contains("loop", Refused(InRoot("loop-a"), _sandbox).Reason);
        Assert.Null(RegularFiles.RealPath(InRoot("missing/deeper")));
    }

    [Fact]
    public void A_root_that_is_itself_a_link_is_resolved_once()
    {
        string link = _dir.File("root-link");
        Directory.CreateSymbolicLink(link, Root);
        var sandbox = new FileSandbox(link);
        Assert.Equal(Root, sandbox.RealRoot);
        RegularFiles.OpenRead(Path.Combine(link, "plain"), 100, sandbox).Dispose();
        // The root itself and its parent are not inside it.
        Assert.False(sandbox.Contains(Root));
        Assert.False(sandbox.Contains(_dir.Path));
        Assert.False(sandbox.Contains(Root + "-sibling/x"));
        Assert.True(sandbox.Contains(Root + "/x"));
    }

    [Fact]
    public void A_root_that_does_not_exist_yet_contains_nothing_until_it_does()
    {
        var sandbox = new FileSandbox(_dir.File("later"));
        Assert.Null(sandbox.RealRoot);
        Assert.False(sandbox.Contains(_dir.File("later/x")));
        Directory.CreateDirectory(_dir.File("later"));
        Assert.True(sandbox.Contains(_dir.File("later/x")));
    }

    public void Dispose() => _dir.Dispose();
}
