using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Quantization;

/// <summary>The NF4 and int8 kernels through the C# bindings, against plain float64 loops and TorchSharp.</summary>
public sealed class QuantizedLinearTests
{
    // The QLoRA / bitsandbytes NF4 code book, written out independently of the native library.
    private static readonly double[] Nf4Codes =
    [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
        0.7229568362236023, 1.0,
    ];

    public QuantizedLinearTests() => NativeRuntime.EnsureInitialized();

    private static float[] RandomArray(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    /// <summary>y = x · Wᵀ in float64 with plain loops.</summary>
    private static double[] Reference(float[] x, double[] w, int m, int n, int k)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < k; t++)
                    s += x[i * k + t] * w[j * k + t];
                y[i * n + j] = s;
            }
        return y;
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (!(err <= worst))
            {
                worst = double.IsNaN(err) ? double.PositiveInfinity : err;
                at = i;
            }
        }
        Assert.True(worst <= tolerance, $"{what}: element {at} is {actual[at]}, expected {expected[at]} (relative error {worst:E2})");
    }

    /// <summary>
    /// BFloat16 compute (the default): on AMX the tile path, and with AVX-512 the NF4 GEMV of 1-8 rows,
    /// round x and W to bfloat16, so each product may be off by 2^-8 of its size; elsewhere it is the
    /// float32 path. Either way the error stays within 2^-8 of the sum of |x·w| (float64 reference), and
    /// the output is float32 without NaNs.
    /// </summary>
    private static void AssertWithinBFloat16Rounding(float[] x, double[] w, int m, int n, int k, Tensor output, string what) =>
        AssertWithin(x, w, m, n, k, output, what, (i, j, t) => Math.Abs(x[i * k + t] * w[j * k + t]) / 256);

    /// <summary>
    /// Each y[i, j] within the sum over t of <paramref name="productBound"/>(i, j, t) (+ 1e-5) of the
    /// float64 product of x [m, k] and w [n, k].
    /// </summary>
    private static void AssertWithin(float[] x, double[] w, int m, int n, int k, Tensor output, string what, Func<int, int, int, double> productBound)
    {
        using (output)
        {
            float[] y = output.data<float>().ToArray();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0, bound = 0;
                    for (int t = 0; t < k; t++)
                    {
                        s += x[i * k + t] * w[j * k + t];
                        bound += productBound(i, j, t);
                    }
                    Assert.True(Math.Abs(y[i * n + j] - s) <= bound + 1e-5, $"{what}: y[{i},{j}] = {y[i * n + j]}, expected {s} within {bound:E2}");
                }
        }
    }

    [Theory]
    [InlineData(1, 64, 128)]
    [InlineData(2, 45, 192)]   // int8 compute's GEMV: an odd number of blocks per row
    [InlineData(7, 20, 256)]   // int8 compute on 7 rows (ahead of the AMX tiles)
    [InlineData(5, 96, 200)]   // blocks of 64 straddle rows
    [InlineData(8, 33, 1000)]  // odd sizes
    [InlineData(40, 130, 256)] // prefill-shaped M
    public void Nf4MatchesItsBitsandbytesLayoutAndFloat64Product(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n + k);
        float[] w = RandomArray(rng, n * k), x = RandomArray(rng, m * k);
        using var weight = tensor(w, [n, k]);
        using var layer = Nf4Linear.Quantize(weight, QuantizedCompute.Float32);

        // Decode the layout by hand: element g in block g/64, high nibble first.
        byte[] codes = layer.Codes.data<byte>().ToArray();
        float[] absmax = layer.Absmax.data<float>().ToArray();
        var dequant = new double[n * k];
        for (int g = 0; g < n * k; g++)
        {
            int code = g % 2 == 0 ? codes[g / 2] >> 4 : codes[g / 2] & 0xF;
            dequant[g] = Nf4Codes[code] * absmax[g / 64];
            // The chosen code is the nearest one to w / absmax.
            double normalized = absmax[g / 64] == 0 ? 0 : w[g] / absmax[g / 64];
            double best = Nf4Codes.Min(c => Math.Abs(c - normalized));
            Assert.True(Math.Abs(Nf4Codes[code] - normalized) <= best + 1e-6, $"element {g}: code {code} ({Nf4Codes[code]}) for {normalized}, nearest is {best} away");
        }
        for (int b = 0; b < absmax.Length; b++)
        {
            double max = 0;
            for (int g = b * 64; g < Math.Min(n * k, (b + 1) * 64); g++)
                max = Math.Max(max, Math.Abs(w[g]));
            Assert.Equal(max, absmax[b], 6);
        }
        using (var native = layer.Dequantize())
            AssertClose(dequant, native.data<float>().ToArray(), 1e-6, "olora_nf4_dequantize");

        using var input = tensor(x, [m, k]);
        using var output = layer.Forward(input);
        Assert.Equal(new long[] { m, n }, output.shape);
        AssertClose(Reference(x, dequant, m, n, k), output.data<float>().ToArray(), 1e-4, "olora_nf4_linear");
        using var tiled = Nf4Linear.Quantize(weight);
        AssertWithinBFloat16Rounding(x, dequant, m, n, k, tiled.Forward(input), "olora_nf4_linear_ex bfloat16");
        using var int8 = Nf4Linear.Quantize(weight, QuantizedCompute.Int8);
        AssertWithinInt8Rounding(x, dequant, absmax, m, n, k, int8.Forward(input));
    }

    /// <summary>
    /// Int8 compute: x rounded to 127 steps of its block's max|x| and the code book to 127 steps, so
    /// each product x·w is off by at most (|x| + max|x|) · absmax / 254 (max over the row here, which
    /// bounds every block's); paths that stay float32 or bfloat16 are well inside that.
    /// </summary>
    private static void AssertWithinInt8Rounding(float[] x, double[] w, float[] absmax, int m, int n, int k, Tensor output)
    {
        var rowMax = Enumerable.Range(0, m).Select(i => x.AsSpan(i * k, k).ToArray().Max(Math.Abs)).ToArray();
        AssertWithin(x, w, m, n, k, output, "int8 compute",
            (i, j, t) => (Math.Abs(x[i * k + t]) + rowMax[i]) * absmax[((long)j * k + t) / 64] / 254);
    }

    [Theory]
    [InlineData(1, 64, 128)]
    [InlineData(7, 33, 1000)]
    [InlineData(40, 130, 256)]
    public void Int8MatchesPerChannelSymmetricQuantization(int m, int n, int k)
    {
        var rng = new Random(m * 7 + n * 3 + k);
        float[] w = RandomArray(rng, n * k), x = RandomArray(rng, m * k);
        using var weight = tensor(w, [n, k]);
        using var layer = Int8Linear.Quantize(weight, QuantizedCompute.Float32);
        sbyte[] q = layer.Q.data<sbyte>().ToArray();
        float[] scales = layer.Scales.data<float>().ToArray();
        var dequant = new double[n * k];
        for (int j = 0; j < n; j++)
        {
            double max = 0;
            for (int t = 0; t < k; t++)
                max = Math.Max(max, Math.Abs(w[j * k + t]));
            Assert.Equal(max / 127, scales[j], 6);
            for (int t = 0; t < k; t++)
            {
                int expected = (int)Math.Clamp(Math.Round(w[j * k + t] / scales[j], MidpointRounding.AwayFromZero), -127, 127);
                Assert.InRange(q[j * k + t], expected - 1, expected + 1); // float rounding at exact halves
                dequant[j * k + t] = q[j * k + t] * (double)scales[j];
            }
        }
        using var input = tensor(x, [m, k]);
        using var output = layer.Forward(input);
        AssertClose(Reference(x, dequant, m, n, k), output.data<float>().ToArray(), 1e-4, "olora_int8_linear");
        using var tiled = Int8Linear.Quantize(weight);
        AssertWithinBFloat16Rounding(x, dequant, m, n, k, tiled.Forward(input), "olora_int8_linear_ex bfloat16");
    }

    [Fact]
    public void OutputIsWrittenEvenOverPoisonedMemory()
    {
        // The kernel allocates its output; run twice with the allocator likely reusing NaN-filled memory.
        var rng = new Random(9);
        using var weight = tensor(RandomArray(rng, 64 * 256), [64, 256]);
        using var layer = Nf4Linear.Quantize(weight);
        using var x = tensor(RandomArray(rng, 3 * 256), [3, 256]);
        for (int i = 0; i < 3; i++)
        {
            using (var poison = full(3 * 64, float.NaN))
                poison.Dispose();
            using var y = layer.Forward(x);
            Assert.DoesNotContain(y.data<float>().ToArray(), float.IsNaN);
        }
    }

    [Fact]
    public void BadArgumentsAreRefusedWithTheirName()
    {
        using var w64 = randn(8, 64, dtype: ScalarType.Float64);
        Assert.Contains("dtype", Assert.Throws<ArgumentException>(() => Nf4Linear.Quantize(w64)).Message);
        using var w = randn(64, 8);
        using var strided = w.t();
        Assert.Contains("contiguous", Assert.Throws<ArgumentException>(() => Int8Linear.Quantize(strided)).Message);
        using var nan = full(8, 64, float.NaN);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => Nf4Linear.Quantize(nan)).Message);

        using var good = randn(16, 64);
        using var layer = Nf4Linear.Quantize(good);
        using var wrongWidth = randn(2, 63);
        var ex = Assert.Throws<ArgumentException>(() => layer.Forward(wrongWidth));
        Assert.Equal("x", ex.ParamName);
        using var threeD = randn(1, 2, 64);
        Assert.Throws<ArgumentException>(() => layer.Forward(threeD));
    }

    // The layers read their weights' pointers once: ForwardInto still names a wrong output, and a disposed layer refuses
    // to run instead of reading freed weights.
    [Fact]
    public void ForwardIntoRefusesAWrongOutputAndADisposedLayerRefusesToRun()
    {
        using var weight = randn(16, 64);
        using var x = randn(2, 64);
        using var wrong = zeros(2, 15);
        using var right = zeros(2, 16);
        var layers = new ILinearLayer[] { Nf4Linear.Quantize(weight), Int8Linear.Quantize(weight), new DenseLinear(weight.clone()) };
        foreach (var layer in layers)
        {
            Assert.Equal("y", Assert.Throws<ArgumentException>(() => layer.ForwardInto(x, wrong)).ParamName);
            layer.ForwardInto(x, right);
            using (var expected = layer.Forward(x))
                Assert.True(right.allclose(expected, rtol: 0, atol: 0), layer.GetType().Name);
            layer.Dispose();
            Assert.Throws<ObjectDisposedException>(() => layer.ForwardInto(x, right));
        }
    }

    [Fact]
    public void BFloat16ActivationsAreAcceptedAndReturnedInTheirDtype()
    {
        var rng = new Random(4);
        using var weight = tensor(RandomArray(rng, 32 * 128), [32, 128]);
        using var layer = Int8Linear.Quantize(weight);
        using var x32 = tensor(RandomArray(rng, 2 * 128), [2, 128]);
        using var xbf = x32.to(ScalarType.BFloat16);
        using var y = layer.Forward(xbf);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        using var y32 = layer.Forward(x32);
        using var diff = (y.to(ScalarType.Float32) - y32).abs().max();
        Assert.True(diff.item<float>() < 0.1f);
    }
}
