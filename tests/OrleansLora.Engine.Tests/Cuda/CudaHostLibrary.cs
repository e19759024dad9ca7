using OrleansLora.Engine.Cuda;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The host emulation tests need libolora_cuda.so (scripts/test.sh builds it and sets OLORA_CUDA_LIBRARY). Without it
/// they FAIL saying so: a missing library must not pass as a skipped or vacuous test.
/// </summary>
internal static class CudaHostLibrary
{
    public static void Require()
    {
        if (!CudaLibrary.TryLoad(out string? error))
        {
            string variable = Environment.GetEnvironmentVariable(CudaLibrary.PathVariable) ?? "(unset)";
            Assert.Fail($"the CUDA runner library could not be loaded ({CudaLibrary.PathVariable}={variable}): {error}. " +
                "These tests run the CUDA runner in host emulation and need libolora_cuda.so: build native-kernels (scripts/test.sh does, and sets the variable).");
        }
    }
}
