using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests.Playground;

/// <summary>Where the playground screenshots go: artifacts/test-logs under the repository root (the folder with OrleansLora.sln).</summary>
public static class PlaygroundArtifacts
{
    public static string Directory { get; } = System.IO.Directory.CreateDirectory(Path.Combine(RepositoryRoot.Path, "artifacts", "test-logs")).FullName;

    public static string PathFor(string name) => Path.Combine(Directory, name);
}
