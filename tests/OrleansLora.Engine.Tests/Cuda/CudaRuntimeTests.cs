using OrleansLora.Engine.Cuda;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The CUDA runner's managed side on whatever machine the tests run on. scripts/test.sh builds
/// libolora_cuda.so with nvcc and sets OLORA_CUDA_LIBRARY, so on CI (no GPU) these go through the real library
/// into the real CUDA runtime, which reports no device; on a GPU machine the same tests check the device
/// side instead. Without the variable the library is not found and that is what they check.
/// </summary>
public sealed class CudaRuntimeTests
{
    private static readonly string? LibraryVariable = Environment.GetEnvironmentVariable(CudaLibrary.PathVariable);

    [Fact]
    public void LocatePrefersTheVariableThenTheApplicationDirectory()
    {
        string dir = Directory.CreateTempSubdirectory("olora-cuda-locate").FullName;
        try
        {
            Assert.Equal("/opt/x/libolora_cuda.so", CudaLibrary.Locate("/opt/x/libolora_cuda.so", dir));
            Assert.Equal(CudaLibrary.FileName, CudaLibrary.Locate(null, dir));
            Assert.Equal(CudaLibrary.FileName, CudaLibrary.Locate("  ", dir));
            File.WriteAllBytes(Path.Combine(dir, CudaLibrary.FileName), []);
            Assert.Equal(Path.Combine(dir, CudaLibrary.FileName), CudaLibrary.Locate(null, dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ProbeNamesTheDevicesOrSaysWhyThereAreNone()
    {
        var cuda = CudaLibrary.Probe();
        bool loaded = CudaLibrary.TryLoad(out string? loadError);
        if (LibraryVariable is not null)
            Assert.True(loaded, $"{CudaLibrary.PathVariable}={LibraryVariable} is set but the library did not load: {loadError}");
        if (cuda.Available)
        {
            Assert.Null(cuda.Reason);
            Assert.All(cuda.Devices, d =>
            {
                Assert.False(string.IsNullOrWhiteSpace(d.Name));
                Assert.True(d.TotalBytes > 0 && d.FreeBytes <= d.TotalBytes, $"{d}");
                Assert.Matches(@"^\d+\.\d+$", d.ComputeCapability);
            });
            return;
        }
        Assert.Empty(cuda.Devices);
        Assert.False(string.IsNullOrWhiteSpace(cuda.Reason));
        if (loaded)
        {
            // Through the real CUDA runtime: its own error name, not a guess of ours.
            Assert.StartsWith("no usable CUDA device: cudaGetDeviceCount: cuda", cuda.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(CudaLibrary.PathVariable, cuda.Reason!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ANegativeDeviceOtherThanTheHostIsRefusedBeforeTheLibrary()
    {
        Assert.Equal(-1, CudaContext.HostDevice);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CudaContext.Create(-2));
        Assert.Equal("device", ex.ParamName);
    }

    [Fact]
    public void AHostEmulationContextNeedsNoGpu()
    {
        CudaHostLibrary.Require();
        using var context = CudaContext.Create(CudaContext.HostDevice);
        Assert.True(context.IsHostEmulation);
        Assert.Equal(CudaContext.HostDevice, context.Device);
    }

    [Fact]
    public void AContextWithoutAGpuIsAClearErrorAndWithOneReportsItsMemory()
    {
        var cuda = CudaLibrary.Probe();
        if (!cuda.Available)
        {
            var ex = Assert.Throws<CudaException>(() => CudaContext.Create(0));
            Assert.Equal(CudaStatus.NoDevice, ex.Status);
            Assert.Contains("cuda:0", ex.Message, StringComparison.Ordinal);
            return;
        }
        using var context = CudaContext.Create(0);
        var (held, free, total) = context.Memory();
        Assert.Equal(0, held);
        Assert.Equal(cuda.Devices[0].TotalBytes, total);
        Assert.InRange(free, 1, total);
        var past = Assert.Throws<CudaException>(() => CudaContext.Create(cuda.Devices.Count));
        Assert.Equal(CudaStatus.Argument, past.Status);
        Assert.Contains("out of range", past.Message, StringComparison.Ordinal);
    }
}
