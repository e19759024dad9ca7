using OrleansLora.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// The decoder layer's row-wise steps on the native fused kernels (RMSNorm, residual add + RMSNorm, RoPE, SwiGLU) for
/// float32 rows on the CPU: one call where libtorch needs four to eight operations and as many temporaries, which is
/// most of a small model's decode step. Other dtypes and devices keep the libtorch path (<see cref="Usable"/>).
/// </summary>
internal static unsafe class FusedOps
{
    /// <summary>Whether <paramref name="t"/> is contiguous float32 rows [rows, width] on the CPU.</summary>
    public static bool Usable(Tensor t) =>
        t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.dim() == 2 && t.is_contiguous();

    /// <summary>RMSNorm of x's rows into a new [rows, hidden] tensor.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps)
    {
        var output = empty(x.shape, dtype: ScalarType.Float32);
        RmsNormInto(x, weight, eps, output);
        return output;
    }

    /// <summary>RMSNorm of x's rows into <paramref name="output"/> [rows, hidden].</summary>
    public static void RmsNormInto(Tensor x, Tensor weight, float eps, Tensor output)
    {
        RequireRowsLike(output, x, nameof(output));
        Check(NativeMethods.RmsNorm(Data(x), x.stride(0), Data(weight), Data(output), output.stride(0), Rows(x), (int)x.size(1), eps), "olora_rmsnorm");
        Keep(x, weight, output);
    }

    /// <summary>residual += x (in place: the new residual stream), and returns rmsnorm(residual).</summary>
    public static Tensor AddRmsNorm(Tensor x, Tensor residual, Tensor weight, float eps)
    {
        var output = empty(x.shape, dtype: ScalarType.Float32);
        AddRmsNormInto(x, residual, weight, eps, output);
        return output;
    }

    /// <summary>residual += x in place, and rmsnorm(residual) into <paramref name="output"/>.</summary>
    public static void AddRmsNormInto(Tensor x, Tensor residual, Tensor weight, float eps, Tensor output)
    {
        RequireRowsLike(residual, x, nameof(residual));
        RequireRowsLike(output, x, nameof(output));
        Check(NativeMethods.AddRmsNorm(Data(x), x.stride(0), Data(residual), residual.stride(0), Data(weight), Data(output), output.stride(0),
            Rows(x), (int)x.size(1), eps), "olora_add_rmsnorm");
        Keep(x, residual, weight, output);
    }

    /// <summary>
    /// RoPE in place on the q and k parts of a stacked projection <paramref name="qkv"/> [tokens, (heads + 2 kvHeads) D]
    /// (q from column 0, k from column heads·D), with the tables already gathered per token ([tokens, 1, D] each):
    /// token t reads row <paramref name="rows"/>[t] = t.
    /// </summary>
    public static void Rope(Tensor qkv, int heads, int kvHeads, int headDim, Tensor cos, Tensor sin, int[] rows)
    {
        int tokens = Rows(qkv);
        if (cos.numel() != (long)tokens * headDim)
            throw new ArgumentException($"RoPE tables must be contiguous float32 [{tokens}, 1, {headDim}].", nameof(cos));
        if (rows.Length != tokens)
            throw new ArgumentException($"{rows.Length} row indices for {tokens} tokens.", nameof(rows));
        RopeAt(qkv, heads, kvHeads, headDim, cos, sin, rows);
    }

    /// <summary>
    /// RoPE in place on a stacked projection as <see cref="Rope"/> does, token t reading row <paramref name="rows"/>[t] of
    /// the float32 tables [positions, D] (or [positions, 1, D]); the kernel refuses a row outside them.
    /// </summary>
    public static void RopeAt(Tensor qkv, int heads, int kvHeads, int headDim, Tensor cos, Tensor sin, int[] rows)
    {
        int tokens = Rows(qkv);
        if (cos.dtype != ScalarType.Float32 || !cos.is_contiguous() || !sin.is_contiguous() || cos.numel() % headDim != 0 || sin.numel() != cos.numel())
            throw new ArgumentException($"RoPE tables must be contiguous float32 [positions, {headDim}].", nameof(cos));
        if (rows.Length != tokens)
            throw new ArgumentException($"{rows.Length} row indices for {tokens} tokens.", nameof(rows));
        float* q = Data(qkv);
        fixed (int* positions = rows)
        {
            Check(NativeMethods.Rope(q, qkv.stride(0), heads, q + (long)heads * headDim, qkv.stride(0), kvHeads, headDim,
                positions, tokens, Data(cos), Data(sin), checked((int)(cos.numel() / headDim))), "olora_rope");
        }
        Keep(qkv, cos, sin);
    }

    /// <summary>silu(gate) · up of a stacked [rows, 2·intermediate] projection, into a new [rows, intermediate] tensor.</summary>
    public static Tensor SwiGlu(Tensor gateUp)
    {
        var output = empty(gateUp.size(0), gateUp.size(1) / 2, dtype: ScalarType.Float32);
        SwiGluInto(gateUp, output);
        return output;
    }

    /// <summary>silu(gate) · up of a stacked [rows, 2·intermediate] projection, into <paramref name="output"/> [rows, intermediate].</summary>
    public static void SwiGluInto(Tensor gateUp, Tensor output)
    {
        int intermediate = (int)(gateUp.size(1) / 2);
        TensorChecks.RequireRows(output, nameof(output), ScalarType.Float32, gateUp.size(0), intermediate);
        Check(NativeMethods.SwiGlu(Data(gateUp), gateUp.stride(0), Data(output), output.stride(0), Rows(gateUp), intermediate), "olora_swiglu");
        Keep(gateUp, output);
    }

    /// <summary>The kernels write rows × width through <paramref name="t"/>'s row stride: a smaller buffer would be overrun.</summary>
    private static void RequireRowsLike(Tensor t, Tensor x, string name) =>
        TensorChecks.RequireRows(t, name, ScalarType.Float32, x.size(0), x.size(1));

    private static int Rows(Tensor t) => checked((int)t.size(0));

    private static float* Data(Tensor t) => (float*)TensorMemory.DataPointer(t);

    private static void Keep(Tensor a, Tensor b, Tensor? c = null, Tensor? d = null)
    {
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        GC.KeepAlive(d);
    }

    private static void Check(int rc, string kernel)
    {
        if (rc != NativeStatus.Ok)
            throw new InvalidOperationException($"{kernel} failed: {NativeStatus.Describe(rc)} ({rc}).");
    }
}
