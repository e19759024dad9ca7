using System.CommandLine;
using System.Diagnostics;
using OrleansLora.Engine.ModelInit;

namespace OrleansLora.Cli.Commands;

/// <summary><c>olora model init</c>: a random-weight model in the exact Hugging Face layout.</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model shape: {string.Join(", ", ModelPresets.Names)}.", DefaultValueFactory = _ => "tiny" };
        preset.AcceptOnlyFromAmong([.. ModelPresets.Names]);
        var seed = new Option<ulong>("--seed") { Description = "Seed for the weights (same seed, same model).", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write.", Required = true };
        var shardMb = new Option<long>("--shard-size-mb") { Description = "Split weights into shards of at most this many MB (0: one file; the mistral-7b preset defaults to 4800 like the original)." , DefaultValueFactory = _ => -1 };

        var init = new Command("init", "Write a random-weight model (config.json, safetensors, tokenizer files).") { preset, seed, output, shardMb };
        init.SetAction(parse =>
        {
            string name = parse.GetValue(preset)!;
            var config = ModelPresets.Get(name);
            long shard = parse.GetValue(shardMb);
            if (shard < 0)
                shard = name == "mistral-7b" ? 4800 : 0;
            string dir = parse.GetValue(output)!.FullName;
            var watch = Stopwatch.StartNew();
            var progress = new ConsoleProgress();
            RandomModelWriter.Write(config, dir, parse.GetValue(seed), shard * 1024 * 1024, progress);
            progress.Done();
            Console.WriteLine($"wrote {name} model to {dir} in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return new Command("model", "Model directories.") { init };
    }

    /// <summary>A single stderr line, redrawn at most every 200 ms.</summary>
    private sealed class ConsoleProgress : IProgress<ModelWriteProgress>
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private long _last = -1000;
        private bool _drawn;

        public void Report(ModelWriteProgress value)
        {
            long now = _watch.ElapsedMilliseconds;
            if (now - _last < 200 && value.BytesWritten < value.TotalBytes)
                return;
            _last = now;
            _drawn = true;
            double pct = value.TotalBytes == 0 ? 100 : 100.0 * value.BytesWritten / value.TotalBytes;
            Console.Error.Write($"\r  {pct,5:F1}%  {value.BytesWritten / 1048576.0,9:F0} / {value.TotalBytes / 1048576.0:F0} MB  {value.CurrentTensor,-48}");
        }

        public void Done()
        {
            if (_drawn)
                Console.Error.WriteLine();
        }
    }
}
