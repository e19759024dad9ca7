using System.CommandLine;
using OrleansLora.Engine.Quantization;
using System.Diagnostics;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Cli.Commands;

/// <summary><c>olora generate</c>: streams a completion to the terminal.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model directory.", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text.", Required = true };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt as a user message with the model's chat template." };
        var system = new Option<string?>("--system") { Description = "System message (with --chat)." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "0 is greedy.", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Sample from the k most likely tokens (0: off)." };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (1: off).", DefaultValueFactory = _ => 1f };
        var repetition = new Option<float>("--repetition-penalty") { Description = "1: off.", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed") { Description = "Sampling seed (same seed, same output)." };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequence (repeatable).", AllowMultipleArgumentsPerToken = false };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: float32, bfloat16, float16.", DefaultValueFactory = _ => "float32" };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "PEFT LoRA adapter directory to generate with." };
        var quantization = new Option<QuantizationMode>("--quantization") { Description = "Linear layers as none, int8 or nf4 (native kernels).", DefaultValueFactory = _ => QuantizationMode.None };

        var command = new Command("generate", "Generate text from a prompt, streaming tokens as they come.")
        {
            model, prompt, chat, system, maxTokens, temperature, topK, topP, repetition, seed, stop, dtype, quantization, adapter,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new InferenceEngineOptions
            {
                ModelPath = parse.GetValue(model)!.FullName,
                Dtype = parse.GetValue(dtype)!,
                Quantization = parse.GetValue(quantization),
                MaxBatchSize = 1,
                MaxLoras = 1,
                MaxLoraRank = 128,
                MaxBatchTokens = 512,
                KvCacheBytes = 256L * 1024 * 1024,
            };
            var sampling = new SamplingParams
            {
                MaxNewTokens = parse.GetValue(maxTokens),
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                RepetitionPenalty = parse.GetValue(repetition),
                Seed = parse.GetValue(seed),
                StopSequences = parse.GetValue(stop) ?? [],
            };
            try
            {
                using var engine = InferenceEngine.Create(options);
                string? adapterId = null;
                if (parse.GetValue(adapter) is { } adapterDir)
                {
                    adapterId = adapterDir.Name;
                    engine.RegisterAdapter(adapterId, adapterDir.FullName);
                }
                string text = parse.GetValue(prompt)!;
                bool addBos = true;
                if (parse.GetValue(chat))
                {
                    var messages = new List<ChatMessage>();
                    if (parse.GetValue(system) is { } sys)
                        messages.Add(new ChatMessage("system", sys));
                    messages.Add(new ChatMessage("user", text));
                    var template = engine.Tokenizer.ChatTemplate;
                    text = template.Render(messages);
                    addBos = !template.IncludesBos;
                }
                var watch = Stopwatch.StartNew();
                double? firstToken = null;
                GenerationChunk? last = null;
                await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { Prompt = text, AddBos = addBos, Sampling = sampling, AdapterId = adapterId }, cancellation))
                {
                    firstToken ??= watch.Elapsed.TotalMilliseconds;
                    Console.Write(chunk.TextDelta);
                    last = chunk;
                }
                Console.WriteLine();
                if (last?.Usage is { } usage)
                {
                    double seconds = watch.Elapsed.TotalSeconds;
                    Console.Error.WriteLine($"[{last.FinishReason}] prompt {usage.PromptTokens} tokens, generated {usage.CompletionTokens} in {seconds:F2} s " +
                        $"({usage.CompletionTokens / Math.Max(seconds, 1e-9):F1} tokens/s, first token {firstToken:F0} ms, seed {usage.Seed})");
                }
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or Engine.Models.ModelFormatException or IOException or InvalidOperationException)
            {
                Console.Error.WriteLine($"olora generate: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
