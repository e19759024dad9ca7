using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Native;

/// <summary>
/// Argument checks before a native call: a wrong tensor is an <see cref="ArgumentException"/> that
/// names the parameter and what was expected, never memory corruption. They read sizes with
/// <c>size(i)</c>: TorchSharp's <c>shape</c> builds a new array through a callback on every read
/// (~1.5 µs here against ~0.05 µs), and these checks run before every kernel call of a step.
/// </summary>
internal static class TensorChecks
{
    /// <summary>Requires a contiguous CPU tensor of <paramref name="dtype"/>; -1 in <paramref name="shape"/> accepts any size.</summary>
    public static void Require(Tensor tensor, string name, ScalarType dtype, params ReadOnlySpan<long> shape)
    {
        RequireCpu(tensor, name, dtype);
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{name} must be contiguous (call .contiguous()).", name);
        bool matches = tensor.dim() == shape.Length;
        for (int i = 0; matches && i < shape.Length; i++)
            matches = shape[i] < 0 || tensor.size(i) == shape[i];
        if (!matches)
            throw new ArgumentException($"{name} has shape [{string.Join(", ", tensor.shape)}]; expected [{string.Join(", ", shape.ToArray().Select(d => d < 0 ? "*" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}].", name);
    }

    /// <summary>
    /// <see cref="Require"/>, then the data pointer: what <see cref="TensorMemory.DataPointer"/> would check again is
    /// covered already (a decode step makes this call twice per kernel). Callers keep the tensor alive while they use it.
    /// </summary>
    public static nint RequireData(Tensor tensor, string name, ScalarType dtype, params ReadOnlySpan<long> shape)
    {
        Require(tensor, name, dtype, shape);
        return NativeMethods.TensorData(tensor.Handle);
    }

    /// <summary>
    /// Requires a 2-D CPU tensor of <paramref name="dtype"/> whose rows are contiguous (column
    /// stride 1) but may be spaced apart, such as a column slice of a wider matrix; returns the
    /// row stride in elements.
    /// </summary>
    public static long RequireRows(Tensor tensor, string name, ScalarType dtype, long rows, long columns)
    {
        RequireCpu(tensor, name, dtype);
        if (tensor.dim() != 2)
            throw new ArgumentException($"{name} has shape [{string.Join(", ", tensor.shape)}]; expected [{(rows < 0 ? "*" : rows)}, {(columns < 0 ? "*" : columns)}].", name);
        long r = tensor.size(0), c = tensor.size(1);
        if ((rows >= 0 && r != rows) || (columns >= 0 && c != columns))
            throw new ArgumentException($"{name} has shape [{r}, {c}]; expected [{(rows < 0 ? "*" : rows)}, {(columns < 0 ? "*" : columns)}].", name);
        long rowStride = r <= 1 ? c : tensor.stride(0);
        if ((c > 1 && tensor.stride(1) != 1) || rowStride < c)
            throw new ArgumentException($"{name} must have contiguous rows (strides [{string.Join(", ", tensor.stride())}]); a column slice of a row-major matrix is fine, a transpose is not.", name);
        return Math.Max(rowStride, 1);
    }

    private static void RequireCpu(Tensor tensor, string name, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.IsInvalid)
            throw new ArgumentException($"{name} has been disposed.", name);
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"{name} is on {tensor.device}; the CPU kernels need a CPU tensor.", name);
        if (tensor.dtype != dtype)
            throw new ArgumentException($"{name} has dtype {tensor.dtype}; expected {dtype}.", name);
    }

    public static int ToInt32(long value, string name) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw new ArgumentException($"{name} = {value} is out of the kernels' int32 range.", name);

    /// <summary>Turns a native return code into an exception (after validation, only a bug gets here).</summary>
    public static void Check(int rc, string function)
    {
        if (rc < NativeStatus.Ok)
            throw new InvalidOperationException($"{function} failed with code {rc} ({NativeStatus.Describe(rc)}).");
    }
}
