using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The same batches through the CPU runner (float32 compute; the reference) and the CUDA runner in host emulation, on
/// the same checkpoint and adapters, both paged with the same block tables. Records how far apart their logits are:
/// per row max |Δ| / max |logit of the CPU row|, and whether the top-1 tokens agree.
/// </summary>
internal sealed class LockstepRunners : IDisposable
{
    public const int BlockSize = 4;
    public const int MaxLength = 64;

    private int _nextBlock;

    public LockstepRunners(string modelPath, QuantizationMode quantization, string[] adapters, bool quantizeLmHead = true)
    {
        CudaHostLibrary.Require();
        // The reference computes in float32 throughout (QuantizedCompute.Float32: no bf16 rounding of activations on AMX
        // machines), so the comparison does not depend on the CPU it runs on; the CUDA runner ignores the setting.
        var load = new ModelLoadOptions { Quantization = quantization, QuantizeLmHead = quantizeLmHead, QuantizedCompute = QuantizedCompute.Float32, MaxSequenceLength = MaxLength };
        var options = new ModelRunnerOptions { KvBlockSize = BlockSize, KvCacheBytes = 8L << 20, MaxSequences = 8, MaxLoras = 4, MaxLoraRank = 16, AdapterDtype = "bfloat16" };
        Cpu = CpuModelRunner.Load(modelPath, load, options);
        Cuda = CudaModelRunner.Load(modelPath, load, options, CudaContext.HostDevice);
        for (int i = 0; i < adapters.Length; i++)
        {
            foreach (IModelRunner runner in new IModelRunner[] { Cpu, Cuda })
            {
                var prepared = runner.PrepareAdapter(adapters[i], new Engine.Adapters.AdapterLoadOptions());
                runner.LoadAdapter(i, prepared);
                prepared.Release();
            }
        }
    }

    public CpuModelRunner Cpu { get; }
    public CudaModelRunner Cuda { get; }

    /// <summary>The worst row so far: max |Δ| / max |CPU logit|.</summary>
    public double MaxRelativeError { get; private set; }
    public int Rows { get; private set; }
    public string WorstRow { get; private set; } = "";
    public int Top1Agreements { get; private set; }

    /// <summary>Rows whose top-1 differ although the CPU's margin between them is above the tolerance (should be none).</summary>
    public List<string> Top1Mismatches { get; } = [];

    /// <summary>
    /// bf16 tolerance on max |Δ| / max |logit|. Measured on these models and batches (2026-12-04): the CUDA runner's
    /// host emulation 1.4e-2 to 2.6e-2 (worst rows on the rank-8 adapter; NF4 with a bf16 lm_head the largest); the
    /// CPU runner's own bfloat16 mode against its float32 3.0e-2 to 5.1e-2 on the same kind of batches. What it
    /// catches: a sliding window off by one gives 1.2, a linear or llama3 RoPE factor 25 % off 0.085 to 0.78.
    /// </summary>
    public double Tolerance { get; init; } = 3e-2;

    /// <summary>A fresh block table of <paramref name="positions"/> positions (blocks are never reused).</summary>
    public int[] Blocks(int positions = MaxLength) =>
        [.. Enumerable.Range(0, (positions + BlockSize - 1) / BlockSize).Select(_ => _nextBlock++)];

    /// <summary>
    /// Runs the batch on both; returns each sequence's last-token row from each, and for flagged sequences every token
    /// row (CPU, CUDA), after checking each row pair against the tolerance.
    /// </summary>
    public (float[][] Cpu, float[][] Cuda, float[][][]? CpuTokens, float[][][]? CudaTokens) Step(IReadOnlyList<BatchSequence> sequences, int[] tokens, bool[]? tokenLogits = null)
    {
        var needs = Enumerable.Repeat(true, sequences.Count).ToArray();
        var batch = new ModelBatch(sequences, tokens, needs, tokenLogits);
        var (cpuLast, cpuTokens) = Read(Cpu, batch);
        var (cudaLast, cudaTokens) = Read(Cuda, batch);
        for (int i = 0; i < sequences.Count; i++)
        {
            Compare(cpuLast[i], cudaLast[i], $"sequence {i} (position {sequences[i].StartPosition + sequences[i].TokenCount - 1}, adapter slot {sequences[i].AdapterSlot})");
            if (cpuTokens?[i] is { } rows)
            {
                for (int t = 0; t < rows.Length; t++)
                    Compare(rows[t], cudaTokens![i]![t], $"sequence {i} token row {t}");
            }
        }
        return (cpuLast, cudaLast, cpuTokens, cudaTokens);
    }

    private static (float[][] Last, float[][][]? Tokens) Read(IModelRunner runner, ModelBatch batch)
    {
        using var logits = runner.Forward(batch);
        var last = Enumerable.Range(0, batch.Sequences.Count).Select(i => logits.Row(i).ToArray()).ToArray();
        float[][][]? tokens = null;
        if (batch.TokenLogits is { } flags)
        {
            tokens = new float[batch.Sequences.Count][][];
            for (int i = 0; i < flags.Length; i++)
            {
                if (flags[i])
                    tokens[i] = [.. Enumerable.Range(0, batch.Sequences[i].TokenCount).Select(t => logits.TokenRow(i, t).ToArray())];
            }
        }
        return (last, tokens);
    }

    private void Compare(float[] cpu, float[] cuda, string what)
    {
        Assert.Equal(cpu.Length, cuda.Length);
        Assert.True(cuda.All(float.IsFinite), $"{what}: the CUDA runner's logits are not all finite");
        double scale = cpu.Max(MathF.Abs), diff = 0;
        for (int v = 0; v < cpu.Length; v++)
            diff = Math.Max(diff, Math.Abs(cpu[v] - cuda[v]));
        double relative = diff / scale;
        if (relative > MaxRelativeError)
        {
            MaxRelativeError = relative;
            WorstRow = what;
        }
        Rows++;
        int cpuTop = ArgMax(cpu), cudaTop = ArgMax(cuda);
        if (cpuTop == cudaTop)
            Top1Agreements++;
        else if (cpu[cpuTop] - cpu[cudaTop] > Tolerance * scale)
            Top1Mismatches.Add($"{what}: top-1 {cudaTop} against the CPU's {cpuTop}, whose margin is {cpu[cpuTop] - cpu[cudaTop]:g4} (scale {scale:g4})");
    }

    public static int ArgMax(float[] row)
    {
        int best = 0;
        for (int v = 1; v < row.Length; v++)
        {
            if (row[v] > row[best])
                best = v;
        }
        return best;
    }

    public string Summary => $"{Rows} rows: max |Δ|/max|logit| {MaxRelativeError:e3} ({WorstRow}), top-1 agreement {Top1Agreements}/{Rows}";

    public void Dispose()
    {
        Cpu.Dispose();
        Cuda.Dispose();
    }
}
