using System.Text.Json;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The special-token settings of a Hugging Face model directory, merged from tokenizer_config.json,
/// special_tokens_map.json, added_tokens.json, chat_template.jinja, config.json and
/// generation_config.json. Every file is optional; what a field needs is checked by the loader.
/// </summary>
internal sealed record TokenizerConfigFile(
    string? BosToken,
    string? EosToken,
    string? UnkToken,
    string? PadToken,
    bool? AddBosToken,
    bool AddPrefixSpace,
    IReadOnlyDictionary<string, string>? ChatTemplates,
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<string> AdditionalSpecialTokens,
    IReadOnlyList<int> ModelEosTokenIds,
    int? ModelBosTokenId)
{
    public const string FileName = "tokenizer_config.json";

    public static TokenizerConfigFile Read(string directory)
    {
        string? bos = null, eos = null, unk = null, pad = null;
        IReadOnlyDictionary<string, string>? chatTemplates = null;
        bool? addBos = null;
        bool addPrefixSpace = false;
        var added = new List<AddedToken>();
        var additional = new List<string>();

        string configPath = Path.Combine(directory, FileName);
        if (File.Exists(configPath))
        {
            using var document = JsonFields.Parse(configPath);
            var root = JsonFields.RootObject(document, configPath);
            bos = JsonFields.TokenContent(root, "bos_token", configPath);
            eos = JsonFields.TokenContent(root, "eos_token", configPath);
            unk = JsonFields.TokenContent(root, "unk_token", configPath);
            pad = JsonFields.TokenContent(root, "pad_token", configPath);
            addBos = JsonFields.Get(root, "add_bos_token") is null ? null : JsonFields.Bool(root, "add_bos_token", false, configPath);
            addPrefixSpace = JsonFields.Bool(root, "add_prefix_space", false, configPath);
            chatTemplates = ReadChatTemplates(root, configPath);
            if (JsonFields.Get(root, "added_tokens_decoder") is JsonElement decoder)
                added.AddRange(ReadAddedTokensDecoder(decoder, configPath));
            additional.AddRange(ReadTokenList(root, "additional_special_tokens", configPath));
        }

        // Older checkpoints keep special tokens in special_tokens_map.json only.
        string mapPath = Path.Combine(directory, "special_tokens_map.json");
        if (File.Exists(mapPath))
        {
            using var document = JsonFields.Parse(mapPath);
            var root = JsonFields.RootObject(document, mapPath);
            bos ??= JsonFields.TokenContent(root, "bos_token", mapPath);
            eos ??= JsonFields.TokenContent(root, "eos_token", mapPath);
            unk ??= JsonFields.TokenContent(root, "unk_token", mapPath);
            pad ??= JsonFields.TokenContent(root, "pad_token", mapPath);
            additional.AddRange(ReadTokenList(root, "additional_special_tokens", mapPath));
        }

        string addedPath = Path.Combine(directory, "added_tokens.json");
        if (File.Exists(addedPath))
        {
            using var document = JsonFields.Parse(addedPath);
            foreach (var entry in JsonFields.RootObject(document, addedPath).EnumerateObject())
                added.Add(new AddedToken(JsonFields.Int(entry.Value, $"\"{entry.Name}\"", addedPath), entry.Name, Special: false));
        }

        chatTemplates = ReadTemplateFiles(directory) ?? chatTemplates;

        var eosIds = new List<int>();
        int? bosId = null;
        foreach (string name in new[] { "config.json", "generation_config.json" })
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
                continue;
            using var document = JsonFields.Parse(path);
            var root = JsonFields.RootObject(document, path);
            foreach (int id in ReadIds(root, "eos_token_id", path))
            {
                if (!eosIds.Contains(id))
                    eosIds.Add(id);
            }
            bosId ??= ReadIds(root, "bos_token_id", path).Cast<int?>().FirstOrDefault();
        }

        return new TokenizerConfigFile(bos, eos, unk, pad, addBos, addPrefixSpace, chatTemplates, added, additional, eosIds, bosId);
    }

    /// <summary>
    /// Templates saved beside the config, as transformers 4.43+ saves them: chat_template.jinja (the
    /// default) and additional_chat_templates/NAME.jinja. They take precedence over the config's.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? ReadTemplateFiles(string directory)
    {
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        string jinjaPath = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinjaPath))
            templates[Tokenization.ChatTemplate.DefaultName] = File.ReadAllText(jinjaPath);
        string additional = Path.Combine(directory, "additional_chat_templates");
        if (Directory.Exists(additional))
        {
            foreach (string file in Directory.EnumerateFiles(additional, "*.jinja").Order(StringComparer.Ordinal))
                templates[Path.GetFileNameWithoutExtension(file)] = File.ReadAllText(file);
        }
        return templates.Count == 0 ? null : templates;
    }

    /// <summary>tokenizer_config.json's chat_template: a string (the default), or a list of {"name", "template"}.</summary>
    public static IReadOnlyDictionary<string, string>? ReadChatTemplates(JsonElement root, string path)
    {
        if (JsonFields.Get(root, "chat_template") is not JsonElement value || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String)
            return new Dictionary<string, string> { [Tokenization.ChatTemplate.DefaultName] = value.GetString()! };
        if (value.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException(path, $"\"chat_template\" must be a string or a list of named templates, found {value.ValueKind}.");
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var named in value.EnumerateArray())
        {
            string name = JsonFields.String(named, "name", path) ?? throw new ModelFormatException(path, "a named chat template has no \"name\".");
            templates[name] = JsonFields.String(named, "template", path) ?? throw new ModelFormatException(path, $"chat template \"{name}\" has no \"template\".");
        }
        return templates.Count == 0 ? null : templates;
    }

    private static IEnumerable<AddedToken> ReadAddedTokensDecoder(JsonElement decoder, string path)
    {
        if (decoder.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "\"added_tokens_decoder\" must be an object of id to token.");
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, out int id))
                throw new ModelFormatException(path, $"added_tokens_decoder key \"{entry.Name}\" is not an integer id.");
            string content = JsonFields.String(entry.Value, "content", path)
                ?? throw new ModelFormatException(path, $"added_tokens_decoder[\"{entry.Name}\"] has no \"content\".");
            yield return new AddedToken(
                id,
                content,
                JsonFields.Bool(entry.Value, "special", false, path),
                JsonFields.Bool(entry.Value, "lstrip", false, path),
                JsonFields.Bool(entry.Value, "rstrip", false, path),
                JsonFields.Bool(entry.Value, "single_word", false, path));
        }
    }

    private static IEnumerable<string> ReadTokenList(JsonElement root, string name, string path)
    {
        foreach (var item in JsonFields.Array(root, name, path))
        {
            string? content = item.ValueKind == JsonValueKind.String ? item.GetString() : JsonFields.String(item, "content", path);
            if (content is null)
                throw new ModelFormatException(path, $"\"{name}\" entries must be strings or objects with \"content\".");
            yield return content;
        }
    }

    /// <summary>An id field that is an integer or a list of integers (Llama-3 lists several EOS ids).</summary>
    private static IEnumerable<int> ReadIds(JsonElement root, string name, string path)
    {
        if (JsonFields.Get(root, name) is not JsonElement value)
            return [];
        if (value.ValueKind == JsonValueKind.Array)
            return value.EnumerateArray().Select(v => JsonFields.Int(v, $"\"{name}\" entry", path)).ToList();
        return [JsonFields.Int(value, $"\"{name}\"", path)];
    }
}
