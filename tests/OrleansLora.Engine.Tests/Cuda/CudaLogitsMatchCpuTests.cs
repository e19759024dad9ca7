using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Quantization;
using Xunit.Abstractions;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The CUDA runner in host emulation (bf16 weights, activations rounded to bf16 at the kernels' boundaries, bf16 KV)
/// against the CPU runner (float32) on the same random checkpoint and adapters: one batch mixing the base model and
/// two adapters of different ranks (one q/v only), prefilled together (prompt token logits included), then decoded
/// across KV block boundaries with a chunked prefill joining on the way, decode rows before and after it. Every row:
/// max |Δ| / max |logit| within bf16 tolerance, finite, and the top-1 token the CPU's unless the CPU's own margin
/// between the two is inside the tolerance. The same with NF4 and int8 weights on both sides.
/// </summary>
public sealed class CudaLogitsMatchCpuTests(CudaTestModels models, ITestOutputHelper output) : IClassFixture<CudaTestModels>
{
    private sealed class Sequence(int handle, int[] prompt, int adapterSlot, int[] blocks)
    {
        public int Handle { get; } = handle;
        public List<int> Tokens { get; } = [.. prompt];
        public int Computed { get; set; }
        public int AdapterSlot { get; } = adapterSlot;
        public int[] Blocks { get; } = blocks;

        public BatchSequence Part(int count) => new(Handle, Computed, count, AdapterSlot, Blocks);
    }

    [Theory]
    [InlineData("llama", QuantizationMode.None, true)]
    [InlineData("mistral", QuantizationMode.None, true)]
    [InlineData("llama3", QuantizationMode.None, true)]
    [InlineData("llama", QuantizationMode.Nf4, true)]   // tied: the quantized head from the embedding
    [InlineData("llama", QuantizationMode.Nf4, false)]  // tied, the head left bf16
    [InlineData("mistral", QuantizationMode.Nf4, true)]
    [InlineData("llama", QuantizationMode.Int8, true)]
    [InlineData("llama3", QuantizationMode.Int8, false)]
    public void Logits_match_the_cpu_runner_with_base_and_two_adapters_in_one_batch(string model, QuantizationMode quantization, bool quantizeLmHead)
    {
        using var pair = new LockstepRunners(models.Path(model), quantization, [models.AdapterPath(model, 0), models.AdapterPath(model, 1)], quantizeLmHead);
        var rng = new Random(7);
        int vocab = pair.Cpu.Config.VocabSize;
        int[] Prompt(int length) => [.. Enumerable.Range(0, length).Select(_ => rng.Next(vocab))];
        int[] shared = Prompt(11);
        var running = new List<Sequence>
        {
            new(0, shared, -1, pair.Blocks()),
            new(1, shared, 0, pair.Blocks()),
            new(2, shared, 1, pair.Blocks()),
            new(3, Prompt(6), 0, pair.Blocks()),
        };
        var late = new Sequence(4, Prompt(9), 1, pair.Blocks());

        // Step 0: every prompt at once; the q/v adapter's and the short prompt's token rows too.
        var (cpu, cuda, _, _) = Run(pair, running.Select(s => (s, s.Tokens.Count)).ToList(), tokenLogits: [false, false, true, true]);
        for (int i = 0; i < 3; i++)
        {
            for (int j = i + 1; j < 3; j++)
            {
                double apart = MaxAbsDiff(cuda[i], cuda[j]);
                Assert.True(apart > 0.05 * cuda[i].Max(MathF.Abs), $"the same prompt on slots {running[i].AdapterSlot} and {running[j].AdapterSlot} gave logits only {apart:g3} apart: the adapters changed nothing");
            }
        }
        Append(running, cpu);

        for (int step = 1; step <= 12; step++)
        {
            // Decode rows first (split-K decode kernel), then the late prompt's first chunk; the next step puts its second
            // chunk first, so those decode rows take the prefill kernel.
            var parts = running.Select(s => (s, 1)).ToList();
            if (step == 3)
                parts.Add((late, 5));
            else if (step == 4)
                parts.Insert(0, (late, 4));
            (cpu, _, _, _) = Run(pair, parts);
            if (step == 4)
            {
                late.Tokens.Add(LockstepRunners.ArgMax(cpu[0]));
                cpu = cpu[1..];
            }
            Append(running, cpu);
            if (step == 4)
                running.Add(late);
        }

        output.WriteLine($"{model} {quantization}{(quantizeLmHead ? "" : ", lm_head bf16")}: {pair.Summary}");
        Assert.True(pair.Top1Mismatches.Count == 0, string.Join("\n", pair.Top1Mismatches));
        Assert.True(pair.MaxRelativeError <= pair.Tolerance, $"{model} {quantization}: {pair.Summary}, above {pair.Tolerance}");
        Assert.True(running.Max(s => s.Computed) > 5 * LockstepRunners.BlockSize, "the decode did not cross several blocks");
    }

    /// <summary>Runs one step over (sequence, tokens) parts, each part the sequence's next uncomputed tokens.</summary>
    private static (float[][] Cpu, float[][] Cuda, float[][][]? CpuTokens, float[][][]? CudaTokens) Run(LockstepRunners pair, List<(Sequence S, int Count)> parts, bool[]? tokenLogits = null)
    {
        var sequences = parts.Select(p => p.S.Part(p.Count)).ToList();
        int[] tokens = [.. parts.SelectMany(p => p.S.Tokens.Skip(p.S.Computed).Take(p.Count))];
        Assert.Equal(parts.Sum(p => p.Count), tokens.Length);
        var result = pair.Step(sequences, tokens, tokenLogits);
        foreach (var (s, count) in parts)
            s.Computed += count;
        return result;
    }

    /// <summary>Greedy on the CPU's logits: both runners get the same next token.</summary>
    private static void Append(List<Sequence> running, float[][] cpu)
    {
        for (int i = 0; i < running.Count; i++)
            running[i].Tokens.Add(LockstepRunners.ArgMax(cpu[i]));
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        double d = 0;
        for (int i = 0; i < a.Length; i++)
            d = Math.Max(d, Math.Abs(a[i] - b[i]));
        return d;
    }
}
