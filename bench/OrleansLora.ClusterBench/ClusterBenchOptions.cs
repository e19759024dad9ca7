using System.Globalization;

namespace OrleansLora.ClusterBench;

/// <summary>Command line of the cluster benchmark: <c>--json FILE --rounds 5 --concurrency 32 --adapters 8 ...</c>.</summary>
internal sealed record ClusterBenchOptions
{
    public const string Usage =
        "options: --json FILE --preset small|tiny --rounds N --concurrency N --adapters N --rank N --prompt-tokens N --new-tokens N --threads N --probes N --paths engine,orleans,http --work DIR";

    public string? JsonPath { get; init; }
    public string Preset { get; init; } = "small";
    /// <summary>Timed rounds per path (each path also runs one untimed warm-up round first).</summary>
    public int Rounds { get; init; } = 5;
    /// <summary>Streaming requests in flight at once in a round; request i uses adapter i mod <see cref="Adapters"/>.</summary>
    public int Concurrency { get; init; } = 32;
    public int Adapters { get; init; } = 8;
    public int Rank { get; init; } = 16;
    /// <summary>Prompt length in tokens (BOS included), built from whole words so it is exact.</summary>
    public int PromptTokens { get; init; } = 64;
    public int NewTokens { get; init; } = 64;
    /// <summary>libtorch threads, the same in the bench's engine and the server's.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Single one-token requests per path for time to first token without batching (0 skips them).</summary>
    public int Probes { get; init; } = 15;
    public string[] Paths { get; init; } = [PathNames.Engine, PathNames.Orleans, PathNames.Http];
    /// <summary>Cached model, adapters, server copy and logs (git-ignored).</summary>
    public string WorkDirectory { get; init; } = ".bench";

    public static ClusterBenchOptions Parse(string[] args)
    {
        var o = new ClusterBenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--json" => o with { JsonPath = Next() },
                "--preset" => o with { Preset = Next() },
                "--rounds" => o with { Rounds = NextInt() },
                "--concurrency" => o with { Concurrency = NextInt() },
                "--adapters" => o with { Adapters = NextInt() },
                "--rank" => o with { Rank = NextInt() },
                "--prompt-tokens" => o with { PromptTokens = NextInt() },
                "--new-tokens" => o with { NewTokens = NextInt() },
                "--threads" => o with { Threads = NextInt() },
                "--probes" => o with { Probes = NextInt() },
                "--paths" => o with { Paths = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--work" => o with { WorkDirectory = Next() },
                _ => throw new ArgumentException($"unknown option {args[i]}; {Usage}"),
            };
        }
        o.Validate();
        return o;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Rounds < 1)
            throw new ArgumentException($"--rounds must be >= 1, got {Rounds}.");
        if (Concurrency < 1)
            throw new ArgumentException($"--concurrency must be >= 1, got {Concurrency}.");
        if (Adapters < 1 || Adapters > Concurrency)
            throw new ArgumentException($"--adapters must be in [1, concurrency = {Concurrency}], got {Adapters}.");
        if (Rank is < 1 or > 256)
            throw new ArgumentException($"--rank must be in [1, 256], got {Rank}.");
        if (PromptTokens < 2)
            throw new ArgumentException($"--prompt-tokens must be >= 2 (BOS and one word), got {PromptTokens}.");
        if (NewTokens < 1)
            throw new ArgumentException($"--new-tokens must be >= 1, got {NewTokens}.");
        if (Threads < 1)
            throw new ArgumentException($"--threads must be >= 1, got {Threads}.");
        if (Probes < 0)
            throw new ArgumentException($"--probes must be >= 0, got {Probes}.");
        if (Paths.Length == 0 || Paths.Any(p => !PathNames.All.Contains(p)) || Paths.Distinct().Count() != Paths.Length)
            throw new ArgumentException($"--paths must list distinct names from {string.Join(",", PathNames.All)}, got {string.Join(",", Paths)}.");
    }
}
