namespace OrleansLora.Engine.Native;

/// <summary>A linear layer whose weights the native decode step can read in place (<see cref="NativeDecodeLayer"/>).</summary>
internal interface INativeLinear
{
    /// <summary>The weights' pointers and layout, or false where no native kernel serves this layer.</summary>
    bool TryGetNativeRef(out NativeLinearRef reference);
}
