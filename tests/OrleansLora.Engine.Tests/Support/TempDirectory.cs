namespace OrleansLora.Engine.Tests.Support;

/// <summary>A directory under the temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "olora")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():n}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Creates a fresh directory and returns its path; pair with <see cref="Delete"/>.</summary>
    public static string Create(string prefix)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"olora-{prefix}-{Guid.NewGuid():n}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Delete(Path);
}
