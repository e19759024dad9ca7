using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

// Broken and hostile adapter_config.json files: ranks, scaling, JSON, target_modules and unsupported PEFT features.
public static partial class AdapterCases
{
    private static Action<CaseContext> Config(Action<JsonObject> edit) => From(c => c.EditConfig(edit));

    private static IEnumerable<AdapterCase> Ranks() =>
    [
        Refused("rank-zero", ["\"r\" must be a positive integer"], Config(j => j["r"] = 0)),
        Refused("rank-negative", ["\"r\" must be a positive integer"], Config(j => j["r"] = -3)),
        Refused("rank-above-the-maximum", ["above the configured maximum"], c => c.WriteValid(rank: 65)),
        Refused("rank-huge", ["above the configured maximum"], Config(j => j["r"] = 100000)),
        Refused("rank-as-text", ["not valid JSON"], Config(j => j["r"] = "8")),
        Refused("rank-not-the-tensors", ["does not match the base model", "r = 8"], Config(j => j["r"] = 8)),
        Refused("rank-beyond-int32", ["not valid JSON"], Config(j => j["r"] = 4294967296L)),
        Refused("alpha-zero", ["lora_alpha"], Config(j => j["lora_alpha"] = 0)),
        Refused("alpha-negative", ["lora_alpha"], Config(j => j["lora_alpha"] = -16)),
        Refused("alpha-beyond-double", ["lora_alpha", "not valid JSON"], From(c => c.WriteConfigText(Regex.Replace(File.ReadAllText(c.ConfigPath), @"""lora_alpha""\s*:\s*[-+.0-9eE]+", "\"lora_alpha\": 1e999")))),
    ];

    private static IEnumerable<AdapterCase> Configs() =>
    [
        Refused("config-not-json", ["not valid JSON"], From(c => c.WriteConfigText("r = 8, lora_alpha = 16"))),
        Refused("config-empty-file", ["not valid JSON"], From(c => c.WriteConfigText(""))),
        Refused("config-null", ["is empty"], From(c => c.WriteConfigText("null"))),
        Refused("config-array", ["not valid JSON"], From(c => c.WriteConfigText("[1, 2]"))),
        Refused("config-nested-deeply", ["not valid JSON"], From(c => c.WriteConfigText("{\"x\":" + new string('[', 10000) + new string(']', 10000) + "}"))),
        Refused("config-oversized", ["more than"], From(c => c.WriteConfigText(File.ReadAllText(c.ConfigPath) + new string(' ', 2 << 20)))),
        Refused("config-invalid-utf8", ["not valid JSON"], From(c => File.WriteAllBytes(c.ConfigPath, [.. "{\"peft_type\":\""u8, 0xff, 0xfe, .. "\"}"u8]))),
        Refused("target-modules-catastrophic-regex", ["target_modules"], Config(j => j["target_modules"] = "(.*.*.*.*.*.*.*.*.*.*)*x")),
        Refused("target-modules-backtracking-regex", ["target_modules"], Config(j => j["target_modules"] = "(?=m)(.*.*.*.*.*.*.*.*.*.*.*.*)*x")),
        Refused("target-modules-invalid-regex", ["not a valid regular expression"], Config(j => j["target_modules"] = "((q_proj")),
        Refused("target-modules-long-regex", ["target_modules"], Config(j => j["target_modules"] = ".*(" + string.Join('|', Enumerable.Range(0, 2000).Select(i => $"m{i}")) + ")")),
        Refused("target-modules-empty-list", ["target_modules is empty"], Config(j => j["target_modules"] = new JsonArray())),
        Refused("target-modules-missing", ["target_modules is missing"], Config(j => j.Remove("target_modules"))),
        Refused("target-modules-number", ["target_modules"], Config(j => j["target_modules"] = 5)),
        Refused("target-modules-unknown-name", ["unknown target module"], Config(j => j["target_modules"] = new JsonArray("q_proj", "v_proj", "lm_head"))),
        Refused("target-modules-not-strings", ["target_modules must hold module names"], Config(j => j["target_modules"] = new JsonArray("q_proj", 3))),
        Refused("use-dora", ["DoRA"], Config(j => j["use_dora"] = true)),
        Refused("peft-type-prefix-tuning", ["PREFIX_TUNING"], Config(j => j["peft_type"] = "PREFIX_TUNING")),
        Refused("modules-to-save", ["modules_to_save"], Config(j => j["modules_to_save"] = new JsonArray("lm_head"))),
        Refused("bias-all", ["bias"], Config(j => j["bias"] = "all")),
        Refused("layers-to-transform-beyond", ["layers_to_transform"], Config(j => j["layers_to_transform"] = new JsonArray(0, 7))),
        Refused("rank-pattern", ["rank_pattern"], Config(j => j["rank_pattern"] = new JsonObject { ["q_proj"] = 2 })),
        Case("target-modules-regex-with-lookahead", Outcome.Loads, [], Config(j => j["target_modules"] = @"(?!.*k_proj).*\.(q_proj|v_proj)")),
        Case("config-with-bom-and-comments", Outcome.Loads, [], From(c => c.WriteConfigText("\uFEFF// written by hand\n" + File.ReadAllText(c.ConfigPath)))),
    ];
}
