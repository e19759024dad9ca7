using OrleansLora.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Native;

/// <summary>SGMV through the binding against a per-segment TorchSharp computation (float64).</summary>
public sealed class SgmvKernelTests
{
    public SgmvKernelTests() => NativeRuntime.EnsureInitialized();

    /// <remarks>
    /// The reference uses the tables' stored values, so float32 activations with bfloat16 tables
    /// (the engine's default) are held to the float32 tolerance: only x and y in bfloat16 round.
    /// </remarks>
    [Theory]
    [InlineData("float32", "float32", 1e-5)]
    [InlineData("bfloat16", "bfloat16", 2e-2)]
    [InlineData("float32", "bfloat16", 1e-5)]
    [InlineData("bfloat16", "float32", 2e-2)]
    public void MixedRanksEmptySegmentsAndBaseRowsMatchALoopReference(string dtypeName, string tableDtypeName, double tolerance)
    {
        var dtype = dtypeName == "float32" ? ScalarType.Float32 : ScalarType.BFloat16;
        var tableDtype = tableDtypeName == "float32" ? ScalarType.Float32 : ScalarType.BFloat16;
        const int inF = 100, outF = 72, slots = 4, maxRank = 17;
        int[] ranks = [1, 3, 17, 8];
        float[] scales = [2f, 0.5f, 1f / MathF.Sqrt(17), 1.25f];
        int[] segStarts = [0, 3, 3, 4, 9, 12];  // segment 1 is empty
        int[] segSlots = [2, 0, -1, 1, 3];      // segment 2 (row 3) is a base-model row
        torch.random.manual_seed(11);
        using var x = randn(12, inF).to(dtype);
        using var a = randn(slots, maxRank, inF).to(tableDtype);
        using var b = randn(slots, maxRank, outF).to(tableDtype);
        using var y0 = randn(12, outF).to(dtype);
        using var y = y0.clone();

        SgmvKernel.Apply(x, y, segStarts, segSlots, a, b, ranks, scales);

        using var expected = y0.to(ScalarType.Float64);
        for (int i = 0; i < segSlots.Length; i++)
        {
            int s = segSlots[i], rows = segStarts[i + 1] - segStarts[i];
            if (s < 0 || rows == 0)
                continue;
            using var xs = x.narrow(0, segStarts[i], rows).to(ScalarType.Float64);
            using var aS = a[s].narrow(0, 0, ranks[s]).to(ScalarType.Float64);   // [r, in]
            using var bS = b[s].narrow(0, 0, ranks[s]).to(ScalarType.Float64);   // [r, out]
            using var delta = xs.matmul(aS.t()).matmul(bS).mul(scales[s]);
            expected.narrow(0, segStarts[i], rows).add_(delta);
        }
        using var actual = y.to(ScalarType.Float64);
        using var err = (actual - expected).abs().div(expected.abs().clamp_min(1.0)).max();
        Assert.True(err.item<double>() <= tolerance, $"worst relative error {err.item<double>():E2}");
        // The base-model row (segment 2: row 3) is bit-identical.
        using var baseRows = y.narrow(0, 3, 1).to(ScalarType.Float32);
        using var baseBefore = y0.narrow(0, 3, 1).to(ScalarType.Float32);
        Assert.Equal(baseBefore.data<float>().ToArray(), baseRows.data<float>().ToArray());
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        using var x = randn(4, 16);
        using var y = zeros(4, 8);
        using var a = randn(2, 4, 16);
        using var b = randn(2, 4, 8);
        int[] ranks = [4, 2];
        float[] scales = [1f, 1f];
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 4], [2], a, b, ranks, scales));          // slot out of range
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 5], [0], a, b, ranks, scales));          // rows beyond x
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [2, 1], [0], a, b, ranks, scales));          // reversed
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 4], [0], a, b, [5, 2], scales));        // rank above max
        using var wrongB = randn(2, 4, 9);
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 4], [0], a, wrongB, ranks, scales));     // out mismatch
        using var xd = randn(4, 16, dtype: ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(xd, y, [0, 4], [0], a, b, ranks, scales));         // dtype
        using var bHalf = randn(2, 4, 8).to(ScalarType.BFloat16);
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 4], [0], a, bHalf, ranks, scales));     // A and B dtypes differ
        using var aF16 = randn(2, 4, 16).to(ScalarType.Float16);
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, y, [0, 4], [0], aF16, b, ranks, scales));      // table dtype
        using var xt = randn(16, 4).t();
        Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(xt, y, [0, 4], [0], a, b, ranks, scales));         // not contiguous
    }

    [Fact]
    public void ColumnSlicesOfAStackedProjectionAreUpdatedInPlace()
    {
        // y is the middle 24 columns of a [5, 64] "qkv" output; x the first 16 columns of a [5, 40] input.
        torch.random.manual_seed(3);
        using var wideX = randn(5, 40);
        using var wideY0 = randn(5, 64);
        using var wideY = wideY0.clone();
        using var x = wideX.narrow(1, 0, 16);
        using var y = wideY.narrow(1, 20, 24);
        using var a = randn(1, 2, 16);
        using var b = randn(1, 2, 24);
        SgmvKernel.Apply(x, y, [0, 5], [0], a, b, [2], [0.5f]);

        using var expected = wideY0.to(ScalarType.Float64);
        using var delta = x.to(ScalarType.Float64).matmul(a[0].to(ScalarType.Float64).t()).matmul(b[0].to(ScalarType.Float64)).mul(0.5);
        expected.narrow(1, 20, 24).add_(delta);
        using var err = (wideY.to(ScalarType.Float64) - expected).abs().max();
        Assert.True(err.item<double>() < 1e-4, $"max error {err.item<double>():E2}");
        // Columns outside the slice are untouched, bit for bit.
        Assert.Equal(wideY0.narrow(1, 0, 20).contiguous().data<float>().ToArray(), wideY.narrow(1, 0, 20).contiguous().data<float>().ToArray());
        Assert.Equal(wideY0.narrow(1, 44, 20).contiguous().data<float>().ToArray(), wideY.narrow(1, 44, 20).contiguous().data<float>().ToArray());
        // A transposed view has no contiguous rows: refused.
        using var yt = randn(24, 5).t();
        Assert.Contains("contiguous rows", Assert.Throws<ArgumentException>(() => SgmvKernel.Apply(x, yt, [0, 5], [0], a, b, [2], [0.5f])).Message);
    }
}
