using System.Globalization;

namespace OrleansLora.SoakBench;

/// <summary>Command line of the soak bench: <c>--streams 256 --seconds 60 --json FILE [--url URL --server-pid PID]</c>.</summary>
internal sealed record SoakOptions
{
    public const string Usage =
        "options: --streams N --seconds T --waves N --max-tokens N --adapters a,b,... --url URL --server-pid PID --key KEY " +
        "--lorax-share F --long-prompts N --settle S --server-arg ARG (repeatable) --no-probe --json FILE --work DIR";

    /// <summary>Streaming requests in flight at once; each stream starts the next request as soon as one ends.</summary>
    public int Streams { get; init; } = 256;

    /// <summary>How long each wave keeps starting requests; in-flight ones then finish.</summary>
    public double Seconds { get; init; } = 60;

    /// <summary>Identical waves; RSS is read after each, growth is between the last two.</summary>
    public int Waves { get; init; } = 2;

    public int MaxTokens { get; init; } = 32;

    /// <summary>Models to spread the streams over; empty: every model /v1/models lists (base and adapters).</summary>
    public string[] Adapters { get; init; } = [];

    /// <summary>A running server's base URL; null: start the embedded default as a child process.</summary>
    public string? Url { get; init; }

    /// <summary>The process id of the server at <see cref="Url"/>, to read its RSS (same machine); null: no RSS.</summary>
    public int? ServerPid { get; init; }

    public string? Key { get; init; }

    /// <summary>The share of streams that use LoRAX's <c>/generate_stream</c>; the rest OpenAI's streaming chat.</summary>
    public double LoraxShare { get; init; } = 0.25;

    /// <summary>Long prompts sent at once after the waves (issue 12 item 10's RSS and stall figures); 0 skips them.</summary>
    public int LongPrompts { get; init; } = 8;

    /// <summary>Seconds to wait after a wave before reading RSS, so work in flight at its end has finished.</summary>
    public double SettleSeconds { get; init; } = 5;

    /// <summary>Extra arguments for the started server (e.g. --OrleansLora:Engine:MaxBatchSize=64).</summary>
    public string[] ServerArguments { get; init; } = [];

    /// <summary>Skip the machine probes (read bandwidth, GEMM rate), which take a few seconds and 3 GiB.</summary>
    public bool NoProbe { get; init; }

    public string? JsonPath { get; init; }

    /// <summary>The started server's data and log (git-ignored).</summary>
    public string WorkDirectory { get; init; } = ".bench/soak";

    public static SoakOptions Parse(string[] args)
    {
        var o = new SoakOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double NextDouble() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--streams" => o with { Streams = NextInt() },
                "--seconds" => o with { Seconds = NextDouble() },
                "--waves" => o with { Waves = NextInt() },
                "--max-tokens" => o with { MaxTokens = NextInt() },
                "--adapters" => o with { Adapters = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--url" => o with { Url = Next() },
                "--server-pid" => o with { ServerPid = NextInt() },
                "--key" => o with { Key = Next() },
                "--lorax-share" => o with { LoraxShare = NextDouble() },
                "--long-prompts" => o with { LongPrompts = NextInt() },
                "--settle" => o with { SettleSeconds = NextDouble() },
                "--server-arg" => o with { ServerArguments = [.. o.ServerArguments, Next()] },
                "--no-probe" => o with { NoProbe = true },
                "--json" => o with { JsonPath = Next() },
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
        if (Streams < 1)
            throw new ArgumentException($"--streams must be >= 1, got {Streams}.");
        if (!(Seconds > 0))
            throw new ArgumentException($"--seconds must be > 0, got {Seconds}.");
        if (Waves < 1)
            throw new ArgumentException($"--waves must be >= 1, got {Waves}.");
        if (MaxTokens < 1)
            throw new ArgumentException($"--max-tokens must be >= 1, got {MaxTokens}.");
        if (Url is not null && !Uri.TryCreate(Url, UriKind.Absolute, out _))
            throw new ArgumentException($"--url must be an absolute URL, got \"{Url}\".");
        if (ServerPid is not null && Url is null)
            throw new ArgumentException("--server-pid goes with --url (a started server's RSS is read anyway).");
        if (LoraxShare is < 0 or > 1)
            throw new ArgumentException($"--lorax-share must be in [0, 1], got {LoraxShare}.");
        if (LongPrompts < 0)
            throw new ArgumentException($"--long-prompts must be >= 0, got {LongPrompts}.");
        if (SettleSeconds < 0)
            throw new ArgumentException($"--settle must be >= 0, got {SettleSeconds}.");
    }
}
