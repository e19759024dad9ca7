using System.Diagnostics;

namespace OrleansLora.Deploy.Tests;

/// <summary>
/// The static helm binary scripts/deploy/ensure-deploy-deps.sh installs (artifacts/deploy/bin/helm, or OLORA_HELM),
/// run on the chart in deploy/helm/orleanslora. A missing binary fails the tests: CI installs it.
/// </summary>
public static class Helm
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Chart => Path.Combine(RepoRoot, "deploy", "helm", "orleanslora");

    public static string Values(string name) => Path.Combine(Chart, "ci", $"{name}-values.yaml");

    public static string Binary
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("OLORA_HELM") is { Length: > 0 } configured
                ? configured
                : Path.Combine(RepoRoot, "artifacts", "deploy", "bin", "helm");
            if (!File.Exists(path))
                throw new FileNotFoundException($"helm not found at {path}: run scripts/deploy/ensure-deploy-deps.sh (or set OLORA_HELM).", path);
            return path;
        }
    }

    /// <summary>Runs helm with <paramref name="args"/>; returns the exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
            start.ArgumentList.Add(a);
        // No repository cache or config from the user's home: the chart has no dependencies to fetch.
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "olora-helm-cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "olora-helm-config");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary>The rendered manifests of release "olora" with the given values files and --set pairs; fails the test when helm does.</summary>
    public static async Task<string> TemplateAsync(string[] valuesFiles, params string[] sets)
    {
        var args = new List<string> { "template", "olora", Chart, "--namespace", "serving" };
        foreach (string v in valuesFiles)
            args.AddRange(["-f", v]);
        foreach (string s in sets)
            args.AddRange(["--set", s]);
        var (code, output, error) = await RunAsync([.. args]);
        Assert.True(code == 0, $"helm template failed ({code}): {error}");
        return output;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansLora.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no OrleansLora.sln above {AppContext.BaseDirectory}");
    }
}
