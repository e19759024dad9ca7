using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Engine.Files;
using OrleansLora.Errors;

namespace OrleansLora.Grains.Storage;

/// <summary>
/// Resolves an adapter's source (a path relative to the store root; by default the adapter id) to a
/// directory, sandboxed: no absolute paths, no "..", no hidden segments, and — decided by the
/// operating system, not by the text of link targets — no path whose real path leaves the root's
/// real path. Each existing prefix of the source is resolved with realpath(3), so a link anywhere
/// on the way (including one whose target climbs out through "..") is caught, and a missing
/// directory is told apart from a refused one. Files inside are checked when they are opened
/// (<see cref="RegularFiles.OpenRead"/> with <see cref="Sandbox"/>).
/// </summary>
public sealed class AdapterStore(IOptions<AdapterStoreOptions> options)
{
    private readonly FileSandbox _sandbox = new(options.Value.Root, "the adapter store");

    /// <summary>The root as configured (a full path; it may be a symbolic link, resolved once).</summary>
    public string Root => _sandbox.Root;

    /// <summary>The sandbox every adapter file is read in.</summary>
    public FileSandbox Sandbox => _sandbox;

    /// <summary>How long reading and validating one adapter's files may take (<see cref="AdapterStoreOptions.ReadTimeout"/>).</summary>
    public TimeSpan ReadTimeout { get; } = options.Value.ReadTimeout;

    /// <summary>Whether the store has a directory for <paramref name="source"/> (false for anything outside the sandbox).</summary>
    public bool Contains(string source) => TryResolve(source, out var dir, out _) && Directory.Exists(dir);

    /// <summary>
    /// The real path of <paramref name="source"/>'s directory (its path under the root when it does not
    /// exist); throws <see cref="AdapterSourceRefusedException"/> saying why when it is refused.
    /// </summary>
    public string Resolve(string source)
    {
        if (!TryResolve(source, out var dir, out var why))
            throw new AdapterSourceRefusedException(AdapterSources.Refusal(source, why));
        return dir;
    }

    /// <summary>Adapter ids of the directories directly under the root that hold an adapter_config.json.</summary>
    public IReadOnlyList<string> List()
    {
        if (!Directory.Exists(Root))
            return [];
        return Directory.EnumerateDirectories(Root)
            .Select(Path.GetFileName)
            .Where(name => AdapterIds.IsValid(name) && TryResolve(name!, out var dir, out _) && File.Exists(Path.Combine(dir, "adapter_config.json")))
            .Select(name => name!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private bool TryResolve(string source, out string directory, out string why)
    {
        directory = "";
        if (!AdapterSources.IsWellFormed(source, out why) || Path.IsPathRooted(source))
        {
            why = why.Length > 0 ? why : "absolute paths are not allowed; give a path relative to the adapter store.";
            return false;
        }
        var parts = source.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string lexical = Path.Combine(Root, Path.Combine(parts));
        try
        {
            // Prefix by prefix: the first one that does not exist makes the source missing (not
            // refused); every one that exists must resolve inside the root.
            string current = Root;
            string? real = null;
            foreach (var part in parts)
            {
                current = Path.Combine(current, part);
                real = _sandbox.Resolve(current);
                if (real is null)
                {
                    directory = lexical;
                    why = "";
                    return true;
                }
            }
            directory = real!;
            why = "";
            return true;
        }
        catch (FileRefusedException ex)
        {
            why = ex.Reason;
            return false;
        }
    }
}
