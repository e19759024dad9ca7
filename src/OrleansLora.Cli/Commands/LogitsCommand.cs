using System.CommandLine;
using OrleansLora.Engine.Quantization;
using System.Globalization;
using System.Text.Json;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;

namespace OrleansLora.Cli.Commands;

/// <summary>
/// <c>olora logits</c>: the last position's logits for a token sequence, to compare a checkpoint
/// against transformers (<c>model(torch.tensor([ids])).logits[0, -1]</c>).
/// </summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model directory.", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "Comma-separated token ids, e.g. 1,2,3.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print {\"tokens\":[...],\"logits\":[...]} with every logit." };
        var top = new Option<int>("--top") { Description = "Without --json: how many of the largest logits to list.", DefaultValueFactory = _ => 10 };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: float32, bfloat16, float16.", DefaultValueFactory = _ => "float32" };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "PEFT LoRA adapter directory applied to every position." };
        var quantization = new Option<QuantizationMode>("--quantization") { Description = "Linear layers as none, int8 or nf4 (native kernels).", DefaultValueFactory = _ => QuantizationMode.None };

        var command = new Command("logits", "Print the last position's logits for the given token ids.") { model, tokens, json, top, dtype, quantization, adapter };
        command.SetAction(parse =>
        {
            int[] ids;
            try
            {
                ids = parse.GetValue(tokens)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (FormatException)
            {
                Console.Error.WriteLine("olora logits: --tokens must be comma-separated integers, e.g. 1,2,3.");
                return 1;
            }
            try
            {
                using var llama = LlamaModel.Load(parse.GetValue(model)!.FullName, new ModelLoadOptions { Dtype = parse.GetValue(dtype)!, Quantization = parse.GetValue(quantization), MaxSequenceLength = Math.Max(ids.Length, 1) });
                float[] logits;
                if (parse.GetValue(adapter) is { } adapterDir)
                {
                    using var lora = PeftAdapter.Load(adapterDir.FullName, llama.Config);
                    using var table = new AdapterSlotTable(llama.Config, slots: 1, maxRank: lora.Rank, llama.Dtype);
                    table.Load(0, lora);
                    llama.Adapters = table;
                    logits = LastPositionLogits(llama, ids, adapterSlot: 0);
                    llama.Adapters = null;
                }
                else
                {
                    logits = LastPositionLogits(llama, ids);
                }
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { tokens = ids, logits }));
                }
                else
                {
                    foreach (var (value, id) in logits.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(parse.GetValue(top)))
                        Console.WriteLine($"{id,8} {value,12:F6}");
                }
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or Engine.Models.ModelFormatException or IOException)
            {
                Console.Error.WriteLine($"olora logits: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    private static float[] LastPositionLogits(LlamaModel llama, int[] ids, int adapterSlot = -1)
    {
        if (ids.Length == 0)
            throw new ArgumentException("--tokens is empty.");
        int vocab = llama.Config.VocabSize;
        if (ids.Any(i => (uint)i >= (uint)vocab))
            throw new ArgumentException($"token ids must be in [0, {vocab}).");
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = ids.Length, MaxSlots = 1, BudgetBytes = long.MaxValue });
        using var batch = new ForwardBatch([new BatchSequence(0, 0, ids.Length, adapterSlot)], ids, cache.MaxSequenceLength);
        using var output = llama.Forward(batch, cache);
        return output.data<float>().ToArray();
    }
}
