namespace OrleansLora.Engine.Native;

/// <summary>What <see cref="NativeRuntime"/> found at start-up.</summary>
public sealed record NativeRuntimeReport(bool LibstdcxxHasVersion, bool ShimLoaded, string? LibTorchSharpPath, string PatchResult);
