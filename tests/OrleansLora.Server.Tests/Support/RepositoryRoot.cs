namespace OrleansLora.Server.Tests.Support;

/// <summary>The repository root (the folder with OrleansLora.sln), found above the test binaries.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "OrleansLora.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no OrleansLora.sln above {AppContext.BaseDirectory}");
    }
}
