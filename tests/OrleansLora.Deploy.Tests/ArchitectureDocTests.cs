using System.Text.RegularExpressions;

namespace OrleansLora.Deploy.Tests;

/// <summary>
/// docs/ARCHITECTURE.md is where a newcomer finds each concept's file: every repository path it names in
/// backticks, and every page it links, must exist, so a rename that forgets the page fails here instead of
/// leaving the map pointing at nothing.
/// </summary>
public sealed partial class ArchitectureDocTests
{
    private static readonly string DocsDirectory = Path.Combine(Helm.RepoRoot, "docs");
    private static readonly string Doc = File.ReadAllText(Path.Combine(DocsDirectory, "ARCHITECTURE.md"));

    [Fact]
    public void Every_backticked_repository_path_exists()
    {
        var paths = CodeSpan().Matches(Doc)
            .SelectMany(span => RepositoryPath().Matches(span.Groups["code"].Value))
            .Select(m => m.Value.TrimEnd('.', ','))
            .Distinct()
            .ToList();

        // The concept table alone names far more than this: an extraction that finds few is itself broken.
        Assert.True(paths.Count >= 60, $"expected the page to name at least 60 repository paths, found {paths.Count}");
        var missing = paths.Where(p => !File.Exists(Path.Combine(Helm.RepoRoot, p)) && !Directory.Exists(Path.Combine(Helm.RepoRoot, p))).ToList();
        Assert.True(missing.Count == 0, $"docs/ARCHITECTURE.md names paths that do not exist: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_linked_page_and_section_exists()
    {
        var links = LinkedPage().Matches(Doc).Select(m => (Page: m.Groups["page"].Value, Anchor: m.Groups["anchor"].Value)).Distinct().ToList();

        Assert.NotEmpty(links);
        var missing = new List<string>();
        foreach (var (page, anchor) in links)
        {
            string path = Path.Combine(DocsDirectory, page);
            if (!File.Exists(path))
                missing.Add(page);
            else if (anchor.Length > 0 && !File.ReadLines(path).Where(l => l.StartsWith('#')).Any(h => Slug(h) == anchor))
                missing.Add($"{page}#{anchor}");
        }
        Assert.True(missing.Count == 0, $"docs/ARCHITECTURE.md links pages or sections that do not exist: {string.Join(", ", missing)}");
    }

    /// <summary>A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string heading) =>
        string.Concat(heading.TrimStart('#').Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')).Replace(' ', '-');

    [GeneratedRegex(@"`(?<code>[^`\n]+)`")]
    private static partial Regex CodeSpan();

    // A path under one of the repository's top-level folders, at the start of a span or after a space.
    [GeneratedRegex(@"(?<![A-Za-z0-9_./-])(?:src|tests|native-kernels|deploy|docs|bench|scripts)/[A-Za-z0-9_./-]+")]
    private static partial Regex RepositoryPath();

    // A relative Markdown link to another page, with or without a section anchor.
    [GeneratedRegex(@"\]\((?<page>[A-Za-z0-9_-]+\.md)(?:#(?<anchor>[a-z0-9_-]+))?\)")]
    private static partial Regex LinkedPage();
}
