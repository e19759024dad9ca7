using System.Xml.Linq;

namespace OrleansLora.Deploy.Tests;

/// <summary>
/// The layering docs/ARCHITECTURE.md states, checked on the project files and sources: the engine knows nothing of
/// Orleans, nothing above the engine touches a tensor, and each project references only the layers below it.
/// </summary>
public sealed class LayerRulesTests
{
    private static readonly string Src = Path.Combine(Helm.RepoRoot, "src");

    [Theory]
    [InlineData("OrleansLora.Abstractions", new string[0])]
    [InlineData("OrleansLora.Engine", new string[0])]
    [InlineData("OrleansLora.Grains", new[] { "OrleansLora.Abstractions", "OrleansLora.Engine" })]
    [InlineData("OrleansLora.Server", new[] { "OrleansLora.Grains" })]
    [InlineData("OrleansLora.Client", new[] { "OrleansLora.Abstractions" })]
    [InlineData("OrleansLora.Cli", new[] { "OrleansLora.Engine" })]
    public void Each_project_references_only_the_layers_below_it(string project, string[] allowed)
    {
        var references = ProjectFile(project).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToList();

        Assert.Equal(allowed.Order(), references.Order());
    }

    [Fact]
    public void The_engine_knows_nothing_of_orleans()
    {
        var packages = ProjectFile("OrleansLora.Engine").Descendants("PackageReference").Select(r => (string)r.Attribute("Include")!).ToList();
        Assert.Contains("TorchSharp", packages); // the file was read: the engine's own dependency is there
        Assert.DoesNotContain(packages, p => p.Contains("Orleans", StringComparison.OrdinalIgnoreCase));
        // "using Orleans." or "using Orleans;" (not "using OrleansLora...", this repository's own namespaces).
        Assert.Empty(SourcesMentioning("OrleansLora.Engine", "using Orleans.").Concat(SourcesMentioning("OrleansLora.Engine", "using Orleans;")));
    }

    [Theory]
    [InlineData("OrleansLora.Abstractions")]
    [InlineData("OrleansLora.Grains")]
    [InlineData("OrleansLora.Server")]
    [InlineData("OrleansLora.Client")]
    public void Nothing_above_the_engine_touches_a_tensor(string project)
    {
        Assert.Empty(SourcesMentioning(project, "TorchSharp"));
    }

    private static XDocument ProjectFile(string project) => XDocument.Load(Path.Combine(Src, project, $"{project}.csproj"));

    private static List<string> SourcesMentioning(string project, string text)
    {
        var sources = Directory.EnumerateFiles(Path.Combine(Src, project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.NotEmpty(sources);
        return sources.Where(f => File.ReadAllText(f).Contains(text, StringComparison.Ordinal)).Select(f => Path.GetRelativePath(Helm.RepoRoot, f)).ToList();
    }
}
