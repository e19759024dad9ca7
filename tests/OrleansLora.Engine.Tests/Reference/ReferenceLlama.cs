namespace OrleansLora.Engine.Tests.Reference;

/// <summary>
/// An independent float64 LlamaForCausalLM / MistralForCausalLM forward pass in plain loops,
/// written from the math of transformers' modeling_llama / modeling_mistral (no TorchSharp, no
/// engine code). Slow but simple: meant for tiny models in tests.
/// </summary>
public sealed class ReferenceLlama
{
    private readonly Dictionary<string, ReferenceTensor> _weights;

    public ReferenceLlama(ReferenceConfig config, Dictionary<string, ReferenceTensor> weights)
    {
        Config = config;
        _weights = weights;
        InverseFrequencies = ComputeInverseFrequencies(config);
        CheckShapes();
    }

    public ReferenceConfig Config { get; }

    /// <summary>Rotary inverse frequencies (head_dim / 2 of them) after rope scaling.</summary>
    public double[] InverseFrequencies { get; }

    /// <summary>Reads config.json and the safetensors checkpoint of a model directory.</summary>
    public static ReferenceLlama Load(string directory) =>
        new(ReferenceConfig.Load(directory), ReferenceSafetensors.LoadDirectory(directory));

    /// <summary>The same weights under a different config (e.g. without the sliding window).</summary>
    public ReferenceLlama WithConfig(ReferenceConfig config) => new(config, _weights);

    /// <summary>
    /// inv_freq_i = 1 / theta^(2i/d), i &lt; d/2; "linear" divides by factor; "llama3" follows
    /// transformers' _compute_llama3_parameters (wavelengths above original/low_freq_factor are divided
    /// by factor, below original/high_freq_factor kept, and in between smoothly interpolated).
    /// </summary>
    public static double[] ComputeInverseFrequencies(ReferenceConfig c)
    {
        int d = c.HeadDim;
        var inv = new double[d / 2];
        for (int i = 0; i < d / 2; i++)
            inv[i] = 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / d);

        switch (c.RopeScaling?.Kind)
        {
            case null:
                break;
            case "linear":
                for (int i = 0; i < inv.Length; i++)
                    inv[i] /= c.RopeScaling.Factor;
                break;
            case "llama3":
            {
                var s = c.RopeScaling;
                double lowFreqWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                double highFreqWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                for (int i = 0; i < inv.Length; i++)
                {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen < highFreqWavelen)
                    {
                        // high frequency: unchanged
                    }
                    else if (wavelen > lowFreqWavelen)
                    {
                        inv[i] /= s.Factor;
                    }
                    else
                    {
                        double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
                    }
                }
                break;
            }
            default:
                throw new InvalidDataException($"reference: rope scaling {c.RopeScaling.Kind} not supported.");
        }
        return inv;
    }

    /// <summary>Logits [position][vocab] for every position of one sequence starting at position 0.</summary>
    public double[][] Logits(int[] tokens)
    {
        var c = Config;
        int n = tokens.Length, h = c.HiddenSize, d = c.HeadDim;
        int heads = c.NumAttentionHeads, kvHeads = c.NumKeyValueHeads, groups = heads / kvHeads;

        var embed = W("model.embed_tokens.weight");
        var x = new double[n][];
        for (int t = 0; t < n; t++)
        {
            if (tokens[t] < 0 || tokens[t] >= c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {tokens[t]} outside the vocabulary.");
            x[t] = new double[h];
            Array.Copy(embed, (long)tokens[t] * h, x[t], 0, h);
        }

        // cos/sin over the full head_dim as cat(freqs, freqs).
        var cos = new double[n][];
        var sin = new double[n][];
        for (int p = 0; p < n; p++)
        {
            cos[p] = new double[d];
            sin[p] = new double[d];
            for (int i = 0; i < d / 2; i++)
            {
                double angle = p * InverseFrequencies[i];
                cos[p][i] = cos[p][i + d / 2] = Math.Cos(angle);
                sin[p][i] = sin[p][i + d / 2] = Math.Sin(angle);
            }
        }

        double scale = 1.0 / Math.Sqrt(d);
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            string pre = $"model.layers.{layer}.";
            var wq = W(pre + "self_attn.q_proj.weight");
            var wk = W(pre + "self_attn.k_proj.weight");
            var wv = W(pre + "self_attn.v_proj.weight");
            var wo = W(pre + "self_attn.o_proj.weight");

            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var normed = RmsNorm(x[t], W(pre + "input_layernorm.weight"));
                q[t] = MatVec(wq, heads * d, h, normed);
                k[t] = MatVec(wk, kvHeads * d, h, normed);
                v[t] = MatVec(wv, kvHeads * d, h, normed);
                for (int head = 0; head < heads; head++)
                    Rotate(q[t], head * d, d, cos[t], sin[t]);
                for (int head = 0; head < kvHeads; head++)
                    Rotate(k[t], head * d, d, cos[t], sin[t]);
            }

            for (int t = 0; t < n; t++)
            {
                var attn = new double[heads * d];
                int first = c.SlidingWindow is { } window ? Math.Max(0, t - window + 1) : 0;
                for (int head = 0; head < heads; head++)
                {
                    int kvHead = head / groups;
                    var scores = new double[t + 1];
                    double max = double.NegativeInfinity;
                    for (int j = first; j <= t; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < d; e++)
                            dot += q[t][head * d + e] * k[j][kvHead * d + e];
                        scores[j] = dot * scale;
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= t; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = first; j <= t; j++)
                    {
                        double pr = scores[j] / sum;
                        for (int e = 0; e < d; e++)
                            attn[head * d + e] += pr * v[j][kvHead * d + e];
                    }
                }
                var o = MatVec(wo, h, heads * d, attn);
                for (int e = 0; e < h; e++)
                    x[t][e] += o[e];
            }

            var gate = W(pre + "mlp.gate_proj.weight");
            var up = W(pre + "mlp.up_proj.weight");
            var down = W(pre + "mlp.down_proj.weight");
            int ff = c.IntermediateSize;
            for (int t = 0; t < n; t++)
            {
                var normed = RmsNorm(x[t], W(pre + "post_attention_layernorm.weight"));
                var g = MatVec(gate, ff, h, normed);
                var u = MatVec(up, ff, h, normed);
                for (int e = 0; e < ff; e++)
                    g[e] = g[e] / (1 + Math.Exp(-g[e])) * u[e]; // silu(gate) * up
                var m = MatVec(down, h, ff, g);
                for (int e = 0; e < h; e++)
                    x[t][e] += m[e];
            }
        }

        var lmHead = c.TieWordEmbeddings ? embed : W("lm_head.weight");
        var finalNorm = W("model.norm.weight");
        var logits = new double[n][];
        for (int t = 0; t < n; t++)
            logits[t] = MatVec(lmHead, c.VocabSize, h, RmsNorm(x[t], finalNorm));
        return logits;
    }

    /// <summary>x / sqrt(mean(x^2) + eps) * w.</summary>
    private double[] RmsNorm(double[] x, double[] w)
    {
        double ss = 0;
        foreach (double e in x)
            ss += e * e;
        double inv = 1.0 / Math.Sqrt(ss / x.Length + Config.RmsNormEps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
            y[i] = x[i] * inv * w[i];
        return y;
    }

    /// <summary>In place on v[offset .. offset+d): v*cos + rotate_half(v)*sin, rotate_half(v) = cat(-v2, v1).</summary>
    private static void Rotate(double[] v, int offset, int d, double[] cos, double[] sin)
    {
        int half = d / 2;
        var orig = new double[d];
        Array.Copy(v, offset, orig, 0, d);
        for (int i = 0; i < d; i++)
        {
            double rotated = i < half ? -orig[i + half] : orig[i - half];
            v[offset + i] = orig[i] * cos[i] + rotated * sin[i];
        }
    }

    /// <summary>y = W x with W row-major [rows, cols] (PyTorch Linear: [out, in]).</summary>
    private static double[] MatVec(double[] w, int rows, int cols, double[] x)
    {
        var y = new double[rows];
        void Rows(int from, int to)
        {
            for (int r = from; r < to; r++)
            {
                double acc = 0;
                long row = (long)r * cols;
                for (int i = 0; i < cols; i++)
                    acc += w[row + i] * x[i];
                y[r] = acc;
            }
        }
        const int blockRows = 4096;
        if ((long)rows * cols < 1 << 20)
            Rows(0, rows);
        else // lm_head: split the vocabulary over cores (each row is still one sequential sum)
            Parallel.For(0, (rows + blockRows - 1) / blockRows, b => Rows(b * blockRows, Math.Min(rows, (b + 1) * blockRows)));
        return y;
    }

    private double[] W(string name) =>
        _weights.TryGetValue(name, out var t) ? t.Data : throw new KeyNotFoundException($"reference: checkpoint lacks {name}.");

    private void CheckShapes()
    {
        var c = Config;
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, ff = c.IntermediateSize;
        if (c.NumAttentionHeads % c.NumKeyValueHeads != 0)
            throw new InvalidDataException("reference: heads must be a multiple of kv heads.");
        void Expect(string name, params long[] shape)
        {
            if (!_weights.TryGetValue(name, out var t))
                throw new InvalidDataException($"reference: checkpoint lacks {name}.");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"reference: {name} has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}].");
        }
        Expect("model.embed_tokens.weight", c.VocabSize, h);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Expect(p + "input_layernorm.weight", h);
            Expect(p + "self_attn.q_proj.weight", q, h);
            Expect(p + "self_attn.k_proj.weight", kv, h);
            Expect(p + "self_attn.v_proj.weight", kv, h);
            Expect(p + "self_attn.o_proj.weight", h, q);
            Expect(p + "post_attention_layernorm.weight", h);
            Expect(p + "mlp.gate_proj.weight", ff, h);
            Expect(p + "mlp.up_proj.weight", ff, h);
            Expect(p + "mlp.down_proj.weight", h, ff);
        }
        Expect("model.norm.weight", h);
        if (!c.TieWordEmbeddings)
            Expect("lm_head.weight", c.VocabSize, h);
    }
}
