namespace OrleansLora.Engine.Files;

/// <summary>
/// A directory tree that files may be read from, decided by the operating system rather than by
/// the text of a path: a path counts as inside when its real path (realpath(3): every symbolic link
/// followed, a target such as <c>deep/../victim</c> included) lies strictly under the root's real
/// path. <see cref="RegularFiles.OpenRead"/> checks the opened descriptor's own path as well.
/// </summary>
/// <param name="root">The root as configured; it may itself be a symbolic link.</param>
/// <param name="name">What the root is, for messages (for example "the adapter store").</param>
public sealed class FileSandbox(string root, string name = "the sandbox")
{
    private string? _realRoot;

    /// <summary>The root as configured (a full path).</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>
    /// The root's real path: resolved the first time the root exists, then kept, so re-pointing a
    /// root that is a symbolic link does not move the sandbox under a running server. Null while the
    /// root does not exist.
    /// </summary>
    public string? RealRoot => _realRoot ??= RegularFiles.RealPath(Root);

    /// <summary>Whether <paramref name="realPath"/> (already a real path) lies strictly under the root's real path.</summary>
    public bool Contains(string realPath)
    {
        ArgumentNullException.ThrowIfNull(realPath);
        if (RealRoot is not { } rootPath)
            return false;
        string prefix = rootPath.EndsWith('/') ? rootPath : rootPath + "/";
        return realPath.Length > prefix.Length && realPath.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// The real path of an existing <paramref name="path"/> inside the sandbox; null when it does not
    /// exist. Throws <see cref="FileRefusedException"/> when it resolves outside the root or cannot
    /// be resolved (a loop of links, a directory that may not be searched).
    /// </summary>
    public string? Resolve(string path)
    {
        string? real = RegularFiles.RealPath(path);
        if (real is not null && !Contains(real))
            throw new FileRefusedException(path, OutsideReason);
        return real;
    }

    /// <summary>What the root is, for messages.</summary>
    public string Name { get; } = name;

    /// <summary>Why a path that resolves outside the root is refused; never names where it leads.</summary>
    internal string OutsideReason => $"it resolves through a symbolic link to a place outside {Name}; links may only lead to files inside it.";
}
