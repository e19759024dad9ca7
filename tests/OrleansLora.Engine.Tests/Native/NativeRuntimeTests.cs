using System.Runtime.InteropServices;
using OrleansLora.Engine.Native;
using TorchSharp;

namespace OrleansLora.Engine.Tests.Native;

public sealed class NativeRuntimeTests
{
    [Fact]
    public void TorchSharpComputesAfterInitialization()
    {
        NativeRuntime.EnsureInitialized();
        NativeRuntime.EnsureInitialized(); // idempotent
        using var a = torch.arange(6, dtype: torch.ScalarType.Float32).reshape(2, 3);
        using var b = torch.matmul(a, a.t());
        Assert.Equal(new float[] { 5, 14, 14, 50 }, b.data<float>().ToArray());
    }

    [Fact]
    public void ReportMatchesThisSystemsLibstdcxx()
    {
        NativeRuntime.EnsureInitialized();
        var report = NativeRuntime.Report!;
        Assert.NotNull(report);
        if (report.LibstdcxxHasVersion)
        {
            Assert.False(report.ShimLoaded);
            return;
        }
        // Without GLIBCXX_3.4.32 the shim is loaded and the output's libLibTorchSharp.so need is weak.
        Assert.True(report.ShimLoaded);
        Assert.NotNull(report.LibTorchSharpPath);
        Assert.Equal(1, NativeMethods.ElfWeakenVersionNeed(report.LibTorchSharpPath!, NativeRuntime.GlibcxxVersion, dryRun: 1));
    }

    [Fact]
    public void PatchingACopyIsIdempotentAndLeavesThePackageCacheAlone()
    {
        NativeRuntime.EnsureInitialized();
        string? original = FindPackageCacheCopy();
        Assert.True(original is not null, "libLibTorchSharp.so not found in the NuGet package cache");
        string copy = Path.Combine(Path.GetTempPath(), $"olora-lts-{Guid.NewGuid():n}.so");
        try
        {
            File.Copy(original!, copy);
            byte[] before = File.ReadAllBytes(original!);
            Assert.Equal(2, NativeMethods.ElfWeakenVersionNeed(copy, NativeRuntime.GlibcxxVersion, dryRun: 1));
            Assert.Equal(2, NativeMethods.ElfWeakenVersionNeed(copy, NativeRuntime.GlibcxxVersion, dryRun: 0));
            Assert.Equal(1, NativeMethods.ElfWeakenVersionNeed(copy, NativeRuntime.GlibcxxVersion, dryRun: 0));
            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            Assert.Equal(1, before.Zip(after).Count(p => p.First != p.Second));
            Assert.Equal(before, File.ReadAllBytes(original!)); // the cache copy is untouched
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static string? FindPackageCacheCopy()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        string dir = Path.Combine(root, "torchsharp");
        return Directory.Exists(dir)
            ? Directory.GetFiles(dir, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains(rid))
            : null;
    }
}
