namespace OrleansLora.Server.Tests.Playground;

/// <summary>Where the playground screenshots go: artifacts/test-logs under the repository root (the folder with OrleansLora.sln).</summary>
public static class PlaygroundArtifacts
{
    public static string Directory { get; } = Find();

    public static string PathFor(string name) => Path.Combine(Directory, name);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLora.sln")))
            {
                string logs = Path.Combine(dir.FullName, "artifacts", "test-logs");
                System.IO.Directory.CreateDirectory(logs);
                return logs;
            }
        }
        throw new InvalidOperationException($"no OrleansLora.sln above {AppContext.BaseDirectory}: cannot place the playground screenshots");
    }
}
