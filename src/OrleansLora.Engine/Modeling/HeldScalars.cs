using TorchSharp;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Scalars the forward passes to libtorch, created once and referenced for the life of the process. TorchSharp turns
/// a .NET number into a temporary <see cref="Scalar"/> whose finalizer frees the native value; once its handle has
/// been read nothing references it, so a collection during the native call can free what libtorch is reading.
/// <c>Tensor.add_(Tensor)</c> does this with its implicit alpha of 1: under load it failed a step with libtorch's
/// "Expected false to be true" from <c>Scalar::toFloat</c> (a freed Scalar's tag), seen once in the multi-host test.
/// </summary>
internal static class HeldScalars
{
    /// <summary>The alpha of a plain in-place add (<c>x.add_(y, One)</c> is <c>x += y</c>), and arange's step.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>arange's start from zero.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>RMSNorm's square.</summary>
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary>The fill of masked attention scores.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
}
