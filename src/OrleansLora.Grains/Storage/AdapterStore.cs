using Microsoft.Extensions.Options;
using OrleansLora.Adapters;

namespace OrleansLora.Grains.Storage;

/// <summary>
/// Resolves an adapter's source (a path relative to the store root; by default the adapter id) to a
/// directory, sandboxed: no absolute paths, no "..", and no symbolic link that leads outside the root.
/// </summary>
public sealed class AdapterStore(IOptions<AdapterStoreOptions> options)
{
    private readonly string _root = Path.GetFullPath(options.Value.Root);

    public string Root => _root;

    /// <summary>Whether the store has a directory for <paramref name="source"/> (false for anything outside the sandbox).</summary>
    public bool Contains(string source) => TryResolve(source, out var dir, out _) && Directory.Exists(dir);

    /// <summary>The directory of <paramref name="source"/>; throws <see cref="ArgumentException"/> saying why when it is refused.</summary>
    public string Resolve(string source)
    {
        if (!TryResolve(source, out var dir, out var why))
            throw new ArgumentException($"adapter source \"{source}\" is refused: {why}", nameof(source));
        return dir;
    }

    /// <summary>Adapter ids of the directories directly under the root that hold an adapter_config.json.</summary>
    public IReadOnlyList<string> List()
    {
        if (!Directory.Exists(_root))
            return [];
        return Directory.EnumerateDirectories(_root)
            .Select(Path.GetFileName)
            .Where(name => AdapterIds.IsValid(name) && Contains(name!) && File.Exists(Path.Combine(_root, name!, "adapter_config.json")))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private bool TryResolve(string source, out string directory, out string why)
    {
        directory = "";
        if (string.IsNullOrWhiteSpace(source))
        {
            why = "it is empty.";
            return false;
        }
        if (Path.IsPathRooted(source) || source.Contains('\\') || source.Contains(':'))
        {
            why = "absolute paths are not allowed; give a path relative to the adapter store.";
            return false;
        }
        var parts = source.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".." || p.StartsWith('.')))
        {
            why = "\".\", \"..\" and hidden path segments are not allowed.";
            return false;
        }
        string candidate = Path.GetFullPath(Path.Combine(_root, Path.Combine(parts)));
        // Every segment that exists must be a real directory inside the root: a symbolic link could
        // point anywhere, so it is resolved and must stay under the root.
        string current = _root;
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !IsUnderRoot(Path.GetFullPath(target.FullName)))
                {
                    why = "it is a symbolic link that leads outside the adapter store.";
                    return false;
                }
            }
        }
        if (!IsUnderRoot(candidate))
        {
            why = "it leads outside the adapter store.";
            return false;
        }
        directory = candidate;
        why = "";
        return true;
    }

    private bool IsUnderRoot(string path) =>
        path.StartsWith(_root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
