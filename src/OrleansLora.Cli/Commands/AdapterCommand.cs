using System.CommandLine;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;

namespace OrleansLora.Cli.Commands;

/// <summary><c>olora adapter init</c>: a random LoRA adapter in PEFT's exact layout for a given base model.</summary>
internal static class AdapterCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Base model directory (its config.json fixes the adapter's shapes).", Required = true };
        var rank = new Option<int>("--rank") { Description = "LoRA rank r.", DefaultValueFactory = _ => 8 };
        var alpha = new Option<double>("--alpha") { Description = "lora_alpha; the scaling is alpha / r (alpha / sqrt(r) with --rslora).", DefaultValueFactory = _ => 16 };
        var targets = new Option<string>("--targets") { Description = $"\"all\" or a comma-separated list of: {string.Join(", ", LoraTargetModules.All)}.", DefaultValueFactory = _ => "all" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for the weights (same seed, same adapter).", DefaultValueFactory = _ => 0 };
        var rsLora = new Option<bool>("--rslora") { Description = "Write use_rslora = true (scaling alpha / sqrt(r))." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory to write.", Required = true };

        var init = new Command("init", "Write a random PEFT LoRA adapter (adapter_config.json, adapter_model.safetensors) with non-zero B.") { model, rank, alpha, targets, seed, rsLora, output };
        init.SetAction(parse =>
        {
            try
            {
                string modelDir = parse.GetValue(model)!.FullName;
                var config = ModelConfig.Load(modelDir);
                var modules = LoraTargetModules.Parse(parse.GetValue(targets)!);
                string dir = parse.GetValue(output)!.FullName;
                int r = parse.GetValue(rank);
                double a = parse.GetValue(alpha);
                if (r <= 0 || !double.IsFinite(a) || a <= 0)
                {
                    Console.Error.WriteLine("olora adapter init: --rank and --alpha must be positive.");
                    return 1;
                }
                PeftAdapterWriter.WriteRandom(config, dir, r, a, modules, parse.GetValue(seed), parse.GetValue(rsLora), modelDir);
                Console.WriteLine($"wrote rank-{r} adapter ({string.Join(",", modules)}, {config.NumHiddenLayers} layers) to {dir}");
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or ModelFormatException or IOException)
            {
                Console.Error.WriteLine($"olora adapter init: {ex.Message}");
                return 1;
            }
        });
        return new Command("adapter", "LoRA adapter directories.") { init };
    }
}
