namespace OrleansLora.ClusterBench;

/// <summary>Finds the server's build output (the project reference builds it) and keeps a private copy to run.</summary>
internal static class ServerBuild
{
    /// <summary>src/OrleansLora.Server/bin/{Configuration}/{framework}, matching this bench's own output folder.</summary>
    public static string OutputDirectory()
    {
        // .../bench/OrleansLora.ClusterBench/bin/{Configuration}/{framework}/
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = own.Name, configuration = own.Parent!.Name;
        string repo = own.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        string dir = Path.Combine(repo, "src", "OrleansLora.Server", "bin", configuration, framework);
        if (!File.Exists(Path.Combine(dir, "olora-server.dll")))
            throw new FileNotFoundException($"the server is not built at {dir}; build this bench (it builds the server).");
        return dir;
    }

    /// <summary>
    /// Copies the build output to <paramref name="target"/>, only files whose size or time differ, so a run
    /// after the first copies a few assemblies rather than libtorch again.
    /// </summary>
    public static string Snapshot(string target)
    {
        string source = OutputDirectory();
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var from = new FileInfo(file);
            var to = new FileInfo(Path.Combine(target, Path.GetRelativePath(source, file)));
            if (to.Exists && to.Length == from.Length && to.LastWriteTimeUtc == from.LastWriteTimeUtc)
                continue;
            Directory.CreateDirectory(to.DirectoryName!);
            from.CopyTo(to.FullName, overwrite: true);
            File.SetLastWriteTimeUtc(to.FullName, from.LastWriteTimeUtc);
        }
        RequireSameEngine(target);
        return target;
    }

    /// <summary>
    /// The server's output is shared with other builds of the working tree: the comparison is only fair if the
    /// server runs exactly the engine (managed and native) this bench runs in-process.
    /// </summary>
    private static void RequireSameEngine(string server)
    {
        foreach (string name in new[] { "OrleansLora.Engine.dll", "libolora_kernels.so" })
        {
            string own = Path.Combine(AppContext.BaseDirectory, name), theirs = Path.Combine(server, name);
            if (File.Exists(own) != File.Exists(theirs) || (File.Exists(own) && !File.ReadAllBytes(own).AsSpan().SequenceEqual(File.ReadAllBytes(theirs))))
                throw new InvalidOperationException($"the server build has a different {name} than this bench (built since, from another state of the tree); rebuild this bench and run again.");
        }
    }
}
