using System.Text.Json.Nodes;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// The adapter-file corpus: valid references, then broken and malicious safetensors files, configs, file
/// types and links. Each case's directory is its name, directly under the store root, so all three entry
/// points can name it.
/// </summary>
public static partial class AdapterCases
{
    private static readonly string[] Weights = [CaseContext.WeightsFile];
    private static readonly string[] Outside = ["outside the adapter store"];

    public static IReadOnlyList<AdapterCase> All { get; } = [.. Valid(), .. Truncations(), .. HeaderLengths(), .. Headers(), .. Offsets(), .. Dtypes(), .. Shapes(), .. NonFinite(), .. Ranks(), .. Configs(), .. FileTypes(), .. Links()];

    public static AdapterCase Get(string name) => All.Single(c => c.Name == name);

    private static AdapterCase Case(string slug, Outcome outcome, string[] mentions, Action<CaseContext> build) => new($"fz-{slug}", outcome, mentions, build);

    private static AdapterCase Refused(string slug, string[] mentions, Action<CaseContext> build) => Case(slug, Outcome.Refused, mentions, build);

    /// <summary>A valid adapter, then <paramref name="edit"/>.</summary>
    private static Action<CaseContext> From(Action<CaseContext> edit) => c =>
    {
        c.WriteValid();
        edit(c);
    };

    private static IEnumerable<AdapterCase> Valid() =>
    [
        Case("valid-f32", Outcome.Loads, [], From(_ => { })),
        Case("valid-bf16", Outcome.Loads, [], From(c => c.Retensor(_ => "BF16"))),
        Case("valid-f16", Outcome.Loads, [], From(c => c.Retensor(_ => "F16"))),
        Case("valid-mixed-dtypes", Outcome.Loads, [], From(c => c.Retensor(k => k.Contains("lora_A") ? "F16" : "F32"))),
        Case("valid-rank-1", Outcome.Loads, [], c => c.WriteValid(rank: 1)),
        Case("valid-rank-64", Outcome.Loads, [], c => c.WriteValid(rank: 64)),
        Case("valid-metadata-not-an-object", Outcome.Loads, [], From(c => c.EditHeader(h => h["__metadata__"] = 5))),
        Case("valid-gap-between-tensors", Outcome.Loads, [], From(c =>
        {
            // Tensor data with unused bytes between entries: wasteful, not wrong.
            var (header, data) = c.ReadWeights();
            var last = header.Where(p => p.Key != "__metadata__").OrderBy(p => (long)p.Value!["data_offsets"]![0]!).Last().Value!["data_offsets"]!.AsArray();
            long begin = (long)last[0]!, end = (long)last[1]!;
            var moved = new byte[data.Length + 64];
            data.AsSpan(0, (int)begin).CopyTo(moved);
            data.AsSpan((int)begin).CopyTo(moved.AsSpan((int)begin + 64));
            last[0] = begin + 64;
            last[1] = end + 64;
            c.WriteWeights(header.ToJsonString(), moved);
        })),
        Case("valid-files-linked-inside-the-store", Outcome.Loads, [], c =>
        {
            string shared = Path.Combine(c.StoreRoot, "fz-shared-blobs");
            if (!Directory.Exists(shared))
                c.WriteValid(directory: shared);
            c.WriteValid();
            c.ReplaceWithLink(CaseContext.ConfigFile, Path.Combine("..", "fz-shared-blobs", CaseContext.ConfigFile));
            c.ReplaceWithLink(CaseContext.WeightsFile, Path.Combine(shared, CaseContext.WeightsFile));
        }),
    ];

    private static IEnumerable<AdapterCase> FileTypes() =>
    [
        Refused("empty-directory", ["adapter_config.json not found"], c => Directory.CreateDirectory(c.Directory)),
        Refused("pickled-weights-only", ["safetensors"], From(c =>
        {
            File.Delete(c.WeightsPath);
            File.WriteAllBytes(Path.Combine(c.Directory, "adapter_model.bin"), [0x80, 0x02, 0x7d]);
        })),
        Refused("config-fifo", ["FIFO"], From(c => c.ReplaceWithFifo(CaseContext.ConfigFile))),
        Refused("weights-fifo", ["FIFO"], From(c => c.ReplaceWithFifo(CaseContext.WeightsFile))),
        Refused("config-directory", ["a directory"], From(c => c.ReplaceWithDirectory(CaseContext.ConfigFile))),
        Refused("weights-directory", ["a directory"], From(c => c.ReplaceWithDirectory(CaseContext.WeightsFile))),
        Refused("weights-dev-zero", Outside, From(c => c.ReplaceWithLink(CaseContext.WeightsFile, "/dev/zero"))),
        Refused("config-dev-zero", Outside, From(c => c.ReplaceWithLink(CaseContext.ConfigFile, "/dev/zero"))),
        Refused("config-proc-environ", Outside, From(c => c.ReplaceWithLink(CaseContext.ConfigFile, "/proc/self/environ"))),
        Refused("weights-dangling-link", ["not found"], From(c => c.ReplaceWithLink(CaseContext.WeightsFile, "nowhere.safetensors"))),
        Refused("config-link-loop", ["loop"], From(c =>
        {
            c.ReplaceWithLink(CaseContext.ConfigFile, "loop-b");
            File.CreateSymbolicLink(Path.Combine(c.Directory, "loop-b"), CaseContext.ConfigFile);
        })),
        Case("config-unreadable", Outcome.RefusedOrLoads, ["Permission denied"], From(c => c.MakeUnreadable(CaseContext.ConfigFile))),
        Case("weights-unreadable", Outcome.RefusedOrLoads, ["Permission denied"], From(c => c.MakeUnreadable(CaseContext.WeightsFile))),
    ];

    private static IEnumerable<AdapterCase> Links() =>
    [
        Refused("config-linked-out", Outside, From(c =>
        {
            string victim = c.WriteValidOutside();
            c.ReplaceWithLink(CaseContext.ConfigFile, Path.Combine(victim, CaseContext.ConfigFile));
        })),
        Refused("weights-linked-out", Outside, From(c =>
        {
            string victim = c.WriteValidOutside();
            c.ReplaceWithLink(CaseContext.WeightsFile, Path.Combine(victim, CaseContext.WeightsFile));
        })),
        Refused("weights-linked-out-relative", Outside, From(c =>
        {
            string victim = c.WriteValidOutside();
            c.ReplaceWithLink(CaseContext.WeightsFile, Path.GetRelativePath(c.Directory, Path.Combine(victim, CaseContext.WeightsFile)));
        })),
        Refused("config-dotdot-after-a-link", Outside, From(c =>
        {
            // sdeep -> outside/deep; the config -> sdeep/../victim/adapter_config.json: inside as text, outside on disk.
            c.WriteValidOutside();
            Directory.CreateDirectory(Path.Combine(c.Outside, "deep"));
            Directory.CreateSymbolicLink(Path.Combine(c.Directory, "sdeep"), Path.Combine(c.Outside, "deep"));
            c.ReplaceWithLink(CaseContext.ConfigFile, $"sdeep/../victim/{CaseContext.ConfigFile}");
        })),
        Case("directory-linked-out", Outcome.PathRefused, Outside, c => Directory.CreateSymbolicLink(c.Directory, c.WriteValidOutside())),
        Case("directory-dotdot-after-a-link", Outcome.PathRefused, Outside, c =>
        {
            c.WriteValidOutside();
            Directory.CreateDirectory(Path.Combine(c.Outside, "deep"));
            string sdeep = c.Directory + "-sdeep";
            if (!Directory.Exists(sdeep))
                Directory.CreateSymbolicLink(sdeep, Path.Combine(c.Outside, "deep"));
            Directory.CreateSymbolicLink(c.Directory, $"{Path.GetFileName(sdeep)}/../victim");
        }),
        Case("directory-link-loop", Outcome.PathRefused, ["loop"], c =>
        {
            Directory.CreateSymbolicLink(c.Directory, Path.GetFileName(c.Directory) + "-other");
            Directory.CreateSymbolicLink(c.Directory + "-other", Path.GetFileName(c.Directory));
        }),
    ];

    private static JsonObject Entry(string dtype, JsonArray shape, long begin, long end) =>
        new() { ["dtype"] = dtype, ["shape"] = shape, ["data_offsets"] = new JsonArray(begin, end) };
}
