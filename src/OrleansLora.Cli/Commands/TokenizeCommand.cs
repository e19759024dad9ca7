using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Cli.Commands;

/// <summary>
/// <c>olora tokenize</c>: the token ids of a text (or of a one-message chat rendered by the model's
/// chat template) as JSON, to compare with Hugging Face's tokenizer. Reads only the tokenizer
/// files, not the weights.
/// </summary>
internal static class TokenizeCommand
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model directory (tokenizer.json / tokenizer.model, tokenizer_config.json).", Required = true };
        var text = new Option<string>("--text") { Description = "The text to tokenize (with --chat: the user message).", Required = true };
        var chat = new Option<bool>("--chat") { Description = "Render --text as a user message with the model's chat template first." };
        var system = new Option<string?>("--system") { Description = "With --chat: a system message before the user message." };
        var chatTemplate = new Option<FileInfo?>("--chat-template") { Description = "With --chat: a Jinja template file (or a tokenizer_config.json) instead of the model's." };
        var addSpecialTokens = new Option<bool?>("--add-special-tokens")
        {
            Description = "Add the tokenizer's BOS (true|false). Default: true for text, false with --chat, where the template writes it (as transformers and vLLM do).",
        };

        var command = new Command("tokenize", "Print the token ids (and each id's share of the text) of a text or chat prompt as JSON.") { model, text, chat, system, chatTemplate, addSpecialTokens };
        command.SetAction(parse =>
        {
            try
            {
                var tokenizer = TokenizerLoader.Load(parse.GetValue(model)!.FullName);
                string input = parse.GetValue(text)!;
                bool isChat = parse.GetValue(chat);
                string? rendered = null;
                if (isChat)
                {
                    var template = parse.GetValue(chatTemplate) is { } file
                        ? ChatTemplateLoader.FromFile(file.FullName, tokenizer.ChatTemplate.Tokens)
                        : tokenizer.ChatTemplate;
                    var messages = new List<ChatMessage>();
                    if (parse.GetValue(system) is { } sys)
                        messages.Add(ChatMessage.System(sys));
                    messages.Add(ChatMessage.User(input));
                    rendered = template.Render(messages);
                }
                bool addBos = parse.GetValue(addSpecialTokens) ?? !isChat;
                var ids = tokenizer.Encode(rendered ?? input, addBos);
                // Each id's share of the decoded text (held-back bytes of a character go with the id that completes it).
                var pieces = new IncrementalDetokenizer(tokenizer, skipSpecialTokens: false);
                var tokens = ids.Select(pieces.Append).ToArray();
                Console.WriteLine(JsonSerializer.Serialize(new { count = ids.Count, ids, tokens, prompt = rendered }, Json));
                return 0;
            }
            catch (Exception e) when (e is ModelFormatException or IOException or ChatTemplateException)
            {
                Console.Error.WriteLine($"olora tokenize: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
