using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Native;

/// <summary>
/// Each paged-KV / fused decode-step entry point called once through its binding, against a float64
/// loop (RoPE: against the engine's own <see cref="RotaryEmbedding"/>, bit for bit). The native
/// GoogleTest suite covers shapes, dtypes and ISA paths; this checks the C# signatures and layout.
/// </summary>
public sealed unsafe class FusedKernelTests
{
    private const int F32 = NativeMethods.DtypeF32;
    private readonly Random _random = new(7);

    public FusedKernelTests() => NativeRuntime.EnsureInitialized();

    private float[] Uniform(int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = (float)(_random.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>
    /// Two sequences (contexts 11 and 6) in shuffled blocks of 4: keys and values appended through a
    /// slot mapping, then decode and chunked prefill read them through the block tables. Float32
    /// bound for contexts of at most 11 keys, head dim 16, |q|, |k|, |v| &lt;= 1 (the derivation in
    /// native-kernels/tests/paged_test_util.h): 2.2 (Es + u (8 + 2 * 11 + 16)) + 2u &lt; 1.6e-5, Es = 18 u * 0.25 * 16.
    /// </summary>
    [Fact]
    public void AppendThenDecodeAndPrefillMatchALoopReference()
    {
        const double Tolerance = 1.6e-5;
        const int heads = 4, kvHeads = 2, dim = 16, blockSize = 4, blocks = 6, maxBlocks = 3, width = heads * dim, kvWidth = kvHeads * dim;
        int[] contexts = [11, 6];
        int[] tables = [3, 0, 5, 1, 4, -1];                     // [2, maxBlocks]
        int tokens = contexts.Sum();
        float[] keys = Uniform(tokens * kvWidth), values = Uniform(tokens * kvWidth);
        var slots = new long[tokens];
        var owner = new (int Seq, int Pos)[tokens];
        for (int s = 0, t = 0; s < 2; s++)
            for (int p = 0; p < contexts[s]; p++, t++)
            {
                slots[t] = (long)tables[s * maxBlocks + p / blockSize] * blockSize + p % blockSize;
                owner[t] = (s, p);
            }
        var kPool = new float[blocks * kvHeads * blockSize * dim];
        var vPool = new float[kPool.Length];
        fixed (float* k = keys, v = values, kp = kPool, vp = vPool)
        fixed (long* sl = slots)
            Assert.Equal(0, NativeMethods.KvAppend(F32, k, kvWidth, v, kvWidth, sl, tokens, kp, vp, blocks, blockSize, kvHeads, dim));

        // Key / value e of (sequence, position, KV head), from the appended inputs.
        int Token(int s, int p) => Array.IndexOf(owner, (s, p));
        double Key(int s, int p, int h, int e) => keys[Token(s, p) * kvWidth + h * dim + e];
        double Value(int s, int p, int h, int e) => values[Token(s, p) * kvWidth + h * dim + e];
        double[] Reference(float[] q, int row, int s, int pos, int head)
        {
            int h = head / (heads / kvHeads);
            var scores = new double[pos + 1];
            for (int j = 0; j <= pos; j++)
            {
                for (int e = 0; e < dim; e++)
                    scores[j] += q[row * width + head * dim + e] * Key(s, j, h, e);
                scores[j] /= Math.Sqrt(dim);
            }
            double max = scores.Max(), sum = scores.Sum(x => Math.Exp(x - max));
            var o = new double[dim];
            for (int j = 0; j <= pos; j++)
                for (int e = 0; e < dim; e++)
                    o[e] += Math.Exp(scores[j] - max) / sum * Value(s, j, h, e);
            return o;
        }

        float[] qd = Uniform(2 * width), outDecode = new float[2 * width];
        int[] queryStart = [0, 5, 11];                          // the last 5 tokens of sequence 0, all 6 of sequence 1
        float[] qp = Uniform(11 * width), outPrefill = new float[11 * width];
        Array.Fill(outDecode, float.NaN);
        Array.Fill(outPrefill, float.NaN);
        fixed (float* q = qd, o = outDecode, q2 = qp, o2 = outPrefill, kp = kPool, vp = vPool)
        fixed (int* bt = tables, ctx = contexts, qsl = queryStart)
        {
            Assert.Equal(0, NativeMethods.PagedAttentionDecode(F32, q, width, o, width, kp, vp, blocks, blockSize, bt, maxBlocks, maxBlocks,
                ctx, 2, heads, kvHeads, dim, 0));
            Assert.Equal(0, NativeMethods.PagedAttentionPrefill(F32, q2, width, o2, width, kp, vp, blocks, blockSize, bt, maxBlocks, maxBlocks,
                qsl, ctx, 2, heads, kvHeads, dim, 0));
        }
        for (int s = 0; s < 2; s++)
            for (int head = 0; head < heads; head++)
            {
                var expected = Reference(qd, s, s, contexts[s] - 1, head);
                for (int e = 0; e < dim; e++)
                    Assert.True(Math.Abs(outDecode[s * width + head * dim + e] - expected[e]) <= Tolerance, $"decode seq {s} head {head} e {e}");
                for (int row = queryStart[s]; row < queryStart[s + 1]; row++)
                {
                    int pos = contexts[s] - (queryStart[s + 1] - row);
                    expected = Reference(qp, row, s, pos, head);
                    for (int e = 0; e < dim; e++)
                        Assert.True(Math.Abs(outPrefill[row * width + head * dim + e] - expected[e]) <= Tolerance, $"prefill row {row} head {head} e {e}");
                }
            }
    }

    [Fact]
    public void CopyBlocksCopiesKeysAndValues()
    {
        const int blocks = 3, blockSize = 2, kvHeads = 2, dim = 4, block = kvHeads * blockSize * dim;
        float[] k = Uniform(blocks * block), v = Uniform(blocks * block), k0 = (float[])k.Clone(), v0 = (float[])v.Clone();
        int[] mapping = [2, 0];
        fixed (float* kp = k, vp = v)
        fixed (int* m = mapping)
            Assert.Equal(0, NativeMethods.KvCopyBlocks(F32, kp, vp, blocks, blockSize, kvHeads, dim, m, 1));
        Assert.Equal(k0.AsSpan(2 * block, block).ToArray(), k.AsSpan(0, block).ToArray());
        Assert.Equal(v0.AsSpan(2 * block, block).ToArray(), v.AsSpan(0, block).ToArray());
        Assert.Equal(k0.AsSpan(block).ToArray(), k.AsSpan(block).ToArray());
    }

    /// <summary>Float32 bound of RMSNorm over n values: (n / 2 + 8) u |y| (native-kernels/tests/fused_ops_test.cpp).</summary>
    [Fact]
    public void RmsNormAndResidualAddMatchALoopReference()
    {
        const int rows = 3, hidden = 70;
        const float eps = 1e-5f;
        float[] x = Uniform(rows * hidden, 3), residual = Uniform(rows * hidden, 3), weight = Uniform(hidden);
        float[] normed = new float[rows * hidden], fused = new float[rows * hidden], residual0 = (float[])residual.Clone();
        fixed (float* xp = x, rp = residual, wp = weight, np = normed, fp = fused)
        {
            Assert.Equal(0, NativeMethods.RmsNorm(xp, hidden, wp, np, hidden, rows, hidden, eps));
            Assert.Equal(0, NativeMethods.AddRmsNorm(xp, hidden, rp, hidden, wp, fp, hidden, rows, hidden, eps));
        }
        double bound = (hidden / 2.0 + 8) / (1 << 24);
        for (int r = 0; r < rows; r++)
        {
            double ss = 0, ssh = 0;
            for (int i = 0; i < hidden; i++)
            {
                float h = x[r * hidden + i] + residual0[r * hidden + i];
                Assert.Equal(h, residual[r * hidden + i]);       // the new residual stream: one float32 add
                ss += (double)x[r * hidden + i] * x[r * hidden + i];
                ssh += (double)h * h;
            }
            for (int i = 0; i < hidden; i++)
            {
                double y = x[r * hidden + i] / Math.Sqrt(ss / hidden + eps) * weight[i];
                double yh = residual[r * hidden + i] / Math.Sqrt(ssh / hidden + eps) * weight[i];
                Assert.True(Math.Abs(normed[r * hidden + i] - y) <= bound * Math.Abs(y) + 1e-30, $"rmsnorm {r} {i}");
                Assert.True(Math.Abs(fused[r * hidden + i] - yh) <= bound * Math.Abs(yh) + 1e-30, $"add_rmsnorm {r} {i}");
            }
        }
    }

    /// <summary>olora_rope on tables read out of <see cref="RotaryEmbedding"/> gives the bits of its Apply.</summary>
    [Fact]
    public void RopeHasTheBitsOfTheEnginesRotaryEmbedding()
    {
        var config = ModelPresets.Tiny;
        int dim = config.HeadDim, heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, maxPos = 64, tokens = 5;
        using var rope = new RotaryEmbedding(config, maxPos, ScalarType.Float32);
        using var all = arange(maxPos, dtype: ScalarType.Int64);
        var (cosAll, sinAll) = rope.ForPositions(all);                         // [maxPos, 1, dim]
        float[] cos = cosAll.data<float>().ToArray(), sin = sinAll.data<float>().ToArray();
        cosAll.Dispose();
        sinAll.Dispose();
        int[] positions = [0, 63, 17, 5, 17];
        float[] q = Uniform(tokens * heads * dim, 3), k = Uniform(tokens * kvHeads * dim, 3);
        using var qt = tensor(q, [tokens, heads, dim]);
        using var kt = tensor(k, [tokens, kvHeads, dim]);
        using var pos = tensor(positions.Select(p => (long)p).ToArray());
        var (c, s) = rope.ForPositions(pos);                                   // [tokens, 1, dim]
        using var qe = RotaryEmbedding.Apply(qt, c, s);
        using var ke = RotaryEmbedding.Apply(kt, c, s);
        c.Dispose();
        s.Dispose();
        fixed (float* qp = q, kp = k, cp = cos, sp = sin)
        fixed (int* pp = positions)
            Assert.Equal(0, NativeMethods.Rope(qp, heads * dim, heads, kp, kvHeads * dim, kvHeads, dim, pp, tokens, cp, sp, maxPos));
        Assert.Equal(qe.data<float>().ToArray(), q);
        Assert.Equal(ke.data<float>().ToArray(), k);
    }

    /// <summary>silu(g) * up in float32: within 8 u |y| (native-kernels/tests/fused_ops_test.cpp).</summary>
    [Fact]
    public void SwiGluMatchesALoopReference()
    {
        const int rows = 2, inter = 19;
        float[] gateUp = Uniform(rows * 2 * inter, 8), output = new float[rows * inter];
        fixed (float* g = gateUp, o = output)
            Assert.Equal(0, NativeMethods.SwiGlu(g, 2 * inter, o, inter, rows, inter));
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < inter; i++)
            {
                double gate = gateUp[r * 2 * inter + i], up = gateUp[r * 2 * inter + inter + i];
                double y = gate / (1 + Math.Exp(-gate)) * up;
                Assert.True(Math.Abs(output[r * inter + i] - y) <= 8.0 / (1 << 24) * Math.Abs(y) + 1e-37, $"row {r} i {i}");
            }
    }

    [Fact]
    public void ArgmaxAndTopKRankTheLogits()
    {
        const int vocab = 1000, k = 5;
        float[] logits = Uniform(2 * vocab);
        logits[417] = logits[901] = 5f;                            // row 0: a tie, the first wins
        logits[vocab + 999] = 7f;                                  // row 1: the last element
        var ids = new int[2];
        var topIds = new int[2 * k];
        var topValues = new float[2 * k];
        fixed (float* l = logits)
        fixed (int* o = ids, t = topIds)
        fixed (float* tv = topValues)
        {
            Assert.Equal(0, NativeMethods.Argmax(l, vocab, 2, vocab, o));
            Assert.Equal(0, NativeMethods.TopK(l, vocab, 2, vocab, k, t, tv));
        }
        Assert.Equal(new[] { 417, 999 }, ids);
        for (int r = 0; r < 2; r++)
        {
            // Descending values, ties by the lower index: a stable sort of the indices.
            int[] expected = Enumerable.Range(0, vocab).OrderByDescending(i => logits[r * vocab + i]).Take(k).ToArray();
            Assert.Equal(expected, topIds.AsSpan(r * k, k).ToArray());
            Assert.Equal(expected.Select(i => logits[r * vocab + i]).ToArray(), topValues.AsSpan(r * k, k).ToArray());
        }
    }
}
